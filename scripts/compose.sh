# shellcheck shell=bash
# The stack under Docker Compose (contract C1's Docker mode). Sourced by
# scripts/stack.sh. Placeholder until docker-compose.yml exists: the mode is
# chosen only when it does, and the functions below are the plain compose
# calls, not yet run against a real compose file. C7's offline stand-in
# images (./pull.sh building local images under the public tags) belong here.

docker_answers() {
	command -v docker >/dev/null 2>&1 || return 1
	if command -v timeout >/dev/null 2>&1; then
		timeout 10 docker info >/dev/null 2>&1
	else
		docker info >/dev/null 2>&1
	fi
}

# compose_cmd prints the compose command this machine has ("docker compose"
# or "docker-compose") or fails.
compose_cmd() {
	if docker compose version >/dev/null 2>&1; then
		echo "docker compose"
	elif command -v docker-compose >/dev/null 2>&1; then
		echo "docker-compose"
	else
		return 1
	fi
}

# compose_require exits 2 unless compose mode can run here.
compose_require() {
	if [[ ! -f $STACK_ROOT/docker-compose.yml ]]; then
		say "compose mode (--docker) needs docker-compose.yml, which this checkout does not have yet;"
		say "run without --docker (or with --local) to run the stack as local processes"
		exit 2
	fi
	docker_answers || {
		say "--docker: no Docker engine answers 'docker info'; use --local"
		exit 2
	}
	compose_cmd >/dev/null || {
		say "--docker: neither 'docker compose' nor 'docker-compose' is installed; use --local"
		exit 2
	}
}

compose() {
	local cmd
	cmd=$(compose_cmd) || die "no docker compose command"
	# shellcheck disable=SC2086 # "docker compose" is two words
	(cd "$STACK_ROOT" && $cmd "$@")
}

compose_pull() { compose pull; }
compose_build() { compose build; }
compose_down() { compose down "$@"; }

# compose_wait_ready polls the published endpoints (contract C2) until they
# answer, or fails after STACK_READY_TIMEOUT seconds.
compose_wait_ready() {
	local deadline=$((SECONDS + STACK_READY_TIMEOUT))
	until svc_ready redis && svc_ready message_broker && svc_ready wallet_server; do
		((SECONDS < deadline)) || {
			say "the stack is not ready after ${STACK_READY_TIMEOUT}s; last log lines:"
			compose logs --tail 20 >&2 || true
			return 1
		}
		sleep 1
	done
}
