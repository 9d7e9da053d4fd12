#!/usr/bin/env bash
# Start the stack detached and return once every service is ready, printing
# the base URL. Harmless when it is already running. Stop it: ./run.sh down
# Usage: ./run_in_background.sh [--local|--docker]
set -euo pipefail
# shellcheck source=scripts/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/scripts/stack.sh"

stack_parse_mode "$@"
((${#STACK_ARGS[@]} == 0)) || die "usage: ./run_in_background.sh [--local|--docker]"
if [[ $STACK_MODE == compose ]]; then
	stack_remember
	compose_up
	compose_wait_ready
	say "the stack is ready (logs: $(compose_cmd) logs, stop it: ./run.sh down)"
	stack_base_url
	exit
fi

local_need_tools
stack_build
stack_lock
stack_remember
trap 'local_down' EXIT # on any failure, stop what is running
trap 'exit 130' INT
trap 'exit 143' TERM
local_up
trap - EXIT INT TERM
if ((STACK_STARTED == 0)); then
	say "the stack was already running and is ready (stop it: ./run.sh down)"
else
	say "the stack is ready (logs: ${LOG_DIR#"$STACK_ROOT"/}/, stop it: ./run.sh down)"
fi
stack_base_url
