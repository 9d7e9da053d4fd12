"""Tests for utils.curl / utils.client / utils.load / utils.stats against a fake API."""
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import unittest
from contextlib import redirect_stderr

from utils import curl
from utils.client import Request
from utils.stats import Stats, percentile
from utils.tests.fakeapi import FakeWalletAPI

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WALLET = "28skwt5B8zTrs6AqBWrSgCHLcRL"


def run_main(*argv):
    """Run curl.main in-process -> (exit code, stdout bytes, stderr text)."""
    out, err = io.BytesIO(), io.StringIO()
    code = curl.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def closed_port():
    """A local port with (almost certainly) nothing listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestArgs(unittest.TestCase):
    def test_parse_flags(self):
        a = curl.build_parser().parse_args(
            ["-s", "--loop", "--workers", "64", "--period", "0", "-X", "POST",
             "-d", '{"amount": 5}', "-H", "A: b", "-H", "C: d", "http://h/x"])
        self.assertEqual((a.silent, a.loop, a.workers, a.period, a.method),
                         (True, True, 64, 0.0, "POST"))
        self.assertEqual(a.data, ['{"amount": 5}'])
        self.assertEqual(a.header, ["A: b", "C: d"])
        self.assertEqual(a.url, "http://h/x")

    def test_defaults(self):
        a = curl.build_parser().parse_args(["localhost/x"])
        self.assertEqual((a.workers, a.period, a.processes, a.loop, a.silent),
                         (1, 1.0, 1, False, False))
        r = Request(a.url)
        self.assertEqual((r.host, r.port, r.path, r.method, r.body),
                         ("localhost", 80, "/x", "GET", None))

    def test_request_like_curl(self):
        r = Request("http://h:8080/a?b=1", data=["x=1", "y=2"])
        self.assertEqual((r.method, r.body, r.port, r.path), ("POST", b"x=1&y=2", 8080, "/a?b=1"))
        self.assertEqual(r.headers["Content-Type"], "application/x-www-form-urlencoded")
        r = Request("http://h/", "put", ["{}"], ["content-type: application/json", "Accept:"])
        self.assertEqual(r.method, "PUT")
        self.assertEqual(r.headers.get("content-type"), "application/json")
        self.assertNotIn("Content-Type", r.headers)
        self.assertNotIn("Accept", r.headers)
        self.assertFalse(r.replayable)
        self.assertTrue(Request("http://h/", "POST", headers=["Idempotency-Key: k"]).replayable)
        self.assertRaises(ValueError, Request, "ftp://h/")
        self.assertRaises(ValueError, Request, "http://h/", headers=["no colon"])

    def test_bad_values_exit_2(self):
        for argv in (["--workers", "0", "http://h/"], ["--period", "-1", "http://h/"]):
            with self.assertRaises(SystemExit) as cm, redirect_stderr(io.StringIO()):
                curl.main(argv)
            self.assertEqual(cm.exception.code, 2)


class TestStats(unittest.TestCase):
    def test_exact_percentile(self):
        data = list(range(1, 101))
        self.assertEqual(percentile(data, 50), 50)
        self.assertEqual(percentile(data, 90), 90)
        self.assertEqual(percentile(data, 99), 99)
        self.assertEqual(percentile(data, 100), 100)
        self.assertEqual(percentile([7], 99), 7)
        self.assertEqual(percentile([], 50), 0.0)

    def test_histogram_percentiles_close_to_exact(self):
        rng = random.Random(1)
        data = [rng.lognormvariate(-6, 1) for _ in range(20000)]  # ~2.5 ms median
        st = Stats()
        for x in data:
            st.record(x, 200)
        data.sort()
        for q in (50, 90, 99, 99.9):
            self.assertAlmostEqual(st.percentile(q) / percentile(data, q), 1, delta=0.01)
        self.assertEqual(st.percentile(100), data[-1])
        self.assertEqual(st.max, data[-1])

    def test_constant_data_exact_and_merge(self):
        a, b = Stats(), Stats()
        for _ in range(10):
            a.record(0.005, 200)
        b.record(0.005, 503)
        b.error(ConnectionRefusedError())
        m = Stats.merged([a, b])
        self.assertEqual((m.count, m.errors, m.total), (11, 1, 12))
        self.assertEqual(m.statuses, {200: 10, 503: 1})
        self.assertEqual(m.error_kinds, {"ConnectionRefusedError": 1})
        self.assertEqual(m.percentile(50), 0.005)
        self.assertEqual(Stats().percentile(99), 0.0)


class TestAgainstFake(unittest.TestCase):
    def setUp(self):
        self.api = FakeWalletAPI().__enter__()
        self.addCleanup(self.api.__exit__)

    def test_single_request_prints_body(self):
        code, out, _ = run_main(f"{self.api.url}/wallet/{WALLET}/balance")
        self.assertEqual(code, 0)  # 404 is still exit 0, like curl
        self.assertEqual(json.loads(out)["error"]["type"], "not_found")
        code, out, _ = run_main("-s", "-X", "POST", "-d", '{"amount": 5}',
                                f"{self.api.url}/wallet/{WALLET}/credit")
        self.assertEqual((code, json.loads(out)["balance"]), (0, "5.00"))

    def test_method_headers_body_sent(self):
        code, out, _ = run_main("-X", "PUT", "-d", "a=1", "-H", "X-Test: yes",
                                f"{self.api.url}/echo")
        echo = json.loads(out)
        self.assertEqual((echo["method"], echo["body"]), ("PUT", "a=1"))
        self.assertEqual(echo["headers"]["X-Test"], "yes")
        self.assertEqual(echo["headers"]["Content-Type"], "application/x-www-form-urlencoded")
        _, out, _ = run_main("-d", "{}", "-H", "Content-Type: application/json",
                             f"{self.api.url}/echo")
        echo = json.loads(out)
        self.assertEqual((echo["method"], echo["headers"]["Content-Type"]),
                         ("POST", "application/json"))

    def test_loop_exact_request_count_one_connection(self):
        code, out, err = run_main("-s", "--loop", "--requests", "25", "--period", "0",
                                  f"{self.api.url}/wallet/{WALLET}/balance")
        self.assertEqual((code, out), (0, b""))
        self.assertEqual(len(self.api.requests), 25)
        self.assertEqual(len({r[4] for r in self.api.requests}), 1)  # keep-alive
        self.assertIn("requests:   25 ", err)
        self.assertIn("404: 25", err)

    def test_loop_many_workers_exact_count_and_bodies(self):
        code, out, err = run_main("--requests", "40", "--workers", "8", "--period", "0",
                                  "-d", '{"amount": 1}', f"{self.api.url}/wallet/{WALLET}/credit")
        self.assertEqual(code, 0)
        self.assertEqual(len(out.splitlines()), 40)  # not silent: one body per line
        status, doc = self.api.handle("GET", f"/wallet/{WALLET}/balance", b"", None)
        self.assertEqual(doc["balance"], "40.00")
        self.assertIn("200: 40", err)

    def test_duration_stops(self):
        t0 = time.monotonic()
        code, _, err = run_main("-s", "--loop", "--duration", "0.4", "--period", "0.01",
                                "--workers", "2", f"{self.api.url}/echo")
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertEqual(code, 0)
        self.assertGreater(len(self.api.requests), 5)
        self.assertIn(f"200: {len(self.api.requests)}", err)

    def test_summary_counts_statuses(self):
        run_main("-s", "--requests", "3", "--period", "0", f"{self.api.url}/status/200")
        _, _, err = run_main("-s", "--requests", "4", "--period", "0",
                             f"{self.api.url}/status/503")
        self.assertIn("503: 4", err)
        self.assertIn("transport errors 0", err)
        self.assertRegex(err, r"latency ms: p50 [\d.]+  p90 [\d.]+  p99 [\d.]+  max [\d.]+")

    def test_stale_keepalive_reconnects(self):
        # server closes each connection silently after replying: GET is retried
        code, _, err = run_main("-s", "--requests", "5", "--period", "0",
                                f"{self.api.url}/drop")
        self.assertIn("200: 5", err)
        self.assertIn("errors:     0", err)
        self.assertEqual(len({r[4] for r in self.api.requests}), 5)

    def test_processes_exact_count(self):
        code, _, err = run_main("-s", "--requests", "30", "--workers", "4",
                                "--processes", "2", "--period", "0", f"{self.api.url}/echo")
        self.assertEqual(code, 0)
        self.assertEqual(len(self.api.requests), 30)
        self.assertIn("200: 30", err)

    def test_ctrl_c_prints_summary(self):
        proc = subprocess.Popen(
            [sys.executable, "-m", "utils.curl", "-s", "--loop", "--workers", "2",
             "--period", "0.01", f"{self.api.url}/echo"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 10
        while not self.api.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=5)
        self.assertEqual(proc.returncode, 0)
        self.assertIn("summary (interrupted)", err)
        self.assertIn("200: ", err)


class TestTransportErrors(unittest.TestCase):
    def test_single_shot_nonzero(self):
        code, out, err = run_main(f"http://127.0.0.1:{closed_port()}/x")
        self.assertEqual((code, out), (7, b""))
        self.assertIn("ConnectionRefusedError", err)

    def test_loop_counts_errors_and_fail_on_error(self):
        url = f"http://127.0.0.1:{closed_port()}/x"
        code, _, err = run_main("-s", "--requests", "3", "--period", "0", url)
        self.assertEqual(code, 0)
        self.assertIn("transport errors 3", err)
        self.assertIn("ConnectionRefusedError: 3", err)
        code, _, _ = run_main("-s", "--requests", "2", "--period", "0", "--fail-on-error", url)
        self.assertEqual(code, 1)


if __name__ == "__main__":
    unittest.main()
