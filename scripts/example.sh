#!/usr/bin/env bash
# ./run.sh example multiple-domain: casual's multiple-domain example on two domains,
# A and B, each a queue_domain process with its own NATS server and JetStream domain,
# joined by a leafnode (B connects to A). It enqueues "test" from A into b1 (correlation id
# casual-example), waits for the message to travel b1 -> echo (in A) -> b2 -> a1 ->
# rollback -> a1.error keeping that id, prints both domains' listings, stops the
# domains, and exits 0 only if the outcome is casual's.
#
# Local processes only. A compose mode would replace example_start and example_stop
# (the domains' NATS URLs are all the rest needs).
#
# Beside the domains it runs a history writer on domain A's server copying both domains'
# events (HISTORY_JS_DOMAINS=A,B: B's JetStream through the leafnode) and the tracker on
# that history, and checks the tracker shows the message's whole path, b1 (in B) to
# a1.error (in A), as one item under its correlation id, parked in a1.error.
#
# ./run.sh example resource-lock: fox-wamp's resource-lock demo on the lock domain
# (examples/resource-lock; README, "Locks"), on the running stack or one it starts.
#
# Ports (env): EXAMPLE_A_PORT (4301), EXAMPLE_A_LEAF_PORT (7301), EXAMPLE_B_PORT (4302),
# EXAMPLE_HISTORY_PORT (8181), EXAMPLE_TRACKER_PORT (8183).
set -euo pipefail
# shellcheck source=scripts/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

A_PORT=${EXAMPLE_A_PORT:-4301}
A_LEAF=${EXAMPLE_A_LEAF_PORT:-7301}
B_PORT=${EXAMPLE_B_PORT:-4302}
H_PORT=${EXAMPLE_HISTORY_PORT:-8181}
T_PORT=${EXAMPLE_TRACKER_PORT:-8183}
T_URL=http://127.0.0.1:$T_PORT
A_URL=nats://127.0.0.1:$A_PORT
B_URL=nats://127.0.0.1:$B_PORT
EX_DIR=$DATA_DIR/example/multiple-domain
EX_CONF=$STACK_ROOT/examples/multiple-domain
PIDS=()

uneventful() { "$BIN_DIR/uneventful" "$@"; }

example_build() {
	stack_need_go
	mkdir -p "$BIN_DIR"
	say "building queue_domain, history_writer, tracker and uneventful into ${BIN_DIR#"$STACK_ROOT"/}/"
	(cd "$STACK_ROOT" && CGO_ENABLED=0 go build -trimpath -o "$BIN_DIR/" ./services/queue_domain ./services/history_writer \
		./services/tracker ./cmd/uneventful)
}

example_start() {
	local port
	for port in "$A_PORT" "$A_LEAF" "$B_PORT" "$H_PORT" "$T_PORT"; do
		port_busy "$port" && die "port $port is in use (set EXAMPLE_A_PORT, EXAMPLE_A_LEAF_PORT, EXAMPLE_B_PORT, EXAMPLE_HISTORY_PORT, EXAMPLE_TRACKER_PORT)"
	done
	rm -rf "$EX_DIR"
	mkdir -p "$EX_DIR"
	"$BIN_DIR/queue_domain" -config "$EX_CONF/A.yaml" -store "$EX_DIR/A" -port "$A_PORT" -leaf-port "$A_LEAF" 2>"$EX_DIR/A.log" &
	PIDS+=($!)
	"$BIN_DIR/queue_domain" -config "$EX_CONF/B.yaml" -store "$EX_DIR/B" -port "$B_PORT" \
		-leaf-peer "nats-leaf://127.0.0.1:$A_LEAF" 2>"$EX_DIR/B.log" &
	PIDS+=($!)
	say "domain A: $A_URL (log ${EX_DIR#"$STACK_ROOT"/}/A.log), domain B: $B_URL"
	env NATS_URL="$A_URL" HISTORY_JS_DOMAINS=A,B HTTP_ADDR="127.0.0.1:$H_PORT" HISTORY_DB="$EX_DIR/history.db" \
		"$BIN_DIR/history_writer" 2>"$EX_DIR/history_writer.log" &
	PIDS+=($!)
	env HISTORY_URL="http://127.0.0.1:$H_PORT" HTTP_ADDR="127.0.0.1:$T_PORT" "$BIN_DIR/tracker" 2>"$EX_DIR/tracker.log" &
	PIDS+=($!)
	say "history of domains A and B: http://127.0.0.1:$H_PORT/history; tracker: $T_URL/tracker/ (while the example runs)"
}

# tracker_parked: the tracker shows the example's message completed, parked in a1.error,
# one item from its enqueue into b1 (in B) through b2 and a1 to a1.error (in A).
tracker_parked() {
	curl -fsS "$T_URL/tracker/api/items?state=completed&q=casual-example" |
		jq -e '.total == 1 and (.items[0] | .correlation_id == "casual-example" and .state == "parked" and .domain == "A"
			and .where == "a1.error" and ([.steps[] | .domain + "/" + .where + " " + .event] |
			.[0] == "B/b1 enqueued" and .[-1] == "A/a1.error moved_to_error"
			and index("B/b2 enqueued") != null and index("A/a1 enqueued") != null))'
}

# copying: the history writer copies both domains' events (its consumer in each is made:
# its /readyz answers 200).
copying() { curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$H_PORT/readyz"; }

example_stop() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	PIDS=()
}

# wait_for SECONDS COMMAND...: retries COMMAND until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

sees_both() { uneventful queue list --nats "$1" | grep -q '^a1 ' && uneventful queue list --nats "$1" | grep -q '^b1 '; }

listings() {
	local d url
	for d in A B; do
		url=$A_URL
		[[ $d == B ]] && url=$B_URL
		printf '\n%s$ uneventful queue list --domain %s\n' "$d" "$d"
		uneventful queue list --nats "$url" --domain "$d"
	done
	printf '\n$ uneventful forward-service list\n'
	uneventful forward-service list --nats "$A_URL"
	printf '\n$ uneventful forward-queue list\n'
	uneventful forward-queue list --nats "$A_URL"
	printf '\n$ uneventful service list\n'
	uneventful service list --nats "$B_URL"
}

multiple_domain() {
	example_build
	trap example_stop EXIT
	example_start
	wait_for 20 sees_both "$A_URL" || die "the domains do not see each other's queues (logs in ${EX_DIR#"$STACK_ROOT"/})"
	wait_for 20 sees_both "$B_URL" || die "B does not see A's queues"
	# The history is in arrival order: B's events are stored in their place only once the
	# history writer copies B's stream.
	wait_for 20 copying || die "the history writer does not copy both domains' events: $(curl -sS --max-time 5 "http://127.0.0.1:$H_PORT/readyz") (log ${EX_DIR#"$STACK_ROOT"/}/history_writer.log)"
	printf '\n$ uneventful domain connections\n'
	uneventful domain connections --nats "$A_URL"
	listings
	printf '\nA$ echo test | uneventful queue enqueue b1 -correlation-id casual-example\n'
	echo test | uneventful queue enqueue b1 -correlation-id casual-example --nats "$A_URL"
	if ! wait_for 10 uneventful example check multiple-domain -correlation-id casual-example --nats "$A_URL"; then
		listings
		uneventful example check multiple-domain -correlation-id casual-example --nats "$A_URL" || true
		die "multiple-domain: the outcome is not casual's"
	fi
	listings
	printf '\nA$ uneventful queue messages a1.error\n'
	uneventful queue messages a1.error --nats "$A_URL"
	echo
	uneventful example check multiple-domain -correlation-id casual-example --nats "$A_URL"
	wait_for 20 tracker_parked || die "the tracker ($T_URL/tracker/) does not show casual-example's path b1 -> a1.error (logs in ${EX_DIR#"$STACK_ROOT"/})"
	printf '\n$ curl -s %s\n' "'$T_URL/tracker/api/items?state=completed&q=casual-example'"
	curl -fsS "$T_URL/tracker/api/items?state=completed&q=casual-example" | jq -c '.items[] | {correlation_id, domain, where, state, retries, steps: [.steps[] | .domain + "/" + .where + " " + .event]}'
}

# resource_lock: fox-wamp's resource-lock demo (examples/resource-lock) against the
# running stack (its HTTP entry answers /readyz), else against a stack it starts in the
# background and stops afterwards.
resource_lock() {
	stack_need_go
	mkdir -p "$BIN_DIR"
	say "building resource-lock into ${BIN_DIR#"$STACK_ROOT"/}/"
	(cd "$STACK_ROOT" && CGO_ENABLED=0 go build -trimpath -o "$BIN_DIR/" ./examples/resource-lock)
	local url
	url=$(stack_base_url)
	if curl -fsS -o /dev/null --max-time 5 "$url/readyz" 2>/dev/null; then
		say "using the running stack at $url"
	else
		say "no stack answers at $url: starting one (stopped afterwards)"
		trap '"$STACK_ROOT/run.sh" down' EXIT
		"$STACK_ROOT/run_in_background.sh" "${EXAMPLE_MODE[@]}" >/dev/null
	fi
	"$BIN_DIR/resource-lock" -url "$url"
}

# The mode ./run.sh was given (--local, --docker), for a stack the example starts.
EXAMPLE_MODE=()
case ${STACK_FORCED-} in
local) EXAMPLE_MODE=(--local) ;;
compose) EXAMPLE_MODE=(--docker) ;;
esac

case ${1-} in
multiple-domain) multiple_domain ;;
resource-lock) resource_lock ;;
*)
	say "usage: ./run.sh [--local|--docker] example multiple-domain|resource-lock"
	exit 2
	;;
esac
