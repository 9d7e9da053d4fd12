#!/usr/bin/env bash
# Checks the HTTP entry of a running compose stack (contracts C2, C3): routes by domain,
# and every answer the router makes itself is a C3 JSON error with the status a client
# can act on. Expects the stack up (tracker_service included) and changes nothing in it.
# The Go router of local processes (services/router) gives the same answers.
#   scripts/e2e_compose_router.sh http://localhost:80
set -euo pipefail

BASE=${1:?usage: scripts/e2e_compose_router.sh BASE_URL}
BASE=${BASE%/}
WALLET=28skwt5B8zTrs6AqBWrSgCHLcRL
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
checked=0

log() { printf 'e2e_compose_router: %s\n' "$*" >&2; }
fail() {
	log "FAIL: $*"
	exit 1
}

# call NAME STATUS TYPE CURL_ARGS...: the answer must have STATUS, and be a C3 JSON error
# of TYPE (TYPE "-": any JSON, e.g. a server's own answer).
call() {
	local name=$1 want_status=$2 want_type=$3 status ctype type
	shift 3
	status=$(curl -sS --path-as-is --max-time 20 -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "$@") ||
		fail "$name: curl failed"
	ctype=$(sed -n 's/^[Cc]ontent-[Tt]ype: *\([^;[:space:]]*\).*/\1/p' "$TMP/headers" | tail -n 1)
	[[ $status == "$want_status" ]] || fail "$name: status $status, want $want_status: $(head -c 300 "$TMP/body")"
	[[ $ctype == application/json ]] || fail "$name: Content-Type '$ctype', want application/json: $(head -c 300 "$TMP/body")"
	jq -e . "$TMP/body" >/dev/null 2>&1 || fail "$name: body is not JSON: $(head -c 300 "$TMP/body")"
	if [[ $want_type != - ]]; then
		type=$(jq -r '.error.type // empty' "$TMP/body")
		[[ $type == "$want_type" ]] || fail "$name: error type '$type', want '$want_type': $(cat "$TMP/body")"
		[[ -n $(jq -r '.error.message // empty' "$TMP/body") ]] || fail "$name: error without a message"
	fi
	checked=$((checked + 1))
	log "ok: $name -> $status ${want_type/#-/}"
}

command -v jq >/dev/null 2>&1 || fail "needs jq"

call "router alive" 200 - "$BASE/healthz"
# The wallet may or may not have been written: its servers answer 200 or 404 not_found
# (nginx's own 404 is no_route).
if [[ $(curl -sS -o /dev/null -w '%{http_code}' "$BASE/wallet/$WALLET") == 200 ]]; then
	call "a domain's route reaches its servers" 200 - "$BASE/wallet/$WALLET"
	[[ $(jq -r '.id' "$TMP/body") == "$WALLET" ]] || fail "the wallet's state names another id: $(cat "$TMP/body")"
else
	call "a domain's route reaches its servers" 404 not_found "$BASE/wallet/$WALLET"
fi
call "a server's own error passes unchanged" 400 invalid_id "$BASE/wallet/not-a-ksuid/balance"
call "/history reaches the history writer" 200 - "$BASE/history?after=0&limit=1"
call "unknown domain" 404 no_route "$BASE/nope/$WALLET"
call "no route" 404 no_route "$BASE/"
call "%00 in the path" 400 invalid_path "$BASE/wallet/$WALLET%00/balance"
call "encoded ../ in the path" 400 invalid_path "$BASE/wallet/%2e%2e%2fhistory"
call "plain ../ in the path" 400 invalid_path "$BASE/wallet/../history"
call "encoded slash in the path" 400 invalid_path "$BASE/wallet/a%2Fb/balance"

head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' 'x' >"$TMP/big"
call "body over 1 MiB (Content-Length)" 413 body_too_large -X POST --data-binary "@$TMP/big" "$BASE/wallet/$WALLET/credit"
call "body over 1 MiB (chunked)" 413 body_too_large -X POST -H 'Transfer-Encoding: chunked' --data-binary "@$TMP/big" "$BASE/wallet/$WALLET/credit"

call "/tracker/ reaches the tracker (API)" 200 - "$BASE/tracker/api/items?state=in_flight"
jq -e '.items | type == "array"' "$TMP/body" >/dev/null || fail "the tracker's items are not a list: $(head -c 300 "$TMP/body")"
call "the tracker's own error passes unchanged" 400 invalid_state "$BASE/tracker/api/items?state=bogus"
status=$(curl -sS --max-time 20 -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "$BASE/tracker/") || fail "/tracker/: curl failed"
if [[ $status != 200 ]] || ! grep -qi '^content-type: *text/html' "$TMP/headers" || ! grep -q '<table id="inflight"' "$TMP/body"; then
	fail "/tracker/: status $status, not the tracker's page: $(head -c 300 "$TMP/body")"
fi
checked=$((checked + 1))
log "ok: /tracker/ serves the tracker's page"

# Server-Sent Events (C8) pass unbuffered: the history sends a stream's headers at once and
# each stored event as it goes, so they come through the router while the stream stays open
# (curl gives up after 3 s, as a client that saw what it needed).
newest=$(curl -sS --max-time 5 "$BASE/history?after=0&limit=1" | jq -r '.newest // 0')
rc=0
curl -sS -N --max-time 3 -o "$TMP/stream" -D "$TMP/headers" "$BASE/history/events?after=0" 2>/dev/null || rc=$?
grep -qi '^content-type: *text/event-stream' "$TMP/headers" ||
	fail "event stream: /history/events answered $(head -n 1 "$TMP/headers" | tr -d '\r'), not text/event-stream"
((rc == 0 || rc == 28)) || fail "event stream: curl exit $rc"
head -n 1 "$TMP/headers" | grep -q ' 200' || fail "event stream: $(head -n 1 "$TMP/headers")"
if ((newest > 0)); then
	grep -q '^id: ' "$TMP/stream" || fail "event stream: the history holds $newest events, none came through in 3 s"
fi
checked=$((checked + 1))
log "ok: /history/events streams through the router ($(grep -c '^id: ' "$TMP/stream") events in 3 s)"

# The same for one wallet's events (C8): every stored version comes through, 1..its version.
version=$(curl -sS --max-time 5 "$BASE/wallet/$WALLET" | jq -r '.version // 0')
rc=0
curl -sS -N --max-time 3 -o "$TMP/stream" -D "$TMP/headers" "$BASE/wallet/$WALLET/events" 2>/dev/null || rc=$?
grep -qi '^content-type: *text/event-stream' "$TMP/headers" ||
	fail "wallet event stream: answered $(head -n 1 "$TMP/headers" | tr -d '\r'), not text/event-stream"
((rc == 0 || rc == 28)) || fail "wallet event stream: curl exit $rc"
ids=$(sed -n 's/^id: //p' "$TMP/stream" | tr -d '\r' | paste -sd, -)
want=$(if ((version > 0)); then seq -s, 1 "$version"; fi)
[[ $ids == "$want" ]] || fail "wallet event stream: ids [$ids] in 3 s, want [$want] (the wallet is at version $version)"
checked=$((checked + 1))
log "ok: /wallet/$WALLET/events streams through the router (versions 1..$version)"

log "all $checked checks passed"
