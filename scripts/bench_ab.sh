#!/usr/bin/env bash
# Compares two builds with cmd/bench, alternating them ROUNDS times (runs on this kind of
# machine vary by about 5% between identical runs, so one run each says little):
#
#   scripts/bench_ab.sh REV_A REV_B [ROUNDS]      (default 3; STAGES=1000 by default)
#
# Each revision is checked out in a worktree under ${TMPDIR:-/tmp}/bench_ab and measured
# with `go run ./cmd/bench -duration 10s -stages $STAGES`. Prints every run and the mean
# per build of: credits/s over 1,000 wallets, credits/s on one hot wallet, balance GETs/s
# (all at the first stage) and CPU per credit of all processes. About 1.5 minutes per run
# at one stage; keep the machine otherwise quiet.
#
# BENCH=queue compares the queue benchmarks instead (the forward chain of pkg/queuedomain
# beside its JetStream publish ceiling, and one queue owner of pkg/queue; BENCHTIME=2000x
# by default) and prints the mean per build of each figure (msgs/s or ops/s).
set -euo pipefail

[[ $# -ge 2 ]] || { sed -n '2,15p' "$0" >&2; exit 2; }
a=$1 b=$2 rounds=${3:-3} stages=${STAGES:-1000}
repo=$(git rev-parse --show-toplevel)
work=${TMPDIR:-/tmp}/bench_ab
mkdir -p "$work"

tree() { # tree REV: a worktree at REV, printed
	local dir
	dir=$work/$(git -C "$repo" rev-parse --short "$1")
	if [[ ! -d $dir ]]; then
		git -C "$repo" worktree add -q --detach "$dir" "$1"
	fi
	printf '%s\n' "$dir"
}

# figures FILE: spread hot reads cpu of a cmd/bench report, tab-separated.
figures() {
	awk -F'|' -v stage="$stages" '
		$2 ~ "^ *"stage" *$" && !w { split($3, s, " "); split($5, h, " "); split($7, r, " "); w = s[1] "\t" h[1] "\t" r[1] }
		$2 ~ /^ *all *$/ { split($3, c, " "); cpu = c[1] }
		END { print w "\t" cpu }' "$1"
}

dirs=("$(tree "$a")" "$(tree "$b")")
revs=("$a" "$b")
results=$work/results.tsv
: >"$results"

# queue_run DIR: "name<TAB>value" for each queue benchmark figure of the build in DIR.
queue_run() {
	(cd "$1" && go test -run '^$' -bench 'Forward|Owner' -benchtime "${BENCHTIME:-2000x}" ./pkg/queuedomain/ ./pkg/queue/) |
		awk '/^Benchmark/ { name = $1; sub(/-[0-9]+$/, "", name); print name "\t" $(NF - 1) }'
}

if [[ ${BENCH:-} == queue ]]; then
	for ((i = 1; i <= rounds; i++)); do
		for k in 0 1; do
			queue_run "${dirs[k]}" | sed "s|^|${revs[k]}\t$i\t|" | tee -a "$results" ||
				{ echo "bench_ab: ${revs[k]} run $i failed" >&2; exit 1; }
		done
	done
	echo
	printf 'build\tbenchmark\truns\tmean/s\n'
	awk -F'\t' '{ k = $1 "\t" $3; n[k]++; s[k] += $4 } END { for (k in n) printf "%s\t%d\t%.0f\n", k, n[k], s[k] / n[k] }' "$results" | sort -t$'\t' -k2,2 -k1,1
	exit
fi

for ((i = 1; i <= rounds; i++)); do
	for k in 0 1; do
		out=$work/${revs[k]//\//_}-$i.md
		(cd "${dirs[k]}" && go run ./cmd/bench -duration 10s -stages "$stages" -out "$out" -plot "" >"$out.log" 2>&1) ||
			{ echo "bench_ab: ${revs[k]} run $i failed, see $out.log" >&2; exit 1; }
		printf '%s\t%d\t%s\n' "${revs[k]}" "$i" "$(figures "$out")" | tee -a "$results"
	done
done
echo
printf 'build\truns\tspread/s\thot/s\treads/s\tµs CPU/credit (means)\n'
for rev in "$a" "$b"; do
	awk -F'\t' -v rev="$rev" '$1 == rev { n++; s += $3; h += $4; r += $5; c += $6 }
		END { printf "%s\t%d\t%.0f\t%.0f\t%.0f\t%.0f\n", rev, n, s / n, h / n, r / n, c / n }' "$results"
done
