#!/usr/bin/env bash
# The project's tests: gofmt, go vet, the import rules, shellcheck, go test -race, fuzzing, the
# Python tests of utils/, and the end-to-end runs (local processes; Docker Compose
# where an engine answers, with the pinned Compose of scripts/compose_plugin.sh,
# and a smoke run with Debian's docker-compose 1.29 while it is installed).
# Installs what they need (apt-get) on a fresh machine; needs no running stack.
# Exits non-zero if any step fails.
set -euo pipefail
# shellcheck source=scripts/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/scripts/stack.sh"
cd "$STACK_ROOT"

stack_need_go
needs=(redis-server=redis-server sqlite3=sqlite3 curl=curl jq=jq "gcc=gcc libc6-dev" shellcheck=shellcheck)
[[ -d utils/tests ]] && needs+=(python3=python3 python=python-is-python3)
needs+=(chromium=chromium) # the tracker's browser test (scripts/e2e_tracker.sh)
stack_need "${needs[@]}"

go_files() {
	local f
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -co --exclude-standard -- '*.go'
	else
		find . -name '*.go' -not -path './.git/*' | sed 's|^\./||'
	fi | while IFS= read -r f; do
		[[ -f $f && $f != testdata/* && $f != */testdata/* && $f != vendor/* ]] && printf '%s\n' "$f"
	done
}

check_gofmt() {
	local files out
	mapfile -t files < <(go_files)
	((${#files[@]} > 0)) || return 0
	out=$(gofmt -l "${files[@]}") || return 1
	[[ -z $out ]] && return 0
	printf 'not gofmt-formatted (fix: gofmt -w <file>):\n%s\n' "$out" >&2
	return 1
}

# shell_files lists every shell script: *.sh and the extensionless ones starting
# with a shell's #! (.ci/run).
shell_files() {
	local f
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -co --exclude-standard
	else
		find . -type f -not -path './.git/*' | sed 's|^\./||'
	fi | while IFS= read -r f; do
		[[ -f $f && $f != vendor/* ]] || continue
		if [[ $f == *.sh ]] || { [[ $f != *.* || $f == .ci/* ]] && head -c 64 "$f" | grep -qE '^#!.*\b(ba)?sh\b'; }; then
			printf '%s\n' "$f"
		fi
	done
}

# check_shellcheck runs shellcheck on every shell script (following what they source).
check_shellcheck() {
	local files
	mapfile -t files < <(shell_files)
	((${#files[@]} > 0)) || return 0
	shellcheck -x "${files[@]}"
}

# fuzz_briefly runs every go test -fuzz target (func FuzzX in a _test.go file) for
# FUZZTIME (default 5s) each: the decoders of outside input meet fresh garbage on every run.
fuzz_briefly() {
	local f name out
	while IFS= read -r f; do
		[[ $f == *_test.go ]] || continue
		while IFS= read -r name; do
			out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "${FUZZTIME:-5s}" "./$(dirname "$f")" 2>&1) ||
				# On a busy machine the fuzzer's own start-up (running the seed corpus for
				# coverage) can outlast a short -fuzztime and end in "context deadline
				# exceeded" with no failing input: give such a target one longer run.
				if grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input' <<<"$out"; then
					say "fuzz target $name: start-up outlasted the fuzz time; running it for 30s"
					out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime 30s "./$(dirname "$f")" 2>&1)
				else
					false
				fi || {
				printf '%s\nfuzz target %s in %s failed\n' "$(tail -n 30 <<<"$out")" "$name" "$(dirname "$f")" >&2
				return 1
			}
		done < <(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f")
	done < <(go_files)
}

failed=()
step() {
	local name=$1 began=$SECONDS
	shift
	say "== $name"
	if "$@"; then
		say "ok: $name ($((SECONDS - began))s)"
	else
		say "FAILED: $name"
		failed+=("$name")
	fi
}

step "gofmt" check_gofmt
step "go vet" go vet ./...
step "import rules (scripts/check_imports.sh)" bash scripts/check_imports.sh
step "go vet of cmd/bench (a module of its own, for its plots)" go vet ./cmd/bench/...
step "shellcheck" check_shellcheck
step "go test" env CGO_ENABLED=1 go test -race -count=1 -timeout 20m ./...
step "fuzz (each target ${FUZZTIME:-5s})" fuzz_briefly
if [[ -d utils/tests ]]; then
	step "python tests" python3 -m unittest discover -s utils/tests -t .
fi
step "e2e (scripts and README walkthrough)" bash scripts/e2e_local.sh
step "e2e: the tracker page in headless Chromium (local processes)" bash scripts/e2e_tracker.sh
# The compose tests run with the Compose this project pins (what most users run: `docker
# compose`, v2 and later), built once and cached; if it cannot be built they fail, saying
# so, rather than run with another Compose.
compose_pinned() {
	local built
	built=$(bash scripts/compose_plugin.sh) || return 1
	if [[ $(docker compose version --short 2>/dev/null) == "$("$built" version --short)" ]]; then
		UNEVENTFUL_COMPOSE="docker compose"
	else
		UNEVENTFUL_COMPOSE=$built # another Compose plugin is installed: the pinned build, standalone
	fi
	export UNEVENTFUL_COMPOSE
	COMPOSE_PINNED=$UNEVENTFUL_COMPOSE
	say "compose tests use: $UNEVENTFUL_COMPOSE ($($UNEVENTFUL_COMPOSE version --short))"
}

compose_missing() {
	say "the pinned Docker Compose could not be built (see the step above): the compose tests did not run"
	return 1
}

# compose_smoke_v1 starts the stack with Debian's docker-compose 1.29 (its own project,
# ports on COMPOSE_SMOKE_BIND_ADDR, default 127.0.0.3), writes once, reads it back and
# removes the stack: 1.29 keeps working while Debian ships it.
# shellcheck disable=SC2030 # its settings stay in its subshell
compose_smoke_v1() (
	export UNEVENTFUL_COMPOSE=docker-compose COMPOSE_PROJECT_NAME=uneventful_smoke
	export BIND_ADDR=${COMPOSE_SMOKE_BIND_ADDR:-127.0.0.3} HTTP_PORT=80
	local url=http://$BIND_ADDR:$HTTP_PORT id body rc=0
	trap 'compose_down -v 2>/dev/null' EXIT
	compose_up && compose_wait_ready || return 1
	id=$(go run ./cmd/uneventful ksuid)
	if ! body=$(curl -fsS -m 10 -X POST -d '{"amount": 5}' "$url/wallet/$id/credit") ||
		[[ $(jq -r .balance <<<"$body") != 5.00 ]] ||
		[[ $(curl -fsS -m 10 "$url/wallet/$id/balance" | jq -r .balance) != 5.00 ]]; then
		say "docker-compose 1.29: credit then balance on $url/wallet/$id failed (credit answered: ${body:-nothing})"
		rc=1
	fi
	return "$rc"
)

# compose_faults runs the faults under Docker Compose (pkg/service/composefaults_test.go,
# build tag compose; skipped without a Docker engine). The test removes its stack when it
# ends; this also removes what a test killed by its -timeout left (unless E2E_KEEP_STACK=1).
# The timeout is generous: the first start builds the stand-ins and images (8 min on the
# loaded 2-core machine).
compose_faults() {
	local rc=0 project=${FAULTS_PROJECT:-uneventful_faults}
	CGO_ENABLED=1 go test -tags compose -run '^TestComposeFaults$' -count=1 -timeout 30m -v ./pkg/service || rc=$?
	if ((rc != 0)) && [[ ${E2E_KEEP_STACK:-0} != 1 ]] && docker_answers; then
		docker ps -aq --filter "label=com.docker.compose.project=$project" | xargs -r docker rm -f >/dev/null
		docker volume ls -q --filter "label=com.docker.compose.project=$project" | xargs -r docker volume rm >/dev/null
	fi
	return "$rc"
}

if docker_answers && [[ -f docker-compose.yml ]]; then
	step "Docker Compose $(sed -n 's/^COMPOSE_PIN=//p' scripts/compose_plugin.sh) for the compose tests (built once, then cached)" compose_pinned
fi
if docker_answers && [[ -f docker-compose.yml && -z ${COMPOSE_PINNED:-} ]]; then
	step "e2e under Docker Compose" compose_missing
else
	step "e2e under Docker Compose (skipped without a Docker engine)" bash scripts/e2e_compose.sh
	step "faults under Docker Compose: Redis and NATS restarts, a full disk (skipped without a Docker engine)" compose_faults
	if [[ -n ${COMPOSE_PINNED:-} ]] && command -v docker-compose >/dev/null 2>&1 &&
		[[ $(docker-compose version --short 2>/dev/null) == 1.* ]]; then
		step "smoke run with Debian's docker-compose $(docker-compose version --short)" compose_smoke_v1
	fi
fi

if ((${#failed[@]} > 0)); then
	echo "test.sh: FAILED (${failed[*]}) after ${SECONDS}s"
	exit 1
fi
echo "test.sh: all checks passed in ${SECONDS}s"
