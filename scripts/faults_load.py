#!/usr/bin/env python3
"""Keyed load and its checks for scripts/e2e_compose_faults.sh (Python standard library only,
with utils/client.py for HTTP).

  faults_load.py load  --base-url URL --redis HOST:PORT --prefix P --wallets W,.. --seconds S
                       [--stop-file F] --out FILE   (REDIS_PASSWORD in the environment)
      Writers send credits (60%) and debits of 0.01-20.00, each command with its own
      Idempotency-Key; an answer that leaves the outcome open (a timeout, a broken
      connection, 502, 503, 504) is retried with the SAME key until a real outcome (200, or
      422 insufficient_funds). Readers read all the time, through the API (GET /wallet/{id})
      and straight from Redis (GET wallet.<id>), and fail the run if one is served a version
      older than one already served to it, or a balance that differs from another answer's
      for the same version. Every command (its attempts with times and statuses) goes to
      FILE as a JSON line; a summary JSON object is printed.

  faults_load.py check --base-url URL --redis HOST:PORT --records FILE.. --log FILE
                       --states FILE [--wallets W,..] [--history]
      Compares what the clients were answered with the writer's event log (--log, --states:
      the JSON arrays the script dumps from SQLite): every acknowledged command is in the log exactly
      once by key, with the version it was answered; the log holds nothing else; per wallet
      the accepted commands are versions 1..n and their fold gives the balance of the state
      log, of Redis and of the API; the history holds exactly the writer's events at gapless
      positions. Prints figures; exits 1 on any violation.

  faults_load.py wait-redis --states FILE --redis HOST:PORT [--timeout S]
      Waits until every wallet's Redis document equals its state log document; prints the
      milliseconds it took.

  faults_load.py first-ok --records FILE.. --since MS
      Milliseconds from MS to the first 2xx answer of a command attempt sent at or after MS.
"""
import argparse
import json
import os
import random
import socket
import sys
import threading
import time
from collections import Counter, defaultdict
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from utils.client import TRANSPORT_ERRORS, Api  # noqa: E402

RETRYABLE = {502, 503, 504}
RETRY_PAUSE = (0.1, 0.3)  # seconds between two attempts of one command
SETTLE_SECONDS = 90       # how long after the load a command may still be retried


def now_ms():
    return int(time.time() * 1000)


# ---------------------------------------------------------------------------------------
# load

class Shared:
    def __init__(self):
        self.lock = threading.Lock()
        self.seen = {}  # (wallet, version) -> balance, from every answer and read
        self.problems = []
        self.counts = Counter()

    def problem(self, msg):
        with self.lock:
            if len(self.problems) < 20:
                self.problems.append(msg)
            self.counts["problems"] += 1

    def count(self, name, n=1):
        with self.lock:
            self.counts[name] += n

    def observe(self, who, wallet, version, balance):
        """Same version, same balance, whoever was shown it."""
        if version is None:
            return
        with self.lock:
            old = self.seen.setdefault((wallet, version), balance)
        if old != balance:
            self.count("wrong_balance")
            self.problem(f"{who}: wallet {wallet} version {version} balance {balance}, "
                         f"another answer had {old}")


class Until:
    """Load time: until a moment, or earlier once a stop file exists."""

    def __init__(self, at, stop_file):
        self.at, self.stop_file = at, stop_file

    def __call__(self):
        return time.time() < self.at and not (self.stop_file and os.path.exists(self.stop_file))


def writer_thread(api, shared, wallets, prefix, index, running, settle_at, out, out_lock):
    rnd = random.Random(f"{prefix}-{index}")
    n = 0
    while running():
        n += 1
        key = f"{prefix}-{index}-{n}"
        wallet = rnd.choice(wallets)
        op = "credit" if rnd.random() < 0.6 else "debit"
        cents = rnd.randint(1, 2000)
        amount = f"{cents // 100}.{cents % 100:02d}"
        body = json.dumps({"amount": amount})
        rec = {"key": key, "wallet": wallet, "op": op, "amount": amount, "attempts": []}
        while True:
            sent = now_ms()
            try:
                status, doc = api.call("POST", f"/wallet/{wallet}/{op}", body, key=key)
            except TRANSPORT_ERRORS as exc:
                status, doc = f"error:{type(exc).__name__}", None
            rec["attempts"].append([sent, now_ms(), status])
            if status == 200 and isinstance(doc, dict):
                rec["final"] = "acked"
                rec["version"] = doc.get("version")
                rec["balance"] = doc.get("balance")
                shared.observe(f"answer to {key}", wallet, rec["version"], rec["balance"])
                break
            err = (doc or {}).get("error", {}) if isinstance(doc, dict) else {}
            if status == 422 and op == "debit" and err.get("type") == "insufficient_funds":
                rec["final"] = "rejected"
                break
            if status == 500:
                shared.count("status_500")
                shared.problem(f"{key}: 500 {doc}")
            if not (isinstance(status, str) or status in RETRYABLE):
                rec["final"] = f"bad:{status}"
                shared.problem(f"{key}: unexpected answer {status} {doc}")
                break
            if time.time() > settle_at:
                rec["final"] = "unsettled"
                shared.problem(f"{key}: no real outcome by the settle deadline ({status})")
                break
            time.sleep(rnd.uniform(*RETRY_PAUSE))
        with out_lock:
            out.write(json.dumps(rec) + "\n")


def api_reader(api, shared, wallets, name, running):
    newest = {}
    while running():
        wallet = random.choice(wallets)
        try:
            status, doc = api.call("GET", f"/wallet/{wallet}")
        except TRANSPORT_ERRORS:
            shared.count("api_read_errors")
            time.sleep(0.05)
            continue
        shared.count("api_reads")
        if status == 404:
            version, balance = 0, None
        elif status == 200 and isinstance(doc, dict):
            version, balance = doc.get("version"), doc.get("balance")
        else:
            shared.count(f"api_read_status_{status}")
            if status == 500:
                shared.count("status_500")
                shared.problem(f"{name}: GET /wallet/{wallet} answered 500 {doc}")
            time.sleep(0.05)
            continue
        if version < newest.get(wallet, 0):
            shared.count("older_than_served")
            shared.problem(f"{name}: wallet {wallet} version {version} after {newest[wallet]}")
        newest[wallet] = max(version, newest.get(wallet, 0))
        if version:
            shared.observe(name, wallet, version, balance)


class Redis:
    """A minimal RESP client: AUTH, GET."""

    def __init__(self, addr, password, timeout=5.0):
        host, _, port = addr.rpartition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.file = self.sock.makefile("rb")
        if password:
            self.command("AUTH", password)

    def command(self, *args):
        out = [f"*{len(args)}\r\n".encode()]
        for a in args:
            b = a.encode()
            out.append(f"${len(b)}\r\n".encode() + b + b"\r\n")
        self.sock.sendall(b"".join(out))
        return self.reply()

    def reply(self):
        line = self.file.readline()
        if not line:
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:].rstrip(b"\r\n")
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.file.read(n + 2)
            return data[:-2].decode()
        raise RuntimeError(f"unexpected redis reply {line!r}")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def redis_reader(addr, password, shared, wallets, name, running):
    newest = {}
    conn = None
    while running():
        wallet = random.choice(wallets)
        try:
            if conn is None:
                conn = Redis(addr, password)
            raw = conn.command("GET", f"wallet.{wallet}")
        except (OSError, RuntimeError, ValueError):
            shared.count("redis_read_errors")
            if conn is not None:
                conn.close()
            conn = None
            time.sleep(0.1)
            continue
        shared.count("redis_reads")
        if raw is None:
            shared.count("redis_misses")
            continue
        doc = json.loads(raw)
        version, balance = doc.get("version"), doc.get("balance")
        if version < newest.get(wallet, 0):
            shared.count("older_than_served")
            shared.problem(f"{name}: wallet {wallet} version {version} after {newest[wallet]}")
        newest[wallet] = max(version, newest.get(wallet, 0))
        shared.observe(name, wallet, version, balance)
    if conn is not None:
        conn.close()


def cmd_load(args):
    wallets = args.wallets.split(",")
    read_wallets = wallets + (args.read_also.split(",") if args.read_also else [])
    started = time.time()
    stop_at = started + args.seconds
    running = Until(stop_at, args.stop_file)
    settle_at = stop_at + SETTLE_SECONDS
    shared = Shared()
    api = Api(args.base_url, timeout=args.timeout)
    out_lock = threading.Lock()
    password = os.environ.get("REDIS_PASSWORD", "")
    threads = []
    with open(args.out, "w", encoding="utf-8") as out:
        for i in range(args.writers):
            threads.append(threading.Thread(target=writer_thread, args=(
                api, shared, wallets, args.prefix, i, running, settle_at, out, out_lock)))
        for i in range(args.readers):
            threads.append(threading.Thread(target=api_reader, args=(
                api, shared, read_wallets, f"api reader {i}", running)))
            if args.redis:
                threads.append(threading.Thread(target=redis_reader, args=(
                    args.redis, password, shared, read_wallets, f"redis reader {i}", running)))
        for t in threads:
            t.daemon = True
            t.start()
        for t in threads:
            t.join(timeout=max(1.0, settle_at + 30 - time.time()))
    api.close()
    recs = read_records([args.out])
    summary = summarize(recs)
    for name in ("api_reads", "api_read_errors", "redis_reads", "redis_misses",
                 "redis_read_errors", "older_than_served", "wrong_balance"):
        summary[name] = shared.counts.get(name, 0)
    summary.update({k: v for k, v in sorted(shared.counts.items())})
    summary["problems"] = shared.problems
    summary["seconds"] = round(time.time() - started, 1)
    print(json.dumps(summary))
    return 1 if shared.problems or summary["unsettled"] or summary["bad"] else 0


def read_records(paths):
    recs = []
    for p in paths:
        with open(p, encoding="utf-8") as f:
            recs.extend(json.loads(line) for line in f if line.strip())
    return recs


def summarize(recs):
    retried = [r for r in recs if len(r["attempts"]) > 1]
    why = Counter(str(a[2]) for r in recs for a in r["attempts"][:-1])
    finals = Counter(r.get("final", "unsettled") for r in recs)
    return {
        "commands": len(recs),
        "acknowledged": finals["acked"],
        "rejected": finals["rejected"],
        "retried_commands": len(retried),
        "retries": sum(len(r["attempts"]) - 1 for r in recs),
        "retried_answers": dict(why),
        "unsettled": finals["unsettled"],
        "bad": sum(v for k, v in finals.items() if k.startswith("bad")),
        "status_500": sum(1 for r in recs for a in r["attempts"] if a[2] == 500),
        "slowest_write_ms": max((a[1] - a[0] for r in recs for a in r["attempts"]), default=0),
    }


# ---------------------------------------------------------------------------------------
# check

def fold(rows):
    """Balance of accepted commands in version order (exact cents)."""
    cents = 0
    for r in rows:
        amount = int(Decimal(str(r["data"]["amount"])) * 100)
        cents += amount if r["command"] == "credit" else -amount
    return cents


def cents(s):
    return int(Decimal(str(s)) * 100)


def cmd_check(args):
    recs = read_records(args.records)
    with open(args.log, encoding="utf-8") as f:
        log = json.load(f)
    with open(args.states, encoding="utf-8") as f:
        states = {r["stream"]: r["state"] for r in json.load(f)}
    problems = []

    def problem(msg):
        if len(problems) < 30:
            problems.append(msg)

    by_key = defaultdict(list)
    for row in log:
        by_key[row["key"]].append(row)
    mine = {r["key"]: r for r in recs}
    duplicated = sum(1 for k, rows in by_key.items() if len(rows) > 1)
    for k, rows in by_key.items():
        if len(rows) > 1:
            problem(f"key {k} is in the log {len(rows)} times")
        if k not in mine:
            problem(f"the log holds a command no client sent: key {k}")
    lost = 0
    for k, r in mine.items():
        rows = by_key.get(k, [])
        final = r.get("final")
        if final == "acked":
            if not rows:
                lost += 1
                problem(f"acknowledged {k} is not in the log")
            elif rows[0]["outcome"] != "accepted" or rows[0]["version"] != r["version"]:
                problem(f"{k}: answered version {r['version']}, log has {rows[0]['outcome']} "
                        f"version {rows[0]['version']}")
        elif final == "rejected":
            if not rows or rows[0]["outcome"] != "rejected":
                problem(f"rejected {k}: log has {rows[:1]}")
        else:
            problem(f"{k} has no real outcome ({final})")

    streams = defaultdict(list)
    for row in log:
        if row["outcome"] == "accepted":
            streams[row["stream"]].append(row)
    wallets = set(args.wallets.split(",")) if args.wallets else set()
    wallets |= {s.split(".", 1)[1] for s in streams}
    api = Api(args.base_url, timeout=10)
    rconn = Redis(args.redis, os.environ.get("REDIS_PASSWORD", ""))
    balances_checked = 0
    for w in sorted(wallets):
        rows = sorted(streams.get(f"wallet.{w}", []), key=lambda r: r["version"])
        versions = [r["version"] for r in rows]
        if versions != list(range(1, len(rows) + 1)):
            problem(f"wallet {w}: versions in the log are not 1..n: {versions[:10]}...")
        folded = fold(rows)
        want = {"version": len(rows), "balance": folded}
        state = states.get(f"wallet.{w}")
        raw = rconn.command("GET", f"wallet.{w}")
        got = {"state log": state, "redis": None if raw is None else json.loads(raw)}
        try:
            status, doc = api.call("GET", f"/wallet/{w}")
            got["API"] = doc if status == 200 else None
        except TRANSPORT_ERRORS as exc:
            got["API"] = None
            problem(f"GET /wallet/{w}: {exc!r}")
        for where, doc in got.items():
            if not rows and doc is None:
                continue
            if (not isinstance(doc, dict) or doc.get("version") != want["version"]
                    or cents(doc.get("balance", "NaN")) != want["balance"]):
                problem(f"wallet {w}: {where} has {doc}, the log folds to version "
                        f"{want['version']} balance {want['balance'] / 100:.2f}")
        balances_checked += 1

    events = [e for row in log if row["outcome"] == "accepted" for e in row["events"]]
    history = None
    if args.history:
        history = check_history(api, events, problem)
    api.close()
    rconn.close()
    figures = summarize(recs)
    figures.update({
        "log_rows": len(log), "log_events": len(events), "lost": lost,
        "duplicated": duplicated, "wallets_checked": balances_checked,
        "history_events": history,
    })
    figures["problems"] = problems
    print(json.dumps(figures))
    return 1 if problems else 0


def check_history(api, events, problem):
    """The history holds exactly the writer's events, once each, at gapless positions 1..n
    (among them the wallet queue's own events, which are not the writer's)."""
    ids, positions, after = [], [], 0
    while True:
        status, page = api.call("GET", f"/history?after={after}&limit=1000")
        if status != 200 or not isinstance(page, dict):
            problem(f"GET /history?after={after}: {status}")
            return None
        for e in page.get("events") or []:
            positions.append(e["position"])
            if e["stream"].startswith("wallet."):
                ids.append(e["id"])
        if not page.get("events") or page.get("next", after) <= after:
            break
        after = page["next"]
    if positions != list(range(1, len(positions) + 1)):
        problem(f"history positions are not gapless 1..n (n={len(positions)})")
    if len(set(ids)) != len(ids):
        problem("an event is in the history twice")
    want = {e["id"] for e in events}
    if set(ids) != want:
        problem(f"history has {len(set(ids))} events, the writer's log {len(want)}: "
                f"{len(want - set(ids))} missing, {len(set(ids) - want)} not in the log")
    return len(ids)


def cmd_wait_redis(args):
    """Waits until Redis holds every wallet's document of the state log, equal as JSON."""
    with open(args.states, encoding="utf-8") as f:
        states = {r["stream"]: r["state"] for r in json.load(f)}
    started = time.time()
    deadline = started + args.timeout
    differ = sorted(states)
    conn = None
    while True:
        try:
            if conn is None:
                conn = Redis(args.redis, os.environ.get("REDIS_PASSWORD", ""))
            differ = [s for s in differ if json.loads(conn.command("GET", s) or "null") != states[s]]
        except (OSError, RuntimeError, ValueError):
            if conn is not None:
                conn.close()
            conn = None
        if not differ:
            print(json.dumps({"documents": len(states), "ms": int((time.time() - started) * 1000),
                              "at_ms": now_ms()}))
            return 0
        if time.time() > deadline:
            print(json.dumps({"documents": len(states), "differ": len(differ),
                              "example": differ[0], "timeout_s": args.timeout}))
            return 1
        time.sleep(0.05)


def cmd_first_ok(args):
    recs = read_records(args.records)
    oks = [a[1] for r in recs for a in r["attempts"] if a[0] >= args.since and a[2] == 200]
    print(min(oks) - args.since if oks else -1)
    return 0 if oks else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    lp = sub.add_parser("load")
    lp.add_argument("--base-url", required=True)
    lp.add_argument("--redis", help="HOST:PORT to read wallet.<id> from (REDIS_PASSWORD)")
    lp.add_argument("--prefix", required=True, help="of the Idempotency-Keys")
    lp.add_argument("--wallets", required=True, help="comma-separated wallets to write")
    lp.add_argument("--read-also", default="", help="more wallets to read only")
    lp.add_argument("--seconds", type=float, default=12, help="at most")
    lp.add_argument("--stop-file", help="stop sending once this file exists")
    lp.add_argument("--writers", type=int, default=6)
    lp.add_argument("--readers", type=int, default=2)
    lp.add_argument("--timeout", type=float, default=10.0)
    lp.add_argument("--out", required=True)
    cp = sub.add_parser("check")
    cp.add_argument("--base-url", required=True)
    cp.add_argument("--records", nargs="+", required=True)
    cp.add_argument("--log", required=True)
    cp.add_argument("--states", required=True)
    cp.add_argument("--redis", required=True, help="HOST:PORT (REDIS_PASSWORD)")
    cp.add_argument("--wallets", default="")
    cp.add_argument("--history", action="store_true")
    wp = sub.add_parser("wait-redis")
    wp.add_argument("--states", required=True)
    wp.add_argument("--redis", required=True, help="HOST:PORT (REDIS_PASSWORD)")
    wp.add_argument("--timeout", type=float, default=60)
    fp = sub.add_parser("first-ok")
    fp.add_argument("--records", nargs="+", required=True)
    fp.add_argument("--since", type=int, required=True)
    args = p.parse_args()
    return {"load": cmd_load, "check": cmd_check, "wait-redis": cmd_wait_redis,
            "first-ok": cmd_first_ok}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
