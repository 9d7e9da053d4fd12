# shellcheck shell=bash
# What the compose e2e scripts (scripts/e2e_compose.sh) use: the skip where no
# Docker engine answers, timed steps, the exit trap that reports a failure and removes the
# compose project's containers and volumes and the images the test built, and helpers that
# read the writer's database and the history. The sourcing script sources scripts/stack.sh
# and scripts/e2e_walkthrough.sh (ok, fail, passed) first and defines log; it may define
# e2e_cleanup_more (run last by the cleanup).

# e2e_compose_preflight exits 0, saying why, where compose mode cannot run; sets COMPOSE.
e2e_compose_preflight() {
	if ! docker_answers; then
		log "skipped: no Docker engine answers 'docker info' (the compose path is tested where one does)"
		exit 0
	fi
	if ! COMPOSE=$(compose_cmd); then
		log "skipped: a Docker engine answers but neither 'docker compose' nor 'docker-compose' is installed"
		exit 0
	fi
}

# e2e_compose_init sets up the run's state (after the preflight) and the exit trap. Nothing
# is removed at exit until the script sets ARMED=1 (once it owns the compose project).
e2e_compose_init() {
	STARTED=$SECONDS
	PHASE_STARTED=$SECONDS
	TIMINGS=()
	STEP=preflight
	ARMED=0
	LOAD_PIDS=
	TMP=$(mktemp -d)
	IMAGES_BEFORE=$(docker images -q --no-trunc | sort -u)
	trap e2e_on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

step() {
	[[ $STEP == preflight ]] || TIMINGS+=("$STEP: $((SECONDS - PHASE_STARTED))s")
	STEP=$1
	PHASE_STARTED=$SECONDS
	log "== $STEP ($((SECONDS - STARTED))s)"
}

# e2e_need_tools TOOL... fails unless every TOOL is on PATH.
e2e_need_tools() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed"
	done
}

e2e_cleanup() {
	local made img
	$COMPOSE down -v --remove-orphans >/dev/null 2>&1 || true
	if [[ ${E2E_KEEP_IMAGES:-0} != 1 ]]; then
		made=$(comm -13 <(printf '%s\n' "$IMAGES_BEFORE") <(docker images -q --no-trunc | sort -u))
		for img in $made; do docker rmi -f "$img" >/dev/null 2>&1 || true; done
		[[ -z $made ]] || log "removed the $(wc -w <<<"$made") images this test built"
	fi
	if declare -F e2e_cleanup_more >/dev/null; then e2e_cleanup_more; fi
}

e2e_on_exit() {
	local rc=$?
	trap - EXIT INT TERM
	# shellcheck disable=SC2086 # one pid per word
	[[ -n ${LOAD_PIDS:-} ]] && kill $LOAD_PIDS 2>/dev/null
	if ((rc != 0)); then
		log "FAILED at step: $STEP (exit $rc)"
		if ((ARMED)); then
			compose_report || true
		fi
	fi
	if ((ARMED)) && ((rc != 0)) && [[ ${E2E_KEEP_STACK:-0} == 1 ]]; then
		log "E2E_KEEP_STACK=1: the stack and $TMP are left for a look (COMPOSE_PROJECT_NAME=$COMPOSE_PROJECT_NAME${COMPOSE_FILE:+ COMPOSE_FILE=$COMPOSE_FILE} $COMPOSE down -v removes the stack)"
	else
		if ((ARMED)); then
			log "cleaning up: containers, volumes, images it built"
			e2e_cleanup
		fi
		rm -rf "$TMP"
	fi
	# shellcheck disable=SC2154 # passed: scripts/e2e_walkthrough.sh
	if ((rc == 0)); then
		log "$passed passed, 0 failed (${SECONDS}s)"
	else
		log "$passed passed, 1 failed (${SECONDS}s)"
	fi
	exit "$rc"
}

writer_id() { $COMPOSE ps -q wallet_writer_service; }
# sql QUERY: QUERY on the writer's database, in its container, printed as sqlite3 -line does.
sql() { docker exec "$(writer_id)" sqlite3 data/wallet_writer/datastore.db -line "$1"; }
balance() { curl -fsS -m 10 "$BASE_URL/wallet/$1/balance"; }
# writer_events: how many events the writer's event log holds.
writer_events() { sql "SELECT sum(json_array_length(events)) AS n FROM event;" | sed -n 's/^ *n = //p'; }

# history_count URL PREFIX: how many events of the history at URL (…/history) have a stream
# starting with PREFIX (the queues' events are in the history too).
history_count() {
	local url=$1 after=0 n=0 page
	while :; do
		page=$(curl -fsS -m 10 "$url?after=$after&limit=1000") || return 1
		n=$((n + $(jq --arg p "$2" '[.events[] | select(.stream | startswith($p))] | length' <<<"$page")))
		[[ $(jq '.events | length' <<<"$page") == 1000 ]] || break
		after=$(jq '.events[-1].position' <<<"$page")
	done
	printf '%s\n' "$n"
}

# wait_history URL EVENTS SECONDS: waits until the history at URL (…/history) holds EVENTS
# wallet events (the writer's); fails after SECONDS.
wait_history() {
	local url=$1 want=$2 deadline=$((SECONDS + $3)) got
	while :; do
		got=$(history_count "$url" wallet.) || true
		[[ $got == "$want" ]] && return 0
		((SECONDS < deadline)) || fail "history holds $got wallet events, want $want (the writer's) after $3 s"
		sleep 0.5
	done
}
