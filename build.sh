#!/usr/bin/env bash
# Build the services: Go binaries into bin/ (local processes), or the images
# (Docker Compose). Usage: ./build.sh [--local|--docker]
set -euo pipefail
# shellcheck source=scripts/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/scripts/stack.sh"

stack_parse_mode "$@"
((${#STACK_ARGS[@]} == 0)) || die "usage: ./build.sh [--local|--docker]"
if [[ $STACK_MODE == compose ]]; then
	compose_build
	exit
fi
stack_build
say "built: $(cd "$BIN_DIR" && echo *)"
