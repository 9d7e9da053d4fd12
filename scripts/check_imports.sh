#!/usr/bin/env bash
# check_imports.sh: the package dependency rules of docs/architecture.md ("Dependency
# rules"), checked on what each package links (go list -deps). Prints every broken rule
# and exits 1 if there is one. Run from anywhere inside the repository.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

module=$(GOWORK=off go list -m) # the root module alone, not the workspace (go.work)
broken=0

# deps PACKAGES... prints the non-standard packages that PACKAGES link.
deps() {
	go list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' "$@"
}

# deps_with_tests PACKAGES... is deps counting the packages' tests too.
deps_with_tests() {
	go list -deps -test -f '{{if not .Standard}}{{.ImportPath}}{{end}}' "$@"
}

# report RULE: the packages read from stdin break RULE; each is listed.
report() {
	local pkg
	printf 'import rule broken: %s\n' "$1" >&2
	while IFS= read -r pkg; do
		printf '  links %s\n' "$pkg" >&2
	done
	broken=1
}

# matching GREP_ARGS...: grep, where "no line matched" is no failure but a bad pattern is.
matching() {
	local rc=0
	grep "$@" || rc=$?
	((rc <= 1)) || exit "$rc"
}

# forbid RULE PATTERN: the packages read from stdin must not match the extended regex
# PATTERN; those that do are reported under RULE.
forbid() {
	local found
	found=$(matching -E "$2" | sort -u)
	[[ -z $found ]] || report "$1" <<<"$found"
}

# allow RULE PATTERN: every package read from stdin must match PATTERN.
allow() {
	local found
	found=$(matching -v -E "$2" | sort -u)
	[[ -z $found ]] || report "$1" <<<"$found"
}

# 1. A server (the read side) sends commands through pkg/command and reads the read
#    model: it links no SQLite, no event store, no commit loop, no outbox, no history.
servers=()
for dir in services/*_server; do
	[[ -d $dir ]] && servers+=("./$dir")
done
if ((${#servers[@]} > 0)); then
	forbid "servers (${servers[*]}) link no SQLite, event store, commit loop, outbox or history" \
		"^modernc\.org/sqlite|^$module/pkg/(eventstore|sqlitedb|writer|outbox|history)(/|$)" <<<"$(deps "${servers[@]}")"
fi

# 2. A domain is pure: the standard library, ksuid and the vocabulary packages
#    (aggregate, failure, event), nothing else: no NATS, SQLite, Redis or HTTP.
allow "domains/ import only the standard library, ksuid and pkg/{aggregate,failure,event}" \
	"^($module/domains/|$module/pkg/(aggregate|failure|event)$|github\.com/segmentio/ksuid$)" <<<"$(deps ./domains/...)"

# 3. The library stands below the programs: pkg/ (tests included) imports no services/
#    and no cmd/.
forbid "pkg/ imports no services/ or cmd/" "^$module/(services|cmd)/" <<<"$(deps_with_tests ./pkg/...)"

# 4. Plotting is the benchmark's alone.
forbid "only cmd/bench links gonum (plots)" "^gonum\.org/" <<<"$(deps ./pkg/... ./services/... ./domains/... ./cmd/uneventful)"

if ((broken)); then
	exit 1
fi
echo "check_imports: every dependency rule holds"
