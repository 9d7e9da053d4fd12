"""HTTP request plumbing shared by the tools: a precomputed Request, a
keep-alive aware exchange() on http.client connections, and a small JSON Api."""
import http.client
import json
import socket
import sys
import threading
from decimal import Decimal
from urllib.parse import urlsplit

# errors that mean "the idle keep-alive connection was closed under us"
STALE = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError,
         http.client.RemoteDisconnected)
REPLAYABLE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
# what a request can raise instead of returning a response
TRANSPORT_ERRORS = (OSError, http.client.HTTPException)


class Request:
    """Everything needed to send the request, computed once up front."""

    def __init__(self, url, method=None, data=None, headers=(), timeout=10.0):
        parts = urlsplit(url if "://" in url else "http://" + url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"unsupported URL: {url!r}")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        self.timeout = timeout
        self.body = None
        if data is not None:
            self.body = b"&".join(_read_data(d) for d in data)
        self.method = (method or ("POST" if self.body is not None else "GET")).upper()
        hdrs = {"User-Agent": "utils.curl/1.0", "Accept": "*/*"}
        if self.body is not None:
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        for line in headers:
            name, sep, value = line.partition(":")
            if not sep or not name.strip():
                raise ValueError(f"bad header (want 'Name: value'): {line!r}")
            name, value = name.strip(), value.strip()
            for old in [k for k in hdrs if k.lower() == name.lower()]:
                del hdrs[old]
            if value:
                hdrs[name] = value
        self.headers = hdrs
        lower = {k.lower() for k in hdrs}
        # like Go's net/http: safe to resend on a fresh connection
        self.replayable = (self.method in REPLAYABLE_METHODS
                           or "idempotency-key" in lower
                           or "x-idempotency-key" in lower)

    def connect(self):
        """A new (lazily connecting) HTTP(S)Connection."""
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=self.timeout)


def _read_data(d):
    """Bytes of one -d argument (curl semantics for @FILE and @-)."""
    if d.startswith("@"):
        path = d[1:]
        if path == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as f:
                raw = f.read()
        return raw.replace(b"\r", b"").replace(b"\n", b"")
    return d.encode("utf-8", "surrogateescape")


def exchange(req, conn):
    """Send req on conn (None = open one); return (conn or None, status, body).

    A failure on a reused keep-alive connection that the server had already
    closed is retried once on a fresh connection if the request is replayable.
    On any exception the connection is closed; the caller must drop it.
    """
    while True:
        fresh = conn is None
        if fresh:
            conn = req.connect()
        try:
            conn.request(req.method, req.path, req.body, req.headers)
            resp = conn.getresponse()
            body = resp.read()
        except BaseException as exc:
            conn.close()
            conn = None
            if fresh or not req.replayable or not isinstance(exc, STALE):
                raise
            continue
        if resp.will_close:
            conn.close()
            conn = None
        return conn, resp.status, body


def curl_exit_code(exc):
    """curl-compatible exit code for a transport error."""
    if isinstance(exc, socket.gaierror):
        return 6   # couldn't resolve host
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return 28  # operation timed out
    if isinstance(exc, ConnectionRefusedError):
        return 7   # failed to connect
    return 56      # failure receiving network data


class Api:
    """Tiny JSON client: one keep-alive connection per calling thread."""

    def __init__(self, base_url, timeout=10.0):
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.local = threading.local()
        self.lock = threading.Lock()
        self.conns = set()  # every connection handed out, for close()

    def call(self, method, path, body=None, key=None):
        """Return (status, decoded JSON or None); raises on transport error."""
        headers = ["Content-Type: application/json"] if body is not None else []
        if key:
            headers.append(f"Idempotency-Key: {key}")
        req = Request(self.base + path, method, None if body is None else [body],
                      headers, self.timeout)
        conn, self.local.conn = getattr(self.local, "conn", None), None
        conn, status, raw = exchange(req, conn)
        self.local.conn = conn
        if conn is not None and conn not in self.conns:
            with self.lock:
                self.conns.add(conn)
        try:
            return status, json.loads(raw, parse_float=Decimal) if raw else None
        except ValueError:
            return status, None

    def close(self):
        """Close all keep-alive connections (of all threads)."""
        with self.lock:
            for conn in self.conns:
                conn.close()
            self.conns.clear()
