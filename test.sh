#!/usr/bin/env bash
# The project's tests: gofmt, go vet, the import rules, go test -race, and the Python tests of
# utils/. Installs what they need (apt-get) on a fresh machine; needs no
# running stack. Exits non-zero if any step fails.
set -euo pipefail
# shellcheck source=scripts/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/scripts/stack.sh"
cd "$STACK_ROOT"

stack_need_go
needs=(redis-server=redis-server sqlite3=sqlite3 curl=curl jq=jq "gcc=gcc libc6-dev")
[[ -d utils/tests ]] && needs+=(python3=python3 python=python-is-python3)
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
step "go test" env CGO_ENABLED=1 go test -race -count=1 -timeout 20m ./...
step "fuzz (each target ${FUZZTIME:-5s})" fuzz_briefly
if [[ -d utils/tests ]]; then
	step "python tests" python3 -m unittest discover -s utils/tests -t .
fi
step "e2e (scripts and README walkthrough)" bash scripts/e2e_local.sh
step "e2e under Docker Compose (skipped without a Docker engine)" bash scripts/e2e_compose.sh
step "faults under Docker Compose: Redis and NATS restarts, a full disk (skipped without a Docker engine)" bash scripts/e2e_compose_faults.sh

if ((${#failed[@]} > 0)); then
	echo "test.sh: FAILED (${failed[*]}) after ${SECONDS}s"
	exit 1
fi
echo "test.sh: all checks passed in ${SECONDS}s"
