#!/usr/bin/env bash
# Faults of the stack under Docker Compose, each during a keyed load of credits and debits
# (scripts/faults_load.py: every POST with its own Idempotency-Key; an answer that leaves the
# outcome open, a timeout, a broken connection, 502, 503 or 504, is retried with the same key
# until a real outcome; readers check no read goes back to an older version):
#   1. `cache` (Redis, no persistence) restarted mid-load: the writer rebuilds every
#      wallet's document with no client asking, and once more with no load at all;
#   2. `message_broker` (NATS) restarted mid-load: the services reconnect and the history
#      ends up holding exactly the writer's events, gapless;
#   3. the writer's volume (a small tmpfs, docker/faults.compose.yml) filled: writes answer
#      503 with a log line saying why, reads go on, nothing refused is in the log; space
#      freed, writes succeed again with no restart.
# After each: every acknowledged command is in the event log exactly once (by key), the log
# holds nothing else, each wallet's accepted commands fold to its balance in the state log,
# Redis and the API, and `wallet_writer verify` replays the log to the state log. Prints a
# FIGURES line per fault (docs/reliability.md, "Faults under Docker Compose").
#
#   bash scripts/e2e_compose_faults.sh     (E2E_KEEP_IMAGES=1 keeps the images it built)
#
# Run by ./test.sh after scripts/e2e_compose.sh; skipped, with a message, when no Docker
# engine answers. It uses its own compose project (${FAULTS_PROJECT:-uneventful_faults}), its own credentials
# (never .env) and publishes the stack's ports on ${FAULTS_BIND_ADDR:-127.0.0.2}, so it
# clashes neither with a stack of this checkout nor with scripts/e2e_compose.sh. On exit it
# removes its containers, volumes and the images it built.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/stack.sh
source scripts/stack.sh
STACK_ME=e2e-faults

log() { printf 'e2e-faults: %s\n' "$*"; }
# shellcheck source=scripts/e2e_walkthrough.sh
source scripts/e2e_walkthrough.sh
# shellcheck source=scripts/e2e_compose_lib.sh
source scripts/e2e_compose_lib.sh
e2e_compose_preflight
e2e_compose_init
e2e_need_tools curl jq python3 timeout

# Credentials of our own, in the environment (compose prefers it to .env): a user's .env and
# a concurrent run of e2e_compose.sh, which deletes the .env it made, are left alone.
COMPOSE_ENV=$TMP/env
compose_env 2>/dev/null
set -a
# shellcheck source=/dev/null
source "$COMPOSE_ENV"
set +a
export COMPOSE_PROJECT_NAME=${FAULTS_PROJECT:-uneventful_faults}
# FAULTS_COMPOSE_EXTRA: one more compose file layered on top (e.g. other image names, so a run
# on a shared engine leaves the uneventful/* tags alone).
export COMPOSE_FILE=docker-compose.yml:docker/faults.compose.yml${FAULTS_COMPOSE_EXTRA:+:$FAULTS_COMPOSE_EXTRA}
export BIND_ADDR=${FAULTS_BIND_ADDR:-127.0.0.2} HTTP_PORT=${FAULTS_HTTP_PORT:-80}
BASE_URL=http://$BIND_ADDR:$HTTP_PORT
REDIS=$BIND_ADDR:6379
WRITER_VOLUME=${COMPOSE_PROJECT_NAME}_wallet_writer_data
AROUND=${FAULTS_LOAD_AROUND:-4} # seconds of load before and after each fault
LOADER=(python3 scripts/faults_load.py)
# 12 wallets written by the loads, 4 written only before the first fault (then only read).
mapfile -t ACTIVE < <(for i in $(seq 1 12); do printf '2FaultsWallet%014d\n' "$i"; done)
mapfile -t IDLE < <(for i in $(seq 101 104); do printf '2FaultsWallet%014d\n' "$i"; done)
join() { local IFS=,; printf '%s' "$*"; }
now_ms() { date +%s%3N; }
FIGURES=()

# load PREFIX [SECONDS [WALLETS]]: the keyed load in the background (LOAD_PIDS) for at most
# SECONDS (default 120), or until load_wait; its records in $TMP/PREFIX.jsonl, its summary
# in $TMP/PREFIX.out. It has run AROUND seconds when this returns.
load() {
	"${LOADER[@]}" load --base-url "$BASE_URL" --redis "$REDIS" --prefix "$1" --seconds "${2:-120}" \
		--wallets "${3:-$(join "${ACTIVE[@]}")}" --read-also "$(join "${IDLE[@]}")" \
		--stop-file "$TMP/$1.stop" --out "$TMP/$1.jsonl" >"$TMP/$1.out" 2>"$TMP/$1.err" &
	LOAD_PIDS=$!
	sleep "$AROUND"
}

# load_wait PREFIX: stops the load AROUND seconds from now and waits for it (bounded: it
# settles within 90 s); fails if a reader saw a version go back, a balance differ, a 500, or
# a command got no outcome.
load_wait() {
	local rc=0
	sleep "$AROUND"
	: >"$TMP/$1.stop"
	timeout 240 tail --pid="$LOAD_PIDS" -f /dev/null || fail "the $1 load did not end"
	wait "$LOAD_PIDS" || rc=$?
	LOAD_PIDS=
	if ((rc != 0)); then
		cat "$TMP/$1.out" "$TMP/$1.err" >&2
		fail "the $1 load failed (exit $rc)"
	fi
	ok "$1 load: $(jq -c '{commands, acknowledged, rejected, retries, retried_answers, slowest_write_ms, api_reads, redis_reads, redis_misses, redis_read_errors, older_than_served}' "$TMP/$1.out")"
}

# sql_json EXPR: the value of one SQL expression (a JSON document) on the writer's database.
sql_json() { sql "SELECT $1 AS j;" | sed -n 's/^j = //p'; }

dump_log() {
	sql_json "(SELECT json_group_array(json_object('key', idempotency_key, 'stream', stream,
		'version', version, 'command', command, 'data', json(data), 'outcome', outcome,
		'events', json(events))) FROM event)" >"$TMP/log.json"
	sql_json "(SELECT json_group_array(json_object('stream', stream, 'state', json(state)))
		FROM state s WHERE version = (SELECT max(version) FROM state WHERE stream = s.stream))" >"$TMP/states.json"
	[[ -s $TMP/log.json && -s $TMP/states.json ]] || fail "could not read the writer's event and state logs"
}

# check_all WHAT: the event log against every command any client sent so far, the balances,
# the history (complete first: its newest position is the writer's event count), and the
# writer's replay verification. Leaves the figures in $TMP/check.out.
check_all() {
	wait_history "$BASE_URL/history" "$(writer_events)" 60
	dump_log
	"${LOADER[@]}" check --base-url "$BASE_URL" --redis "$REDIS" --records "$TMP"/*.jsonl \
		--log "$TMP/log.json" --states "$TMP/states.json" \
		--wallets "$(join "${ACTIVE[@]}" "${IDLE[@]}")" --history >"$TMP/check.out" || {
		jq . "$TMP/check.out" >&2 || cat "$TMP/check.out" >&2
		fail "$1: the event log, balances or history do not match what the clients were answered"
	}
	ok "$1: $(jq -c '{log_rows, log_events, lost, duplicated, wallets_checked, history_events}' "$TMP/check.out")"
	verify_replay "$1"
}

verify_replay() {
	local out rc=0
	out=$(timeout 60 docker exec "$(writer_id)" wallet_writer verify 2>&1) || rc=$?
	((rc == 0)) || {
		printf '%s\n' "$out" >&2
		fail "$1: wallet_writer verify exited $rc"
	}
	ok "$1: wallet_writer verify: the event log replays to the state log"
}

# first_ok SINCE_MS: ms from SINCE_MS to the first acknowledged write sent at or after it.
first_ok() { "${LOADER[@]}" first-ok --records "$TMP"/*.jsonl --since "$1"; }

# figures NAME PREFIX RECOVERY EXTRA: one FIGURES line from the load and the last check.
figures() {
	local line
	line="FIGURES compose $1: $(jq -r '"commands \(.commands), acknowledged (2xx) \(.acknowledged), rejected 422 \(.rejected), retries \(.retries) (\(.retried_commands) commands; answers retried: \(.retried_answers | to_entries | map("\(.key) x\(.value)") | join(", ") | if . == "" then "none" else . end)), slowest answer \(.slowest_write_ms) ms"' "$TMP/$2.out"), $(jq -r '"lost \(.lost), duplicated \(.duplicated); history \(.history_events) events gapless"' "$TMP/check.out"); recovery $3${4:+; $4}"
	log "$line"
	FIGURES+=("$line")
}

# restart_service SERVICE: compose restart (stop, then start), bounded. Sets RESTART_MS (how
# long the command took) and UP_MS (when the new process started, per the engine).
restart_service() {
	local t0 rc=0 started
	t0=$(now_ms)
	# shellcheck disable=SC2086 # "docker compose" is two words
	timeout 90 $COMPOSE restart "$1" >/dev/null 2>&1 || rc=$?
	((rc == 0)) || fail "compose restart $1 exited $rc"
	RESTART_MS=$(($(now_ms) - t0))
	started=$(docker inspect -f '{{.State.StartedAt}}' "$($COMPOSE ps -q "$1")")
	UP_MS=$(date -d "$started" +%s%3N)
	log "$1 restarted (compose restart took $RESTART_MS ms; the new process started $((UP_MS - t0)) ms after it was issued)"
}

# ---------------------------------------------------------------------------
step "preflight: ports free on $BIND_ADDR"
for p in "$HTTP_PORT" 4222 8222 6379 8081; do
	if (: <"/dev/tcp/$BIND_ADDR/$p") 2>/dev/null; then
		fail "something answers on $BIND_ADDR:$p (FAULTS_BIND_ADDR and FAULTS_HTTP_PORT choose others)"
	fi
done
ok "ports $HTTP_PORT, 4222, 8222, 6379, 8081 are free on $BIND_ADDR; compose: $COMPOSE"
ARMED=1
$COMPOSE down -v --remove-orphans >/dev/null 2>&1 || true

step "images and start (project $COMPOSE_PROJECT_NAME, writer volume a tmpfs)"
# What ./pull.sh, ./build.sh and ./run_in_background.sh do, with this run's compose files.
compose_up 2>"$TMP/up.err" || {
	cat "$TMP/up.err" >&2
	fail "compose up failed"
}
grep -E 'stand-in|pulled' "$TMP/up.err" | sed 's/^/    /' || true
compose_wait_ready || fail "the stack did not become healthy"
[[ $(docker volume inspect -f '{{index .Options "type"}}' "$WRITER_VOLUME") == tmpfs ]] ||
	fail "the writer's volume is not a tmpfs"
ok "every container healthy; the writer's volume is a tmpfs of $(docker volume inspect -f '{{index .Options "o"}}' "$WRITER_VOLUME")"
# No fault here restarts the writer's container: its id is looked up once (compose is slow).
WRITER_ID=$(writer_id)
writer_id() { printf '%s\n' "$WRITER_ID"; }

step "warm-up: the idle wallets get written once"
AROUND=1 load warm 120 "$(join "${IDLE[@]}")"
AROUND=1 load_wait warm

# ---------------------------------------------------------------------------
fault_cache() {
	step "fault: restart cache (Redis, no persistence) mid-load"
	load cache
	restart_service cache
	up=$UP_MS
	load_wait cache
	recovery=$(first_ok "$up") || fail "no write acknowledged after the cache restart"
	dump_log
	"${LOADER[@]}" wait-redis --states "$TMP/states.json" --redis "$REDIS" --timeout 60 >"$TMP/redis.out" || {
		cat "$TMP/redis.out" >&2
		fail "Redis does not hold the writer's state of every wallet 60 s after the load"
}
ok "every wallet's wallet.<id> equals the writer's state after the load ($(jq .documents "$TMP/redis.out") documents, $(jq .ms "$TMP/redis.out") ms after the load, idle wallets included)"
restart_service cache
"${LOADER[@]}" wait-redis --states "$TMP/states.json" --redis "$REDIS" --timeout 60 >"$TMP/redis.out" || {
	cat "$TMP/redis.out" >&2
	fail "Redis was not rebuilt within 60 s of a restart with no client"
}
idle_rebuild=$(($(jq .at_ms "$TMP/redis.out") - UP_MS))
ok "restarted again with no client at all: every document rebuilt by the writer $idle_rebuild ms after Redis started"
check_all "after the cache restart"
figures "cache restart" cache "$recovery ms from the restart to the first acknowledged write" "read model rebuilt with no client $idle_rebuild ms after a restart; reads older than served 0 ($(jq -r '"\(.api_reads) API, \(.redis_reads) Redis reads"' "$TMP/cache.out"))"
}

# ---------------------------------------------------------------------------
fault_nats() {
	step "fault: restart message_broker (NATS) mid-load"
	load nats
	restart_service message_broker
	up=$UP_MS
	load_wait nats
	compose_wait_ready || fail "not healthy after the NATS restart"
	ok "every service is healthy again (reconnected to NATS)"
	recovery=$(first_ok "$up") || fail "no write acknowledged after the NATS restart"
	check_all "after the NATS restart"
	figures "NATS restart" nats "$recovery ms from the restart to the first acknowledged write" "compose restart took $RESTART_MS ms"
}

# ---------------------------------------------------------------------------
fault_disk() {
	step "fault: the writer's volume full"
	load disk
	full_at=$(now_ms)
	docker run --rm --user 10001:10001 --entrypoint sh -v "$WRITER_VOLUME:/data" redis:7.4-alpine -c \
		'busybox dd if=/dev/zero of=/data/filler bs=64k 2>/dev/null; busybox df -k /data | busybox tail -n 1' >"$TMP/fill.out" ||
		true
	log "filled the writer's volume: $(tr -s ' ' <"$TMP/fill.out")"
	# Fresh keyed commands while the volume is full: each must be answered 503, none 500.
	sleep 1
	probes=()
	for i in 1 2 3 4 5; do
		key=disk-probe-$i
		sent=$(now_ms)
		code=$(curl -s -o "$TMP/probe.body" -w '%{http_code}' -m 15 -X POST -H "Idempotency-Key: $key" \
			-d '{"amount": 1}' "$BASE_URL/wallet/${ACTIVE[0]}/credit") || true
		[[ $code == 503 ]] || fail "a write on the full volume answered $code, want 503: $(cat "$TMP/probe.body")"
		probes+=("$key $sent $(now_ms) $code")
	done
	ok "5 fresh writes on the full volume each answered 503 ($(jq -c .error.type "$TMP/probe.body"))"
	got=$(curl -s -o /dev/null -w '%{http_code}' -m 10 "$BASE_URL/wallet/${ACTIVE[0]}/balance") || true
	[[ $got == 200 ]] || fail "a read while the volume is full answered $got"
	ok "reads go on while the volume is full (GET balance 200)"
	# The logs go to a file first: grep -m 1 leaving a pipe early would fail it (pipefail).
	docker logs "$(writer_id)" >"$TMP/writer.log" 2>&1 || true
	line=$(grep -m 1 'database or disk is full' "$TMP/writer.log") ||
		fail "the writer logged no line saying the disk is full"
	ok "the writer says why: $(cut -c1-220 <<<"$line")"
	in_log=$(sql "SELECT count(*) AS n FROM event WHERE idempotency_key LIKE 'disk-probe-%';" | sed -n 's/^ *n = //p')
	[[ $in_log == 0 ]] || fail "$in_log refused writes are in the event log"
	ok "none of the refused writes is in the event log"
	full_ms=$(($(now_ms) - full_at))
	docker run --rm --user 10001:10001 --entrypoint sh -v "$WRITER_VOLUME:/data" redis:7.4-alpine -c \
		'busybox rm -f /data/filler' || fail "could not free the volume"
	freed=$(now_ms)
	log "freed the space after $full_ms ms full"
	# The refused writes, retried with their keys, get their real outcome, once.
	for p in "${probes[@]}"; do
		read -r key sent answered code <<<"$p"
		attempts="[$sent,$answered,$code]"
		deadline=$((SECONDS + 30))
		while :; do
			s=$(now_ms)
			code=$(curl -s -o "$TMP/probe.body" -w '%{http_code}' -m 15 -X POST -H "Idempotency-Key: $key" \
				-d '{"amount": 1}' "$BASE_URL/wallet/${ACTIVE[0]}/credit") || true
			attempts+=",[$s,$(now_ms),${code:-0}]"
			[[ $code == 200 ]] && break
			[[ $code == 503 || $code == 504 || $code == 000 ]] || fail "retry of $key answered $code"
			((SECONDS < deadline)) || fail "retry of $key not acknowledged within 30 s of freeing the space"
			sleep 0.2
		done
		jq -c --arg key "$key" --arg w "${ACTIVE[0]}" --argjson a "[$attempts]" \
			'{key: $key, wallet: $w, op: "credit", amount: "1.00", attempts: $a, final: "acked", version, balance}' \
			"$TMP/probe.body" >>"$TMP/disk-probes.jsonl"
	done
	ok "the 5 refused writes, retried with their keys, are acknowledged"
	load_wait disk
	recovery=$(first_ok "$freed") || fail "no write acknowledged after the space was freed"
	refused=$(jq -s --argjson a "$full_at" --argjson b "$freed" '[.[].attempts[] | select(.[0] >= $a and .[0] < $b and .[2] == 503)] | length' "$TMP"/disk*.jsonl)
	n500=$(jq -s '[.[].attempts[] | select(.[2] == 500)] | length' "$TMP"/*.jsonl)
	((n500 == 0)) || fail "$n500 answers were 500"
	ok "no answer was 500 in the whole run; $refused writes answered 503 while the volume was full"
	check_all "after the disk was full"
	figures "disk full" disk "$recovery ms from the space freed to the first acknowledged write (no restart)" "full for $full_ms ms: $refused attempts answered 503 (none 500), reads 200, nothing refused in the log"
}

for fault in ${FAULTS:-cache nats disk}; do
	declare -F "fault_$fault" >/dev/null || fail "no fault '$fault' (FAULTS: cache nats disk)"
	"fault_$fault"
done

step "done"
log "phase times: $(printf '%s; ' "${TIMINGS[@]}")"
printf '%s\n' "${FIGURES[@]}"
