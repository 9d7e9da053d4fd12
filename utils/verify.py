"""End-to-end consistency check of the wallet HTTP API.

Creates fresh random wallets (new KSUIDs), fires concurrent credits and
debits with known amounts (each with a unique Idempotency-Key; 409/429/5xx and
transport errors are retried with the same key), counts which debits were
accepted vs rejected with insufficient_funds, replays a few accepted requests
with their original key, then checks for every wallet that
  * GET balance == sum(accepted credits) - sum(accepted debits), exactly
    (decimal.Decimal, never float), and is never negative;
  * the balance document's version == number of accepted operations;
  * GET transactions (all pages, following next_before) lists exactly the
    accepted operations, newest first, no duplicate versions, and their
    amounts (credited/debited) add up to the balance.
Prints a PASS/FAIL report; exit status 0 on PASS, 1 on FAIL.
"""
import argparse
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal, InvalidOperation

from .client import TRANSPORT_ERRORS, Api

KSUID_EPOCH = 1400000000
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RETRY_STATUSES = {409, 429, 500, 502, 503, 504}


def ksuid(now=None):
    """A new KSUID: 4-byte timestamp (s since 2014-05-13) + 16 random bytes, base62."""
    ts = int(time.time() if now is None else now) - KSUID_EPOCH
    n = int.from_bytes(ts.to_bytes(4, "big") + os.urandom(16), "big")
    out = []
    while n:
        n, r = divmod(n, 62)
        out.append(BASE62[r])
    return "".join(reversed(out)).rjust(27, "0")


def ksuid_timestamp(s):
    """Unix time (seconds) encoded in a KSUID string."""
    n = 0
    for ch in s:
        n = n * 62 + BASE62.index(ch)
    return int.from_bytes(n.to_bytes(20, "big")[:4], "big") + KSUID_EPOCH


def error_type(doc):
    """The error.type of an error response body, or None."""
    err = doc.get("error") if isinstance(doc, dict) else None
    return err.get("type") if isinstance(err, dict) else None


class Op:
    """One credit or debit and what became of it."""

    def __init__(self, wallet, kind, amount):
        self.wallet, self.kind, self.amount = wallet, kind, amount
        self.key = f"verify-{ksuid()}"
        self.outcome = None   # "ok" | "rejected" | "unknown" | "unexpected"
        self.detail = ""
        self.retries = 0
        self.status = None    # last HTTP status (None: transport error)

    def clone(self):
        """Same request, same Idempotency-Key (for replay checks)."""
        c = Op(self.wallet, self.kind, self.amount)
        c.key = self.key
        return c

    def send(self, api, retries):
        """Send (retrying with the same Idempotency-Key) and set the outcome."""
        body = f'{{"amount": {self.amount}}}'
        path = f"/wallet/{self.wallet}/{self.kind}"
        for attempt in range(retries + 1):
            if attempt:
                self.retries += 1
                time.sleep(min(1.0, 0.05 * 2 ** attempt))
            try:
                status, doc = api.call("POST", path, body, self.key)
            except TRANSPORT_ERRORS as exc:
                self.status = None
                self.outcome, self.detail = "unknown", f"{type(exc).__name__}: {exc}"
                continue
            self.status = status
            if status == 200:
                self.outcome = "ok"
            elif (status == 422 and self.kind == "debit"
                  and error_type(doc) == "insufficient_funds"):
                self.outcome = "rejected"
            elif status in RETRY_STATUSES:
                self.outcome, self.detail = "unknown", f"HTTP {status} {error_type(doc)}"
                continue
            else:
                self.outcome, self.detail = "unexpected", f"HTTP {status} {doc}"
            return self
        return self


def plan(wallets, credits, debits, rng):
    """Shuffled ops. Debits range up to twice the credit size so that some of
    them hit insufficient_funds while the balance hovers around zero."""
    ops = []
    for w in wallets:
        ops += [Op(w, "credit", Decimal(rng.randint(1, 10000)).scaleb(-2))
                for _ in range(credits)]
        ops += [Op(w, "debit", Decimal(rng.randint(1, 20000)).scaleb(-2))
                for _ in range(debits)]
    rng.shuffle(ops)
    return ops


def tx_sum(txs):
    """Signed sum of transaction entries, or None if their shape is unknown.
    The amount may sit at the top level or in "data" (event documents)."""
    total = Decimal(0)
    for tx in txs:
        if not isinstance(tx, dict):
            return None
        kind = str(tx.get("type", tx.get("kind", ""))).lower()
        data = tx.get("data") if isinstance(tx.get("data"), dict) else tx
        if "amount" not in data or not ("credit" in kind or "debit" in kind):
            return None
        try:
            amount = Decimal(str(data["amount"]))
        except InvalidOperation:
            return None
        total += amount if amount < 0 or "credit" in kind else -amount
    return total


def fetch_transactions(api, wallet, page_size=1000):
    """(status, every transaction newest first or None), following next_before."""
    txs, before = [], None
    while True:
        query = f"?limit={page_size}" + (f"&before={before}" if before else "")
        status, doc = api.call("GET", f"/wallet/{wallet}/transactions{query}")
        page = doc.get("transactions") if isinstance(doc, dict) else None
        if status != 200 or not isinstance(page, list):
            return status, None
        txs += page
        nxt = doc.get("next_before")
        if not page or not isinstance(nxt, int) or (before and nxt >= before):
            return status, txs
        before = nxt


def check_wallet(api, wallet, ops):
    """Compare server state of one wallet with its accepted ops -> (ok, line)."""
    ok_ops = [o for o in ops if o.outcome == "ok"]
    expected = sum((o.amount if o.kind == "credit" else -o.amount for o in ok_ops),
                   Decimal("0.00"))
    problems = []
    status, doc = api.call("GET", f"/wallet/{wallet}/balance")
    balance = version = None
    if status != 200 or not isinstance(doc, dict):
        problems.append(f"GET balance -> HTTP {status}")
    else:
        version = doc.get("version")
        try:
            balance = Decimal(str(doc.get("balance")))
        except InvalidOperation:
            problems.append(f"unparsable balance {doc.get('balance')!r}")
        if balance is not None and balance != expected:
            problems.append(f"balance {balance} != expected {expected}")
        if balance is not None and balance < 0:
            problems.append(f"negative balance {balance}")
        if isinstance(version, int) and version != len(ok_ops):
            problems.append(f"version {version} != {len(ok_ops)} accepted")
    status, txs = fetch_transactions(api, wallet)
    if txs is None:
        problems.append(f"GET transactions -> HTTP {status}")
    else:
        if len(txs) != len(ok_ops):
            problems.append(f"{len(txs)} transactions != {len(ok_ops)} accepted")
        versions = [t.get("version") for t in txs if isinstance(t, dict)]
        if all(isinstance(v, int) for v in versions) and versions != sorted(
                set(versions), reverse=True):
            problems.append("transaction versions not unique and newest first")
        total = tx_sum(txs)
        if total is not None and balance is not None and total != balance:
            problems.append(f"transactions sum {total} != balance {balance}")
    line = (f"wallet {wallet}  balance {balance} (expected {expected})  "
            f"txs {len(txs) if isinstance(txs, list) else '?'} (expected "
            f"{len(ok_ops)})  version {version}  ")
    return not problems, line + ("OK" if not problems else "FAIL: " + "; ".join(problems))


def run(base_url, wallets=10, credits=200, debits=100, workers=32, replays=3,
        retries=5, timeout=10.0, seed=None, out=None):
    """Run the whole check, writing the report to `out`; return True on PASS."""
    out = out or sys.stdout
    say = lambda s: print(s, file=out, flush=True)  # noqa: E731
    api, rng = Api(base_url, timeout), random.Random(seed)
    ids = [ksuid() for _ in range(wallets)]
    say(f"verify: {base_url}  {wallets} wallets x ({credits} credits + {debits} "
        f"debits), {workers} workers")
    failed = []
    for w in ids[:1]:  # a never-written wallet must be 404 not_found
        status, doc = api.call("GET", f"/wallet/{w}/balance")
        if status != 404 or error_type(doc) != "not_found":
            failed.append(f"fresh wallet {w}: GET balance -> HTTP {status} {doc}")
    ops = plan(ids, credits, debits, rng)
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda o: o.send(api, retries), ops))
        elapsed = time.monotonic() - t0
        accepted = [o for o in ops if o.outcome == "ok"]
        sample = rng.sample(accepted, min(len(accepted), replays * wallets))
        replayed = list(pool.map(lambda o: o.clone().send(api, retries), sample))
    count = lambda pred: sum(1 for o in ops if pred(o))  # noqa: E731
    say(f"ops: {len(ops)} in {elapsed:.2f} s ({len(ops) / max(elapsed, 1e-9):.0f} "
        f"ops/s): credits ok {count(lambda o: o.kind == 'credit' and o.outcome == 'ok')}"
        f", debits ok {count(lambda o: o.kind == 'debit' and o.outcome == 'ok')}"
        f", insufficient_funds {count(lambda o: o.outcome == 'rejected')}"
        f", retries {sum(o.retries for o in ops)}")
    for o in ops:
        if o.outcome in ("unknown", "unexpected"):
            failed.append(f"{o.kind} {o.amount} on {o.wallet}: {o.outcome} ({o.detail})")
    statuses = {}
    for o in replayed:
        statuses[o.status] = statuses.get(o.status, 0) + 1
    say(f"replays (same Idempotency-Key): {len(replayed)} sent, "
        f"statuses {statuses or '-'}")
    by_wallet = {w: [] for w in ids}
    for o in ops:
        by_wallet[o.wallet].append(o)
    good = 0
    for w in ids:
        ok, line = check_wallet(api, w, by_wallet[w])
        good += ok
        say(line)
    for f in failed[:20]:
        say("  problem: " + f)
    passed = good == len(ids) and not failed
    say(f"{'PASS' if passed else 'FAIL'}: {good}/{len(ids)} wallets consistent"
        + (f", {len(failed)} other problems" if failed else ""))
    api.close()
    return passed


def main(argv=None):
    """CLI entry point; returns the exit code."""
    p = argparse.ArgumentParser(prog="python -m utils.verify", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-url", default="http://localhost",
                   help="API base URL (default http://localhost)")
    p.add_argument("--wallets", type=int, default=10, help="fresh wallets (default 10)")
    p.add_argument("--credits", type=int, default=200,
                   help="credits per wallet (default 200)")
    p.add_argument("--debits", type=int, default=100,
                   help="debits per wallet (default 100)")
    p.add_argument("--workers", type=int, default=32,
                   help="concurrent client threads (default 32)")
    p.add_argument("--replays", type=int, default=3,
                   help="accepted requests per wallet re-sent with the same "
                        "Idempotency-Key; must not change anything (default 3)")
    p.add_argument("--retries", type=int, default=5,
                   help="retries (same key) on 409/429/5xx/transport errors (default 5)")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="socket timeout per request in seconds (default 10)")
    p.add_argument("--seed", type=int, help="random seed for the amounts")
    args = p.parse_args(argv)
    if min(args.wallets, args.workers) < 1 or min(args.credits, args.debits,
                                                   args.replays, args.retries) < 0:
        p.error("--wallets/--workers must be >= 1, the other counts >= 0")
    try:
        passed = run(args.base_url, args.wallets, args.credits, args.debits,
                     args.workers, args.replays, args.retries, args.timeout, args.seed)
    except TRANSPORT_ERRORS as exc:
        print(f"FAIL: cannot talk to {args.base_url}: {type(exc).__name__}: {exc}")
        return 1
    except KeyboardInterrupt:
        print("FAIL: interrupted")
        return 130
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
