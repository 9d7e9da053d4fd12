#!/usr/bin/env bash
# End-to-end test of the stack under Docker Compose (--docker): ./pull.sh (pulling, or
# building the stand-ins when no registry answers), ./build.sh, ./run_in_background.sh
# (twice), the README walkthrough (its lines looked up verbatim in README.md), a SIGKILL of
# the writer container during a load of keyed writes (compose restarts it; every
# acknowledged write must still be there, none applied twice), ./run.sh down (volumes kept),
# ./run_in_background.sh (data kept), ./run.sh in the foreground stopped by a signal, and
# ./run.sh down -v. Run by ./test.sh; skipped, with a message, when no Docker engine answers.
#
#   bash scripts/e2e_compose.sh        (E2E_KEEP_IMAGES=1 keeps the images it built)
#
# It uses its own compose project (uneventful_e2e), so a stack of this checkout started by
# the scripts keeps its volumes; it needs the stack's ports (80, 4222, 8222, 6379, 8081)
# free. On exit it removes its containers, volumes, the images it built and the .env it
# generated.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/stack.sh
source scripts/stack.sh
STACK_ME=e2e-compose

log() { printf 'e2e-compose: %s\n' "$*"; }
# shellcheck source=scripts/e2e_walkthrough.sh
source "$(dirname "${BASH_SOURCE[0]}")/e2e_walkthrough.sh"

# shellcheck source=scripts/e2e_compose_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/e2e_compose_lib.sh"
e2e_compose_preflight

export HTTP_PORT=80 COMPOSE_PROJECT_NAME=uneventful_e2e
WALLET=28skwt5B8zTrs6AqBWrSgCHLcRL
BASE_URL=http://localhost
STACK_PORTS=(80 4222 8222 6379 8081)
ENV_WAS_THERE=0
[[ -e .env ]] && ENV_WAS_THERE=1
e2e_cleanup_more() { ((ENV_WAS_THERE)) || rm -f .env; }
e2e_compose_init

e2e_need_tools curl jq redis-cli python3 timeout

# The containers the stack runs, derived from config/domains: the shared five (broker,
# cache, history writer, tracker, router) and each domain's services (2 server replicas each).
load_domains || fail "config/domains: cannot read the stack's domains"
WANT_CONTAINERS=5
WANT_SERVICES=(message_broker cache history_writer_service tracker_service router)
for d in "${DOMAINS[@]}"; do
	while read -r svc n; do
		WANT_SERVICES+=("$svc")
		WANT_CONTAINERS=$((WANT_CONTAINERS + n))
	done < <(domain_compose_services "$d")
done
log "services from config/domains: ${WANT_SERVICES[*]} ($WANT_CONTAINERS containers)"
PYTHON=python
command -v python >/dev/null 2>&1 || PYTHON=python3

# ---------------------------------------------------------------------------
# README lines, run as written ("docker-compose" becomes this machine's compose command).
adapt() {
	local c=$1
	c=${c//docker-compose /$COMPOSE }
	[[ $PYTHON == python ]] || c=${c/#python -m /$PYTHON -m }
	printf '%s\n' "$c"
}

ports_free() {
	local p
	for p in "${STACK_PORTS[@]}"; do
		port_busy "$p" && fail "$1: port $p is in use"
	done
	return 0
}

# start_background WHAT: ./run_in_background.sh --docker prints the base URL, exit 0.
start_background() {
	local out rc=0
	out=$(./run_in_background.sh --docker) || rc=$?
	((rc == 0)) || fail "$1: ./run_in_background.sh exited $rc"
	[[ $out == "$BASE_URL:$HTTP_PORT" ]] || fail "$1: stdout '$out', want '$BASE_URL:$HTTP_PORT'"
	ok "$1: ./run_in_background.sh exit 0, every container healthy, stdout $out"
}

container_ids() { $COMPOSE ps -q | sort | tr '\n' ' '; }

# ---------------------------------------------------------------------------
step "preflight: the stack's ports are free"
ports_free "something listens on a stack port; stop it first (this checkout's stack: ./run.sh down)"
ok "ports ${STACK_PORTS[*]} are free; compose: $COMPOSE"
ARMED=1
$COMPOSE down -v --remove-orphans >/dev/null 2>&1 || true

step "./pull.sh"
./pull.sh --docker 2>"$TMP/pull.err" || {
	cat "$TMP/pull.err"
	fail "./pull.sh exited non-zero"
}
sed 's/^/    /' "$TMP/pull.err"
while read -r image; do
	docker image inspect "$image" >/dev/null 2>&1 || fail "./pull.sh left $image missing"
done < <(compose_public_images)
ok "./pull.sh: every public image is present (pulled or stand-in, as it says above)"
[[ -s .env ]] || fail "no .env generated"
# shellcheck disable=SC2015 # fail exits
grep -q '^REDIS_PASSWORD=[0-9a-f]\{48\}$' .env && grep -q '^NATS_PASSWORD=[0-9a-f]\{48\}$' .env ||
	fail ".env lacks generated passwords"
ok ".env holds generated NATS and Redis passwords"
if git ls-files --error-unmatch .env >/dev/null 2>&1 || ! git check-ignore -q .env; then
	fail ".env is tracked or not ignored by git"
fi
ok ".env is ignored by git"

step "./build.sh"
./build.sh --docker || fail "./build.sh exited $?"
for s in $(compose_services); do
	user=$(docker image inspect -f '{{.Config.User}}' "uneventful/$s:latest") || fail "uneventful/$s missing"
	[[ $user =~ ^[1-9][0-9]*(:[0-9]+)?$ ]] || fail "uneventful/$s runs as '$user', want a numeric non-root user"
done
ok "./build.sh: our images ($(compose_services | tr '\n' ' ')) exist and run as numeric non-root users"

step "./run_in_background.sh (twice)"
start_background "first start"
ids=$(container_ids)
(($(wc -w <<<"$ids") == WANT_CONTAINERS)) || fail "want $WANT_CONTAINERS containers (from config/domains), got: $ids"
for svc in "${WANT_SERVICES[@]}"; do
	[[ -n $($COMPOSE ps -q "$svc") ]] || fail "no container of $svc (config/domains)"
done
ok "$WANT_CONTAINERS containers, one or more of each service config/domains derives"
our_images() { docker images -q --no-trunc 'uneventful/*' | sort | tr '\n' ' '; }
images=$(our_images)
start_background "second start (already running)"
if [[ $(our_images) != "$images" ]]; then
	# Only when the source changed between the two starts (others editing this tree).
	log "note: the Go sources changed between the starts, so the images were rebuilt and their containers recreated"
else
	[[ $(container_ids) == "$ids" ]] || fail "the second start changed the containers though the images did not change"
	ok "the second start rebuilt identical images and left the $WANT_CONTAINERS running containers alone"
fi
redis-cli PING 2>/dev/null | grep -q NOAUTH || fail "Redis answered without a password"
ok "Redis refuses commands without the password (NOAUTH)"
curl -fsS -m 5 http://127.0.0.1:8222/varz | jq -e '.auth_required == true' >/dev/null || fail "NATS does not require auth"
ok "NATS requires a user and password (auth_required)"

step "walkthrough"
export_line="export REDISCLI_AUTH=\$(sed -n 's/^REDIS_PASSWORD=//p' .env)"
readme_line "$export_line"
eval "$export_line"
export REDISCLI_AUTH
# shellcheck disable=SC2016 # a README line
export_line='export NATS_URL=nats://$(sed -n '"'s/^NATS_USER=//p'"' .env):$(sed -n '"'s/^NATS_PASSWORD=//p'"' .env)@127.0.0.1:4222'
readme_line "$export_line"
eval "$export_line"
export NATS_URL
[[ -x bin/uneventful ]] || fail "./build.sh --docker did not build bin/uneventful"
walkthrough "docker-compose exec -T wallet_writer_service sqlite3 data/wallet_writer/datastore.db"
sessions_walkthrough
locks_walkthrough

# The history grows while the queue's last operations land: compare the events the router
# served with as many read directly.
via_router=$(curl -fsS -m 5 "$BASE_URL/history?after=0&limit=100") || fail "GET /history through the router failed"
n=$(jq '.events | length' <<<"$via_router")
direct=$(curl -fsS -m 5 "$BASE_URL:8081/history?after=0&limit=$n") || fail "GET :8081/history failed"
same_json "the router serves the same history on the HTTP entry ($n events)" "$(jq -c .events <<<"$via_router")" "$(jq -c .events <<<"$direct")"
out=$(bash scripts/e2e_compose_router.sh "$BASE_URL" 2>&1) || {
	printf '%s\n' "$out"
	fail "the router's own answers are not all C3 JSON (scripts/e2e_compose_router.sh)"
}
ok "the router's own answers are C3 JSON: $(tail -n 1 <<<"$out")"

verify="python -m utils.verify --base-url http://localhost"
readme_line "$verify"
c=$(adapt "$verify")
log "\$ $c"
rc=0
out=$(timeout 120 bash -c "$c") || rc=$?
[[ $rc == 0 && $(tail -n 1 <<<"$out") == PASS:* ]] || {
	printf '%s\n' "$out"
	fail "utils.verify did not PASS (exit $rc)"
}
ok "utils.verify through the router and both replicas: $(tail -n 1 <<<"$out")"

step "SIGKILL the writer container during a load of keyed writes"
# Six writers, one fresh wallet each, send credits of 1.00 one after another, each with its
# own Idempotency-Key, recording the status; the writer's process is killed mid-load.
WALLETS=(28skwt5B8zTrs6AqBWrSgCHLcRA 28skwt5B8zTrs6AqBWrSgCHLcRB 28skwt5B8zTrs6AqBWrSgCHLcRC
	28skwt5B8zTrs6AqBWrSgCHLcRD 28skwt5B8zTrs6AqBWrSgCHLcRE 28skwt5B8zTrs6AqBWrSgCHLcRF)
LOAD_SECONDS=12
keyed_load() { # WALLET INDEX: one line "key status" per request
	local w=$1 i=$2 n=0 code end=$((SECONDS + LOAD_SECONDS))
	while ((SECONDS < end)); do
		n=$((n + 1))
		code=$(curl -s -o /dev/null -w '%{http_code}' -m 10 -X POST -H "Idempotency-Key: e2e-$i-$n" \
			-d '{"amount": 1}' "$BASE_URL/wallet/$w/credit") || true
		printf 'e2e-%s-%s %s\n' "$i" "$n" "$code" >>"$TMP/load.$i"
	done
}
restarts_before=$(docker inspect -f '{{.RestartCount}}' "$(writer_id)")
for i in "${!WALLETS[@]}"; do
	keyed_load "${WALLETS[i]}" "$i" &
	LOAD_PIDS+=" $!"
done
sleep 3
pid=$(docker inspect -f '{{.State.Pid}}' "$(writer_id)")
if ((EUID == 0)) && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == wallet_writer ]]; then
	# A crash, as the kernel would cause it: the restart policy applies (after `docker kill`
	# the engine treats the container as stopped by hand and does not restart it).
	kill -KILL "$pid" || fail "kill -KILL $pid failed"
	log "killed the writer's process $pid (SIGKILL) under load"
	restarted_by=policy
else
	docker kill -s KILL "$(writer_id)" >/dev/null || fail "docker kill failed"
	log "not root, or the engine's processes are not ours to see: docker kill -s KILL, then '$COMPOSE up -d' restarts it"
	sleep 1
	$COMPOSE up -d --no-build >/dev/null 2>&1 || fail "compose up -d after the kill failed"
	restarted_by=compose
fi
# shellcheck disable=SC2086
wait $LOAD_PIDS
LOAD_PIDS=
cat "$TMP"/load.* >"$TMP/load"
total=$(wc -l <"$TMP/load")
acked=$(grep -c ' 200$' "$TMP/load" || true)
log "load: $total keyed requests, $acked acknowledged (200), the rest: $(grep -v ' 200$' "$TMP/load" | cut -d' ' -f2 | sort | uniq -c | tr -s ' ' | tr '\n' ',')"
((acked > 0)) || fail "no write of the load was acknowledged"
((acked < total)) || log "note: every request was acknowledged (none was in flight at the kill)"
compose_wait_ready || fail "the stack did not become healthy again after the kill"
restarts=$(docker inspect -f '{{.RestartCount}}' "$(writer_id)")
[[ $restarted_by == compose ]] || ((restarts > restarts_before)) ||
	fail "the writer container's restart count did not grow ($restarts_before -> $restarts)"
ok "the writer container was restarted (by the $restarted_by; restart count $restarts_before -> $restarts) and is healthy"

# Retry every unacknowledged request with its key until acknowledged: afterwards each key
# must have been applied exactly once.
deadline=$((SECONDS + 60))
while read -r key code; do
	[[ $code == 200 ]] && continue
	i=${key#e2e-}
	i=${i%%-*}
	until [[ $(curl -s -o /dev/null -w '%{http_code}' -m 10 -X POST -H "Idempotency-Key: $key" \
		-d '{"amount": 1}' "$BASE_URL/wallet/${WALLETS[i]}/credit") == 200 ]]; do
		((SECONDS < deadline)) || fail "the retry of $key was not acknowledged within 60 s"
		sleep 0.2
	done
done <"$TMP/load"
ok "every unacknowledged request, retried with its Idempotency-Key, is acknowledged"
keys_in_log=$(sql "SELECT idempotency_key FROM event WHERE outcome = 'accepted' AND idempotency_key LIKE 'e2e-%';" |
	sed -n 's/^ *idempotency_key = //p' | sort)
missing_keys=$(comm -23 <(grep ' 200$' "$TMP/load" | cut -d' ' -f1 | sort) <(printf '%s\n' "$keys_in_log") | head -n 5)
[[ -z $missing_keys ]] || fail "acknowledged writes missing from the event table: $missing_keys"
ok "all $acked writes acknowledged before/through the kill are in the event table"
[[ -z $(uniq -d <<<"$keys_in_log") ]] || fail "a key was applied twice: $(uniq -d <<<"$keys_in_log" | head -n 3)"
for i in "${!WALLETS[@]}"; do
	n=$(wc -l <"$TMP/load.$i")
	got=$(balance "${WALLETS[i]}") || fail "GET balance of wallet $i failed"
	expect_json "wallet $i: $n keyed credits of 1.00 applied exactly once" "$got" \
		".version == $n and .balance == \"$n.00\""
done
events=$(writer_events)
wait_history "$BASE_URL:8081/history" "$events" 30
ok "the history writer holds exactly the writer's $events wallet events (published through the kill, none twice)"
run_adapted "docker-compose exec -T wallet_writer_service wallet_writer verify"
# shellcheck disable=SC2016 # a README line, backquotes included
readme_line '`docker-compose exec -T wallet_writer_service wallet_writer verify` replays the event log'
ok "wallet_writer verify in the container: the event log replays to the state log"

step "./run.sh down keeps the volumes; ./run_in_background.sh brings the data back"
before=$(balance "$WALLET")
before_a=$(balance "${WALLETS[0]}")
./run.sh down --docker || fail "./run.sh down exited $?"
[[ -z $($COMPOSE ps -q) ]] || fail "containers left after ./run.sh down"
docker volume inspect "${COMPOSE_PROJECT_NAME}_wallet_writer_data" >/dev/null 2>&1 || fail "./run.sh down removed the writer's volume"
ok "./run.sh down: no container left, the writer's volume kept"
start_background "restart"
same_json "the walkthrough wallet survives (read through the state log into the fresh Redis)" "$(balance "$WALLET")" "$before"
same_json "a wallet of the kill phase survives" "$(balance "${WALLETS[0]}")" "$before_a"
curl -fsS -m 5 "$BASE_URL:8081/history?after=0&limit=1" | jq -e '.newest > 2' >/dev/null || fail "history lost its events"
ok "the history writer kept its log"

step "./run.sh in the foreground; a signal stops the stack"
: >"$TMP/fg.out" # before the background job opens it, so the wait below can read it at once
./run.sh --docker >"$TMP/fg.out" 2>"$TMP/fg.err" &
fg=$!
# The base URL is the first line, printed once every container is healthy; the attached
# containers' output follows it. run.sh itself gives up (and exits) after
# COMPOSE_READY_TIMEOUT seconds, so this waits for one of the two; the deadline only
# catches a run.sh that hangs.
hang=$((${COMPOSE_READY_TIMEOUT:-180} + 120))
deadline=$((SECONDS + hang))
until (($(wc -l <"$TMP/fg.out") > 0)); do
	kill -0 "$fg" 2>/dev/null || fail "./run.sh exited before it printed a base URL: $(tail -n 5 "$TMP/fg.err")"
	((SECONDS < deadline)) || fail "./run.sh neither printed a base URL nor gave up within $hang s: it hangs"
	sleep 0.5
done
url=$(head -n 1 "$TMP/fg.out")
[[ $url == "$BASE_URL:$HTTP_PORT" ]] || fail "./run.sh printed '$url' as its first line"
ok "./run.sh: ready, printed $url"
kill -TERM "$fg"
rc=0
timeout 90 tail --pid="$fg" -f /dev/null || fail "./run.sh did not exit within 90 s of SIGTERM"
wait "$fg" || rc=$?
running=$($COMPOSE ps -q | xargs -r docker inspect -f '{{.State.Running}}' | grep -c true || true)
((running == 0)) || fail "$running containers still running after ./run.sh exited"
ok "./run.sh exited ($rc) on SIGTERM and stopped every container"

step "./run.sh down -v"
./run.sh down -v --docker || fail "./run.sh down -v exited $?"
[[ -z $(docker volume ls -q --filter "name=${COMPOSE_PROJECT_NAME}_") ]] || fail "volumes left: $(docker volume ls -q --filter "name=${COMPOSE_PROJECT_NAME}_")"
ok "./run.sh down -v: containers and volumes gone"
ports_free "after ./run.sh down -v"
ok "ports ${STACK_PORTS[*]} are free again"
step "done"
log "phase times: $(printf '%s; ' "${TIMINGS[@]}")"
