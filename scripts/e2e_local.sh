#!/usr/bin/env bash
# End-to-end test of the stack scripts and of the README walkthrough, with the
# stack as local processes (--local: pinned, so a docker-compose.yml and a
# Docker engine don't switch this test to compose mode) on the README's
# default ports (HTTP on 80 when run as root, else on 18080). Run by
# ./test.sh; needs nothing else running.
#
#   bash scripts/e2e_local.sh
#
# It runs the README's commands as README.md spells them (each one is first
# looked up verbatim in README.md, so the test fails when the two drift apart),
# starting from `./run.sh down -v`, and leaves nothing running and no data/
# behind, also when it fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

WALLET=28skwt5B8zTrs6AqBWrSgCHLcRL
DB=data/wallet_writer/datastore.db
STARTED=$SECONDS
STEP=preflight
ARMED=0 # 1 once the stack may be ours to clean up
SEEN_PIDS=() # "name:pid" of every stack process seen
TMP=$(mktemp -d)

log() { printf 'e2e: %s\n' "$*"; }
# shellcheck source=scripts/e2e_walkthrough.sh
source "$(dirname "${BASH_SOURCE[0]}")/e2e_walkthrough.sh"
step() {
	STEP=$1
	log "== $STEP ($((SECONDS - STARTED))s)"
}

on_exit() {
	local rc=$? f
	trap - EXIT INT TERM
	if ((rc != 0)); then
		log "FAILED at step: $STEP (exit $rc)"
		if ((ARMED)); then
			for f in data/logs/*.log; do
				[[ -f $f ]] || continue
				printf -- '----- last 30 lines of %s\n' "$f"
				tail -n 30 "$f" || true
			done
			log "cleaning up: ./run.sh down -v"
			./run.sh down -v --local || log "cleanup failed: ./run.sh down -v exited non-zero"
		fi
		log "$passed passed, 1 failed ($((SECONDS - STARTED))s)"
	fi
	rm -rf "$TMP"
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ((EUID == 0)); then
	export HTTP_PORT=80
else
	export HTTP_PORT=18080
	log "not root: port 80 needs root, so the HTTP entry is on HTTP_PORT=$HTTP_PORT" \
		"(README commands get http://localhost:$HTTP_PORT)"
fi
BASE_URL=http://localhost:$HTTP_PORT

# The stack's services and ports, derived from config/domains as the scripts derive them.
# shellcheck source=scripts/stack.sh
source scripts/stack.sh
STACK_ME=e2e
local_load_services || fail "config/domains: cannot read the stack's domains"
ports=$(local_ports) || fail "config/domains: cannot derive the stack's ports"
mapfile -t STACK_PORTS <<<"$ports"
log "services from config/domains: ${STACK_SERVICES[*]}"

for tool in curl jq sqlite3 redis-cli python3; do
	command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed"
done
PYTHON=python
if ! command -v python >/dev/null 2>&1; then
	PYTHON=python3
	log "WARNING: the README's 'python' is not on PATH; running its python lines with python3"
fi

port_owner() {
	command -v ss >/dev/null 2>&1 || return 0
	ss -Hltnp "sport = :$1" 2>/dev/null | head -n 1
}
# ports_free WHAT: fails naming the first stack port something listens on.
ports_free() {
	local p
	for p in "${STACK_PORTS[@]}"; do
		if port_busy "$p"; then
			log "port $p is in use: $(port_owner "$p")"
			fail "$1: port $p is in use"
		fi
	done
}

# ---------------------------------------------------------------------------
# README commands: each is looked up verbatim in README.md, then run with the
# HTTP port (when not 80) and the python interpreter adapted.

adapt() {
	local c=$1
	if ((HTTP_PORT != 80)); then
		c=${c//http:\/\/localhost\//http://localhost:$HTTP_PORT/}
		[[ $c == *'--base-url http://localhost' ]] && c+=":$HTTP_PORT"
	fi
	[[ $PYTHON == python ]] || c=${c/#python -m /$PYTHON -m }
	printf '%s\n' "$c"
}

# ---------------------------------------------------------------------------
# Stack helpers.

# remember_pids records the processes of data/run/*.pid.
remember_pids() {
	local f name pid
	for f in data/run/*.pid; do
		[[ -f $f ]] || continue
		name=${f##*/}
		name=$(svc_program "${name%.pid}")
		pid=$(<"$f")
		SEEN_PIDS+=("$name:$pid")
	done
}

current_pids() { cat data/run/*.pid 2>/dev/null | sort | tr '\n' ' '; }

# no_stack_process WHAT fails if a remembered stack process still runs.
no_stack_process() {
	local entry name pid comm stat
	for entry in "${SEEN_PIDS[@]}"; do
		name=${entry%%:*}
		pid=${entry#*:}
		stat=$(ps -o stat= -p "$pid" 2>/dev/null) || continue
		[[ $stat == Z* ]] && continue
		comm=$(ps -o comm= -p "$pid" 2>/dev/null) || continue
		[[ ${comm##*/} == "${name:0:15}" ]] && fail "$1: $name (pid $pid) is still running"
	done
	ports_free "$1"
	ok "$1: no stack process left, ports ${STACK_PORTS[*]} free"
}

# start_background WHAT: ./run_in_background.sh prints the base URL, exit 0.
start_background() {
	local out rc=0
	out=$(./run_in_background.sh --local) || rc=$?
	((rc == 0)) || fail "$1: ./run_in_background.sh exited $rc"
	[[ $out == "$BASE_URL" ]] || fail "$1: ./run_in_background.sh printed '$out' on stdout, want '$BASE_URL'"
	remember_pids
	ok "$1: ./run_in_background.sh exit 0, stdout $out"
}

# ---------------------------------------------------------------------------
step "preflight: nothing listens on the stack's ports"
ports_free "something listens on a stack port; stop it first (if it is this checkout's stack: ./run.sh down)"
ok "ports ${STACK_PORTS[*]} are free"
ARMED=1

step "fresh start: ./run.sh down -v, ./run_in_background.sh (twice)"
./run.sh down -v --local || fail "./run.sh down -v exited $?"
[[ ! -e data ]] || fail "data/ still exists after ./run.sh down -v"
ok "./run.sh down -v on a stopped stack: exit 0, no data/"
start_background "first start"
pids=$(current_pids)
for svc in "${STACK_SERVICES[@]}"; do
	[[ -n $(svc_pid "$svc") ]] || fail "$svc (of config/domains' stack) is not running after the start"
done
ok "every service derived from config/domains runs: ${STACK_SERVICES[*]}"
if command -v ss >/dev/null 2>&1 && [[ -z ${BIND_ADDR:-} ]]; then
	for p in "${STACK_PORTS[@]}"; do
		((p == HTTP_PORT)) && continue
		addrs=$(ss -Hltn "sport = :$p" | awk '{ print $4 }' | sort -u | tr '\n' ' ')
		[[ $addrs == "127.0.0.1:$p " ]] || fail "port $p is bound on '$addrs', want 127.0.0.1 only"
	done
	ok "every port but the HTTP entry's is bound on 127.0.0.1 only"
fi
start_background "second start (already running)"
[[ $(current_pids) == "$pids" ]] || fail "the second start changed the stack's processes: $pids -> $(current_pids)"
ok "the second start left the running services alone"

step "walkthrough"
walkthrough "sqlite3 $DB"
sessions_walkthrough
locks_walkthrough

step "hammer it (README load lines, bounded with --duration 3)"
# load_line README_LINE: runs the line with --duration 3 appended; checks the summary.
load_line() {
	local c err=$TMP/load.err summary rc=0
	readme_line "$1"
	c="$(adapt "$1") --duration 3"
	log "\$ $c"
	bash -c "$c" >/dev/null 2>"$err" || rc=$?
	if ((rc != 0)); then
		cat "$err"
		fail "exit $rc from: $c"
	fi
	summary=$(sed -n '/^--- summary/,$p' "$err")
	printf '%s\n' "$summary" | sed 's/^/    /'
	if ! grep -q '(responses [1-9][0-9]*, transport errors 0)$' <<<"$summary" ||
		! grep -Eq '^status: +200: [1-9][0-9]*' <<<"$summary"; then
		fail "want a summary with 0 transport errors and a non-zero 200 count; got:"$'\n'"$(cat "$err")"
	fi
	ok "$2: $(grep -o '^status:.*' <<<"$summary" | tr -s ' '), 0 transport errors"
}
load_line "python -m utils.curl -s --loop --workers 64 --period 0 http://localhost/wallet/$WALLET/balance" "read load"
load_line "python -m utils.curl --loop --workers 16 --period 0 -s -X POST -d '{\"amount\": 5}' http://localhost/wallet/$WALLET/credit" "write load"

verify="python -m utils.verify --base-url http://localhost"
readme_line "$verify"
c=$(adapt "$verify")
log "\$ $c"
rc=0
out=$(bash -c "$c") || rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
[[ $rc == 0 && $(tail -n 1 <<<"$out") == PASS:* ]] || fail "utils.verify did not PASS (exit $rc)"
ok "utils.verify: exit 0, $(tail -n 1 <<<"$out")"

step "restart keeping data: ./run.sh down, ./run_in_background.sh"
before=$(curl -fsS "$BASE_URL/wallet/$WALLET/balance") || fail "GET balance failed"
expect_json "balance before the restart grew with the credits" "$before" '.version > 2'
./run.sh down --local || fail "./run.sh down exited $?"
[[ -s $DB ]] || fail "./run.sh down removed $DB"
no_stack_process "after ./run.sh down"
ok "./run.sh down kept $DB"
start_background "restart"
after=$(curl -fsS "$BASE_URL/wallet/$WALLET/balance") || fail "GET balance after the restart failed"
same_json "balance survives the restart (read through to the state log)" "$after" "$before"
deadline=$((SECONDS + 5))
until [[ -n $(redis-cli GET "wallet.$WALLET") ]] || ((SECONDS >= deadline)); do sleep 0.1; done
same_json "the read restored the document in Redis" "$(redis-cli GET "wallet.$WALLET")" "$before"

step "teardown: ./run.sh down -v"
./run.sh down -v --local || fail "./run.sh down -v exited $?"
[[ ! -e data ]] || fail "data/ still exists after ./run.sh down -v"
ok "./run.sh down -v deleted data/"
no_stack_process "after ./run.sh down -v"

log "$passed passed, 0 failed ($((SECONDS - STARTED))s)"
