"""In-process fake of the wallet HTTP API, only for testing the tools.

Routes: GET /wallet/{id}/balance, GET /wallet/{id}/transactions (event
documents newest first, paginated like the real API: ?before=&limit=, at most
max_page per page, "next_before" when a page is full), POST
/wallet/{id}/credit|debit (with Idempotency-Key support), plus test helpers:
  /echo          -> JSON of the request (method, path, headers, body)
  /status/{code} -> that status with a small JSON body
  /drop          -> 200, then silently closes the keep-alive connection
  /sleep/{secs}  -> 200 after sleeping
"""
import json
import threading
import time
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeWalletAPI:
    """Start with `with FakeWalletAPI() as api:`; base URL is api.url."""

    def __init__(self, lose_credit_every=0, fail_after_commit_every=0, max_page=1000):
        self.max_page = max_page
        self.lose_credit_every = lose_credit_every        # drop every Nth credit
        self.fail_after_commit_every = fail_after_commit_every  # 503 after applying
        self.lock = threading.Lock()
        self.wallets = {}     # id -> {"balance": Decimal, "version": int, "txs": [...]}
        self.keys = {}        # Idempotency-Key -> (status, doc)
        self.requests = []    # (method, path, headers, body, client port)
        self.credits = self.writes = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True,
                         kwargs={"poll_interval": 0.05}).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def handle(self, method, path, body, key):
        """Business logic -> (status, doc)."""
        url = urlsplit(path)
        query = {k: int(v[0]) for k, v in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "wallet":
            return 404, {"error": {"type": "not_found", "message": "no route"}}
        _, wid, action = parts
        with self.lock:
            if method == "POST" and key in self.keys:
                return self.keys[key]
            w = self.wallets.get(wid)
            if method == "GET":
                if w is None:
                    return 404, {"error": {"type": "not_found", "message": "no wallet"}}
                if action == "balance":
                    return 200, {"id": wid, "balance": f"{w['balance']:.2f}",
                                 "version": w["version"]}
                before = query.get("before") or w["version"] + 1
                limit = min(query.get("limit", 100), self.max_page)
                page = [t for t in w["txs"][::-1] if t["version"] < before][:limit]
                doc = {"id": wid, "transactions": page}
                if len(page) == limit and page[-1]["version"] > 1:
                    doc["next_before"] = page[-1]["version"]
                return 200, doc
            try:
                amount = Decimal(str(json.loads(body, parse_float=Decimal)["amount"]))
            except (ValueError, KeyError, TypeError, InvalidOperation):
                return 400, {"error": {"type": "bad_request", "message": "amount"}}
            w = w or {"balance": Decimal(0), "version": 0, "txs": []}
            if action == "debit" and w["balance"] < amount:
                return 422, {"error": {"type": "insufficient_funds", "message": "no"}}
            self.credits += action == "credit"
            lose = (action == "credit" and self.lose_credit_every
                    and self.credits % self.lose_credit_every == 0)
            if not lose:
                w["balance"] += amount if action == "credit" else -amount
                w["version"] += 1
                w["txs"].append({"type": action + "ed", "version": w["version"],
                                 "data": {"amount": f"{amount:.2f}",
                                          "balance": f"{w['balance']:.2f}"}})
            self.wallets[wid] = w
            result = (200, {"id": wid, "balance": f"{w['balance']:.2f}",
                            "version": w["version"]})
            if key:
                self.keys[key] = result
            self.writes += 1
            if self.fail_after_commit_every and self.writes % self.fail_after_commit_every == 0:
                return 503, {"error": {"type": "unavailable", "message": "lost reply"}}
            return result


def _make_handler(api):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        disable_nagle_algorithm = True  # else delayed ACKs cost 40 ms per reply

        def log_message(self, *args):
            pass

        def _reply(self, status, doc, close=False):
            raw = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
            if close:  # close without announcing it, like an idle timeout
                self.close_connection = True

        def _serve(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            with api.lock:
                api.requests.append((self.command, self.path, dict(self.headers),
                                     body, self.client_address[1]))
            if self.path == "/echo":
                return self._reply(200, {"method": self.command, "path": self.path,
                                         "headers": dict(self.headers),
                                         "body": body.decode()})
            if self.path.startswith("/status/"):
                return self._reply(int(self.path.split("/")[2]), {"ok": False})
            if self.path == "/drop":
                return self._reply(200, {"ok": True}, close=True)
            if self.path.startswith("/sleep/"):
                time.sleep(float(self.path.split("/")[2]))
                return self._reply(200, {"ok": True})
            self._reply(*api.handle(self.command, self.path, body,
                                    self.headers.get("Idempotency-Key")))

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return Handler
