#!/usr/bin/env bash
# Fetch what the stack needs: Go modules and Redis (local processes), or the
# images (Docker Compose). Usage: ./pull.sh [--local|--docker]
set -euo pipefail
# shellcheck source=scripts/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/scripts/stack.sh"

stack_parse_mode "$@"
((${#STACK_ARGS[@]} == 0)) || die "usage: ./pull.sh [--local|--docker]"
if [[ $STACK_MODE == compose ]]; then
	compose_pull
	exit
fi
stack_need_go
local_need_tools
(cd "$STACK_ROOT" && go mod download)
say "Go modules and tools are in place"
