#!/usr/bin/env bash
# Run the stack in the foreground, streaming its logs; Ctrl-C stops it.
#   ./run.sh [--local|--docker]          start (installing and building first)
#   ./run.sh down [-v] [--local|--docker] stop a background stack; -v also deletes data/
set -euo pipefail
# shellcheck source=scripts/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/scripts/stack.sh"

stack_parse_mode "$@"
case "${STACK_ARGS[*]-}" in
"") ;;
down)
	stack_down
	exit
	;;
"down -v")
	stack_down -v
	exit
	;;
*)
	say "usage: ./run.sh [--local|--docker] | ./run.sh down [-v]"
	exit 2
	;;
esac

if [[ $STACK_MODE == compose ]]; then
	trap 'trap - EXIT INT TERM; say "stopping the compose stack"; compose stop >&2' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	compose_up
	compose_wait_ready
	say "the stack is ready at $(stack_base_url) (Ctrl-C stops it)"
	stack_base_url
	compose logs -f --tail 0 || true # ends on Ctrl-C, or when ./run.sh down removes the stack
	exit
fi

local_need_tools
stack_build
stack_lock
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
