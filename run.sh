#!/usr/bin/env bash
# Run the stack in the foreground, streaming its logs; Ctrl-C stops it.
#   ./run.sh [--local|--docker]          start (installing and building first)
#   ./run.sh down [-v] [--local|--docker] stop a background stack (the mode it was started in,
#                                         unless one is given); -v also deletes its data
#   ./run.sh example multiple-domain      casual's multiple-domain example (queues, forwards)
#   ./run.sh example resource-lock        fox-wamp's resource-lock demo (the lock domain)
set -euo pipefail
# shellcheck source=scripts/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/scripts/stack.sh"

stack_parse_mode "$@"
case "${STACK_ARGS[*]-}" in
"") ;;
example | "example "*)
	export STACK_FORCED # the mode asked for, for a stack the example starts
	exec "$STACK_ROOT/scripts/example.sh" "${STACK_ARGS[@]:1}"
	;;
down)
	stack_down
	exit
	;;
"down -v")
	stack_down -v
	exit
	;;
*)
	say "usage: ./run.sh [--local|--docker] | ./run.sh down [-v] | ./run.sh example multiple-domain|resource-lock"
	exit 2
	;;
esac

if [[ $STACK_MODE == compose ]]; then
	# shellcheck disable=SC2317 # run by the EXIT trap
	compose_on_exit() {
		local rc=$?
		trap - EXIT INT TERM
		local_stop_follow
		say "stopping the compose stack (./run.sh down removes its containers)"
		compose stop >&2 || true
		exit "$rc"
	}
	trap compose_on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	stack_remember
	compose_up
	compose_wait_ready
	say "the stack is ready at $(stack_base_url) (Ctrl-C stops it)"
	stack_base_url
	# Followed in the background so that a signal is handled at once; it ends by itself
	# when ./run.sh down removes the stack.
	compose logs -f --tail 0 &
	STACK_FOLLOW_PID=$!
	wait "$STACK_FOLLOW_PID" || true
	exit
fi

local_need_tools
stack_build
stack_lock
stack_remember
on_exit() {
	local rc=$?
	trap - EXIT INT TERM
	local_down
	local_stop_follow
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
local_up
stack_unlock
say "the stack is ready at $(stack_base_url) (Ctrl-C stops it)"
stack_base_url
local_follow
