#!/usr/bin/env bash
# The tracker page in a real browser (contract C11): starts the stack users run, as local
# processes (--local), on HTTP_PORT (default 18080), opens http://localhost:$HTTP_PORT/tracker/
# in headless Chromium (Debian's chromium; installed with apt-get when missing) and runs
# TestBrowser (pkg/tracker/browser_test.go): a payment that credits a wallet and one that
# fails into payments.error each show in flight, then completed, without a reload; so does
# a lock's grant (held, then released), and the domain filter shows the lock's only. Stops
# the stack and deletes its data/ at the end, also when it fails. Run by ./test.sh.
#
#   bash scripts/e2e_tracker.sh                 the test
#   bash scripts/e2e_tracker.sh --screenshot    the same, saving the page as docs/tracker.png
set -euo pipefail
export HTTP_PORT=${HTTP_PORT:-18080}
# shellcheck source=scripts/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
STACK_ME=e2e_tracker
cd "$STACK_ROOT"

shot=
case ${1-} in
--screenshot) shot=$STACK_ROOT/docs/tracker.png ;;
"") ;;
*) die "usage: scripts/e2e_tracker.sh [--screenshot]" ;;
esac

stack_need_go
stack_need chromium=chromium redis-server=redis-server curl=curl
local_load_services || die "config/domains: cannot read the stack's domains"
for svc in "${STACK_SERVICES[@]}"; do
	if [[ $svc != redis ]] && pid=$(svc_pid "$svc"); then
		die "a local stack is running ($svc, pid $pid): stop it first (./run.sh down)"
	fi
done

armed=0
on_exit() {
	local rc=$? f
	trap - EXIT INT TERM
	if ((armed)); then
		if ((rc != 0)); then
			for f in data/logs/tracker.log data/logs/history_writer.log data/logs/wallet_queue_forwards.log; do
				[[ -f $f ]] && { printf -- '----- last 20 lines of %s\n' "$f"; tail -n 20 "$f"; }
			done
		fi
		./run.sh down -v --local >/dev/null 2>&1 || say "cleanup failed: ./run.sh down -v --local"
	fi
	if ((rc == 0)); then say "passed"; else say "FAILED (exit $rc)"; fi
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

armed=1
./run_in_background.sh --local >/dev/null
say "stack up on http://localhost:$HTTP_PORT; the browser test opens /tracker/"
TRACKER_BROWSER_URL=http://localhost:$HTTP_PORT NATS_URL=nats://127.0.0.1:4222 TRACKER_SCREENSHOT=$shot \
	go test -count=1 -run '^TestBrowser$' -v ./pkg/tracker
[[ -z $shot ]] || say "saved ${shot#"$STACK_ROOT"/}"
