# shellcheck shell=bash
# What scripts/e2e_local.sh and scripts/e2e_compose.sh share: checks that README
# lines are there verbatim and run them, and the README walkthrough itself.
# The sourcing script defines log, step and adapt (how a README line is run in its
# mode), and sets PYTHON, WALLET, BASE_URL (the HTTP entry) and TMP.

passed=0
ok() {
	passed=$((passed + 1))
	log "ok: $*"
}
fail() {
	log "FAIL [$STEP]: $*"
	exit 1
}

# readme_line LINE fails unless LINE is a whole line of README.md.
readme_line() { grep -qxF -- "$1" README.md || fail "README.md no longer has this line: $1"; }

# run_adapted CMD [quiet]: runs CMD (adapted) with bash -o pipefail, at most 60 s,
# leaving its stdout in OUT; fails if it exits non-zero.
run_adapted() {
	local c rc=0
	c=$(adapt "$1")
	[[ ${2:-} == quiet ]] || log "\$ $c"
	OUT=$(timeout 60 bash -o pipefail -c "$c") || rc=$?
	((rc == 0)) || fail "exit $rc from: $c"
}

# run_readme CMD [quiet]: CMD must be a line of README.md; runs it once.
run_readme() {
	readme_line "$1"
	run_adapted "$@"
}

# run_loop_body CMD: CMD is the body of one of the README's watch loops
# (`while true; do clear; CMD; sleep 1; done`); runs it once.
run_loop_body() {
	readme_line "while true; do clear; $1; sleep 1; done"
	run_adapted "$1"
}

# expect_json WHAT JSON JQ_FILTER: the filter must hold for JSON.
expect_json() {
	jq -e "$3" >/dev/null 2>&1 <<<"$2" && { ok "$1"; return; }
	log "got: $2"
	fail "$1: expected $3"
}

# same_json WHAT GOT WANT: equal as JSON (key order and spacing ignored).
same_json() {
	[[ $(jq -cS . <<<"$2" 2>/dev/null) == "$(jq -cS . <<<"$3")" ]] && { ok "$1"; return; }
	log "got:  $2"
	log "want: $3"
	fail "$1"
}

port_busy() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# walkthrough SQLITE: the README's walkthrough on the fresh wallet $WALLET, where
# SQLITE is how the README opens the writer's database in this mode (the start of
# its watch-loop lines). Leaves the history page in OUT.
walkthrough() {
	local sqlite=$1 debit credit refused credited rows rejected accepted history deadline
	run_loop_body "redis-cli GET wallet.$WALLET | jq"
	[[ -z ${OUT//[[:space:]]/} ]] || fail "Redis has a document before any write: $OUT"
	ok "Redis has no document for the wallet yet"

	debit="curl -s -X POST -d '{\"amount\": 5}' http://localhost/wallet/$WALLET/debit | jq"
	credit="curl -s -X POST -d '{\"amount\": 5}' http://localhost/wallet/$WALLET/credit | jq"
	refused='{ "error": { "type": "insufficient_funds", "message": "balance 0.00 is less than 5.00" } }'
	credited="{ \"id\": \"$WALLET\", \"version\": 1, \"balance\": \"5.00\" }"
	readme_line "$refused"
	readme_line "$credited"
	run_readme "$debit"
	same_json "debit on the empty wallet is refused as README shows" "$OUT" "$refused"
	run_readme "$credit"
	same_json "credit answers as README shows (balance 5.00, version 1)" "$OUT" "$credited"
	run_readme "$debit"
	expect_json "the same debit now succeeds (balance 0.00, version 2)" "$OUT" \
		".id == \"$WALLET\" and .version == 2 and .balance == \"0.00\""
	run_loop_body "redis-cli GET wallet.$WALLET | jq"
	expect_json "Redis holds the new state (version 2)" "$OUT" '.version == 2 and .balance == "0.00"'

	run_loop_body "$sqlite -line 'SELECT * FROM event;'"
	rows=$(grep -c '^ *seq = ' <<<"$OUT" || true)
	rejected=$(grep -c '^ *outcome = rejected$' <<<"$OUT" || true)
	accepted=$(grep -c '^ *outcome = accepted$' <<<"$OUT" || true)
	[[ $rows == 3 && $rejected == 1 && $accepted == 2 ]] ||
		fail "event table: $rows rows, $rejected rejected, $accepted accepted; want 3, 1, 2. Got:"$'\n'"$OUT"
	ok "event table: 3 rows, the refused debit with outcome = rejected"
	run_loop_body "$sqlite -line 'SELECT * FROM state;'"
	rows=$(grep -c '^ *seq = ' <<<"$OUT" || true)
	[[ $rows == 2 ]] || fail "state table: $rows rows, want 2. Got:"$'\n'"$OUT"
	ok "state table: 2 rows"

	run_loop_body "curl -s http://localhost/wallet/$WALLET/balance | jq"
	expect_json "balance: 0.00 at version 2" "$OUT" ".id == \"$WALLET\" and .version == 2 and .balance == \"0.00\""
	run_loop_body "curl -s http://localhost/wallet/$WALLET/transactions | jq"
	expect_json "transactions: 2 entries, newest first (debited v2, credited v1)" "$OUT" \
		'[.transactions[] | [.version, .type, .data.amount]] == [[2, "debited", "5.00"], [1, "credited", "5.00"]]'

	history="curl -s 'http://localhost:8081/history?after=0&limit=100' | jq"
	deadline=$((SECONDS + 15))
	while :; do
		run_readme "$history" quiet
		jq -e '.newest >= 3' >/dev/null 2>&1 <<<"$OUT" && break
		((SECONDS < deadline)) || fail "history newest did not reach 3 within 15 s; last answer: $OUT"
		sleep 0.2
	done
	expect_json "history: both accepted wallet events in order, then the debit's enqueue on debits" "$OUT" \
		'.newest == 3 and ([.events[] | [.position, .stream, .version, .type]] == [[1, "wallet.'"$WALLET"'", 1, "credited"], [2, "wallet.'"$WALLET"'", 2, "debited"], [3, "queue.wallet", 1, "enqueued"]])'
	local history_page=$OUT
	queues_walkthrough
	bus_walkthrough
	OUT=$history_page
}

# queue_column QUEUE COLUMN: the COLUMN (1-based) of QUEUE's row in `queue list`'s table, in OUT.
queue_column() { awk -v q="$1" -v c="$2" '$1 == q { print $c }' <<<"$OUT"; }

# wait_queue WHAT QUEUE COLUMN WANT: runs the README's `queue list` until QUEUE's COLUMN is WANT.
wait_queue() {
	local deadline=$((SECONDS + 15))
	while :; do
		run_readme "bin/uneventful queue list" quiet
		[[ $(queue_column "$2" "$3") == "$4" ]] && { ok "$1"; return; }
		((SECONDS < deadline)) || fail "$1: queue list after 15 s:"$'\n'"$OUT"
		sleep 0.2
	done
}

# queues_walkthrough: the README's queue steps on $WALLET, after the walkthrough's debit.
queues_walkthrough() {
	local pay refused deadline
	run_readme "bin/uneventful queue list"
	for q in payments payments.error debits debits.error; do
		[[ -n $(queue_column "$q" 1) ]] || fail "queue list has no $q:"$'\n'"$OUT"
	done
	ok "queue list shows payments, debits and their error queues (the stack runs the wallet's queues)"
	wait_queue "debits holds one message: the walkthrough's debit (notify on debited)" debits 5 1

	pay="echo '{\"amount\": 5}' | bin/uneventful queue enqueue payments -properties $WALLET"
	run_readme "$pay"
	[[ $OUT =~ ^[0-9A-Za-z]{27}$ ]] || fail "enqueue printed '$OUT', want a message id"
	ok "enqueue printed the message id $OUT"
	deadline=$((SECONDS + 15))
	until OUT=$(curl -s "$BASE_URL/wallet/$WALLET/balance") && jq -e '.version == 3' >/dev/null 2>&1 <<<"$OUT"; do
		((SECONDS < deadline)) || fail "the payment did not credit the wallet within 15 s: $OUT"
		sleep 0.2
	done
	expect_json "the payment credited the wallet (balance 5.00, version 3)" "$OUT" '.balance == "5.00"'
	wait_queue "payments: enqueued 1, dequeued 1" payments 9 1

	refused="echo '{\"amount\": -1}' | bin/uneventful queue enqueue payments -properties $WALLET"
	run_readme "$refused"
	wait_queue "the refused payment moved to payments.error" payments.error 5 1
	run_readme "bin/uneventful queue messages payments.error"
	[[ $(awk 'NR > 2' <<<"$OUT" | wc -l) == 1 && $(awk 'NR == 3 { print $3 }' <<<"$OUT") == 15 ]] ||
		fail "queue messages payments.error: want one message of 15 bytes; got:"$'\n'"$OUT"
	ok "payments.error holds the refused payment (15 bytes: {\"amount\": -1} and a newline)"
	OUT=$(curl -s "$BASE_URL/wallet/$WALLET/balance")
	expect_json "the refused payment changed nothing (version 3)" "$OUT" '.version == 3 and .balance == "5.00"'
	# shellcheck disable=SC2016 # a README line, backquotes included
	readme_line '`bin/uneventful queue restore payments` would send it through the forward again. Each queue'
	run_adapted "bin/uneventful queue dequeue payments.error"
	[[ $OUT == '{"amount": -1}' ]] || fail "queue dequeue payments.error printed '$OUT'"
	ok "queue dequeue payments.error takes it: $OUT"
}

# sessions_walkthrough: the README's "Sessions" lines (C9) on a fresh session, through the
# HTTP entry: If-Match required and checked, frozen attributes, a read at a revision,
# destroy, then 404 and an event stream that closes after the last event.
# shellcheck disable=SC2016 # README lines, run as they are spelled there
sessions_walkthrough() {
	local S
	readme_line 'S=$(bin/uneventful ksuid)'
	S=$(bin/uneventful ksuid) || fail "bin/uneventful ksuid failed"
	export S
	run_readme "curl -s -X POST -H 'If-Match: \"0\"' -d '{\"namespace\":\"chat\",\"attributes\":{\"nick\":\"ann\",\"room\":\"lobby\"},\"freeze\":[\"nick\"]}' http://localhost/session/\$S/update | jq"
	expect_json "session: a new session at If-Match \"0\", nick frozen (version 1)" "$OUT" \
		'.id == env.S and .version == 1 and .attributes.chat == {"nick": {"value": "ann", "frozen": true}, "room": {"value": "lobby", "frozen": false}}'
	run_readme "curl -s -X POST -H 'If-Match: \"0\"' -d '{\"namespace\":\"chat\",\"attributes\":{\"room\":\"dev\"}}' http://localhost/session/\$S/update | jq"
	expect_json "session: a stale If-Match is version_mismatch" "$OUT" '.error.type == "version_mismatch"'
	run_readme "curl -s -X POST -H 'If-Match: \"1\"' -d '{\"namespace\":\"chat\",\"attributes\":{\"nick\":\"bob\"}}' http://localhost/session/\$S/update | jq"
	expect_json "session: a frozen attribute does not change" "$OUT" '.error.type == "frozen_attribute"'
	run_readme "curl -s -X POST -H 'If-Match: \"1\"' -d '{\"namespace\":\"chat\"}' http://localhost/session/\$S/clear | jq"
	expect_json "session: a namespace holding a frozen value is not cleared" "$OUT" '.error.type == "frozen_attribute"'
	run_readme "curl -s -X POST -H 'If-Match: \"1\"' -d '{\"namespace\":\"chat\",\"attributes\":{\"room\":\"\"}}' http://localhost/session/\$S/update | jq"
	expect_json "session: an empty value removes room (version 2)" "$OUT" \
		'.version == 2 and .attributes.chat == {"nick": {"value": "ann", "frozen": true}}'
	run_readme 'curl -s "http://localhost/session/$S?revision=1" | jq'
	expect_json "session: ?revision=1 shows room again" "$OUT" '.version == 1 and .attributes.chat.room.value == "lobby"'
	run_readme "curl -s -X POST -H 'If-Match: \"2\"' http://localhost/session/\$S/destroy | jq"
	same_json "session: destroy answers {id, version, destroyed}" "$OUT" "{\"id\": \"$S\", \"version\": 3, \"destroyed\": true}"
	run_adapted "curl -s http://localhost/session/\$S | jq"
	expect_json "session: a destroyed session is not_found" "$OUT" '.error.type == "not_found"'
	run_readme 'curl -N http://localhost/session/$S/events'
	[[ $(grep '^id: ' <<<"$OUT" | tr '\n' ' ') == "id: 1 id: 2 id: 3 " ]] ||
		fail "session events: want ids 1 2 3 then the end of the stream; got:"$'\n'"$OUT"
	ok "session: its events stay readable, and the stream closes after the last one"
}

# bus_walkthrough: the README's `uneventful call` lines (Command bus) on $WALLET, after the
# queue steps (balance 5.00, version 3): a credit prints the new state, a refused debit
# the failure, with exit status 3.
bus_walkthrough() {
	local credit debit c rc=0
	credit="bin/uneventful call wallet.credit $WALLET '{\"amount\": 5}'"
	run_readme "$credit"
	expect_json "call wallet.credit printed the new state (balance 10.00, version 4)" "$OUT" '.balance == "10.00" and .version == 4'
	debit="bin/uneventful call wallet.debit $WALLET '{\"amount\": 500}'"
	readme_line "$debit"
	c=$(adapt "$debit")
	log "\$ $c"
	OUT=$(timeout 60 bash -o pipefail -c "$c") || rc=$?
	((rc == 3)) || fail "exit $rc from: $c (want 3: a failure)"
	expect_json "call wallet.debit beyond the balance: exit 3 and the failure insufficient_funds" "$OUT" '.error.type == "insufficient_funds" and .error.kind == "rejected"'
}

# locks_walkthrough: the README's "Locks" lines (C10) on a fresh lock, through the HTTP
# entry: w1 takes myapp.resource, w2 waits its turn (its request held by the server), w1
# renews and releases, and w2's waiting request is answered with the grant (token 2).
# Then the README's example, fox-wamp's demo, on the running stack.
# shellcheck disable=SC2016 # README lines, run as they are spelled there
locks_walkthrough() {
	local waiter c rc=0
	run_readme "curl -s -X POST -d '{\"holder\":\"w1\",\"ttl\":\"10s\"}' http://localhost/lock/myapp.resource/acquire"
	expect_json "lock: w1 takes myapp.resource (token 1)" "$OUT" '.name == "myapp.resource" and .holder == "w1" and .token == 1'
	waiter="curl -s -X POST -d '{\"holder\":\"w2\",\"ttl\":\"10s\",\"wait\":true}' 'http://localhost/lock/myapp.resource/acquire?timeout=20s'"
	readme_line "$waiter"
	c=$(adapt "$waiter")
	log "\$ $c &"
	bash -o pipefail -c "$c" >"$TMP/lock_waiter.out" 2>&1 &
	local pid=$! tries=0
	# The waiting acquire is in the lock's state (the writer recorded it) before w1 moves.
	until curl -fsS -m 5 "$BASE_URL/lock/myapp.resource" 2>/dev/null | jq -e '.waiters[0].holder == "w2"' >/dev/null; do
		((++tries < 300)) || fail "w2's waiting acquire never showed among the lock's waiters"
		kill -0 "$pid" 2>/dev/null || fail "w2's waiting acquire ended before w1 released: $(cat "$TMP/lock_waiter.out")"
		sleep 0.1
	done
	run_readme "curl -s http://localhost/lock/myapp.resource"
	expect_json "lock: held by w1, w2 waiting" "$OUT" '.holder == "w1" and .token == 1 and ([.waiters[].holder] == ["w2"])'
	run_readme "curl -s -X POST -d '{\"holder\":\"w1\",\"token\":1,\"ttl\":\"10s\"}' http://localhost/lock/myapp.resource/renew"
	expect_json "lock: w1 renews" "$OUT" '.holder == "w1" and .token == 1'
	run_readme "curl -s -X POST -d '{\"holder\":\"w1\",\"token\":1}' http://localhost/lock/myapp.resource/release"
	expect_json "lock: w1 releases, w2 is granted at once" "$OUT" '.holder == "w2" and .token == 2'
	wait "$pid" || fail "w2's waiting acquire exited $?: $(cat "$TMP/lock_waiter.out")"
	expect_json "lock: w2's held request is answered with its grant" "$(cat "$TMP/lock_waiter.out")" '.holder == "w2" and .token == 2'
	run_adapted "curl -s -X POST -d '{\"holder\":\"w2\",\"token\":2}' http://localhost/lock/myapp.resource/release"
	expect_json "lock: w2 releases" "$OUT" '.holder == null'
	readme_line "./run.sh example resource-lock"
	c=$(adapt "./run.sh example resource-lock")
	log "\$ $c"
	OUT=$(timeout 300 bash -o pipefail -c "$c" 2>&1) || rc=$?
	((rc == 0)) || fail "exit $rc from: $c"$'\n'"$(tail -n 30 <<<"$OUT")"
	ok "./run.sh example resource-lock: workers took the lock in turn, tokens grew, the killed holder's lease passed on"
}
