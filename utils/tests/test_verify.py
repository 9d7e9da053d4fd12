"""Tests for utils.verify: KSUIDs and PASS/FAIL against fake wallet APIs."""
import io
import time
import unittest
from contextlib import redirect_stdout
from decimal import Decimal

from utils import verify
from utils.tests.fakeapi import FakeWalletAPI

SMALL = dict(wallets=3, credits=30, debits=20, workers=8, seed=7)


class TestKsuid(unittest.TestCase):
    def test_format_and_timestamp(self):
        now = time.time()
        ids = {verify.ksuid() for _ in range(200)}
        self.assertEqual(len(ids), 200)
        for k in ids:
            self.assertEqual(len(k), 27)
            self.assertTrue(set(k) <= set(verify.BASE62), k)
            self.assertLessEqual(abs(verify.ksuid_timestamp(k) - now), 2)

    def test_known_values(self):
        # segmentio/ksuid README: 0ujtsYcgvSTl8PAuAdqWYSMnLOv is 2017-10-10 04:00:47 UTC
        self.assertEqual(verify.ksuid_timestamp("0ujtsYcgvSTl8PAuAdqWYSMnLOv"), 1507608047)
        self.assertEqual(verify.ksuid_timestamp("28skwt5B8zTrs6AqBWrSgCHLcRL"), 1652012922)
        k = verify.ksuid(now=verify.KSUID_EPOCH)  # timestamp 0: zero-padded
        self.assertEqual(len(k), 27)
        self.assertEqual(verify.ksuid_timestamp(k), verify.KSUID_EPOCH)

    def test_sorts_by_time(self):
        self.assertLess(verify.ksuid(now=1700000000), verify.ksuid(now=1700000001))


class TestHelpers(unittest.TestCase):
    def test_tx_sum(self):
        txs = [{"type": "credit", "amount": "5.10"}, {"type": "debit", "amount": "1.05"},
               {"type": "debit", "amount": Decimal("-1.00")},
               {"type": "credited", "data": {"amount": Decimal("2.00"), "balance": "x"}}]
        self.assertEqual(verify.tx_sum(txs), Decimal("5.05"))
        self.assertIsNone(verify.tx_sum([{"what": 1}]))

    def test_plan_amounts_are_exact_cents(self):
        ops = verify.plan(["a", "b"], 5, 3, verify.random.Random(1))
        self.assertEqual(len(ops), 16)
        self.assertEqual({o.kind for o in ops}, {"credit", "debit"})
        self.assertTrue(all(o.amount == o.amount.quantize(Decimal("0.01")) > 0 for o in ops))
        self.assertEqual(len({o.key for o in ops}), 16)


class TestVerify(unittest.TestCase):
    def run_verify(self, **fake):
        out = io.StringIO()
        with FakeWalletAPI(**fake) as api:
            passed = verify.run(api.url, out=out, **SMALL)
        return passed, out.getvalue()

    def test_pass_against_correct_fake(self):
        passed, report = self.run_verify(max_page=16)  # forces next_before paging
        self.assertTrue(passed, report)
        self.assertIn("PASS: 3/3 wallets consistent", report)
        self.assertIn("replays (same Idempotency-Key): 9 sent, statuses {200: 9}", report)

    def test_fetch_transactions_follows_pages(self):
        with FakeWalletAPI(max_page=3) as fake:
            for _ in range(10):
                fake.handle("POST", "/wallet/w/credit", b'{"amount": 1}', None)
            api = verify.Api(fake.url)
            status, txs = verify.fetch_transactions(api, "w")
            api.close()
        self.assertEqual(status, 200)
        self.assertEqual([t["version"] for t in txs], list(range(10, 0, -1)))

    def test_fail_when_a_credit_is_lost(self):
        passed, report = self.run_verify(lose_credit_every=25)
        self.assertFalse(passed, report)
        self.assertIn("FAIL", report)
        self.assertRegex(report, r"balance [\d.]+ != expected")

    def test_pass_when_replies_are_lost_but_idempotent(self):
        passed, report = self.run_verify(fail_after_commit_every=7)
        self.assertTrue(passed, report)
        self.assertNotIn("retries 0", report)

    def test_main_exit_codes(self):
        with FakeWalletAPI() as api, redirect_stdout(io.StringIO()):
            self.assertEqual(verify.main(["--base-url", api.url, "--wallets", "2",
                                          "--credits", "5", "--debits", "5"]), 0)
        with FakeWalletAPI(lose_credit_every=3) as api, redirect_stdout(io.StringIO()):
            self.assertEqual(verify.main(["--base-url", api.url, "--wallets", "2",
                                          "--credits", "5", "--debits", "0"]), 1)
        with redirect_stdout(io.StringIO()) as out:
            self.assertEqual(verify.main(["--base-url", "http://127.0.0.1:1"]), 1)
        self.assertIn("FAIL: cannot talk to", out.getvalue())


if __name__ == "__main__":
    unittest.main()
