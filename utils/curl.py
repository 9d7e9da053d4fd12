"""curl-like HTTP client with a built-in load loop (standard library only).

Single shot (like curl): print the response body, exit 0 on any HTTP status,
non-zero (curl's codes 6/7/28/56) on transport errors.

Loop mode (--loop, or implied by --requests/--duration): N worker threads,
each with one persistent keep-alive connection, a live progress line and a
final summary on stderr. Ctrl-C stops cleanly and still prints the summary.
"""
import argparse
import sys

from .client import TRANSPORT_ERRORS, Request, curl_exit_code, exchange
from .load import body_printer, format_summary, run_loop

EXAMPLES = """examples:
  python -m utils.curl http://localhost/wallet/ID/balance
  python -m utils.curl -s --loop --workers 64 --period 0 http://localhost/wallet/ID/balance
  python -m utils.curl --loop --workers 16 --period 0 -s -X POST \\
      -d '{"amount": 5}' http://localhost/wallet/ID/credit
  python -m utils.curl -s --requests 10000 --workers 32 --processes 4 --period 0 URL
"""


def build_parser():
    """The argparse parser (curl-style short flags plus load-loop options)."""
    p = argparse.ArgumentParser(
        prog="python -m utils.curl", description=__doc__, epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url", help="http:// or https:// URL (scheme defaults to http)")
    p.add_argument("-X", "--request", dest="method", metavar="METHOD",
                   help="HTTP method (default GET, or POST when -d is given)")
    p.add_argument("-d", "--data", action="append", metavar="DATA",
                   help="request body; @FILE reads a file (newlines stripped); "
                        "repeated -d are joined with '&'. Sets Content-Type "
                        "application/x-www-form-urlencoded unless -H overrides")
    p.add_argument("-H", "--header", action="append", default=[],
                   metavar="'NAME: VALUE'",
                   help="extra header (repeatable); 'NAME:' removes a default one")
    p.add_argument("-s", "--silent", action="store_true",
                   help="loop mode: don't print response bodies")
    p.add_argument("-m", "--max-time", dest="timeout", type=float, default=10.0,
                   metavar="SECONDS", help="socket timeout per request (default 10)")
    g = p.add_argument_group("load loop")
    g.add_argument("--loop", action="store_true",
                   help="repeat until Ctrl-C, --duration or --requests")
    g.add_argument("--workers", type=int, default=1, metavar="N",
                   help="concurrent worker threads, one connection each (default 1)")
    g.add_argument("--period", type=float, default=1.0, metavar="SECONDS",
                   help="pause between requests per worker (default 1; 0 = flat out)")
    g.add_argument("--duration", type=float, metavar="SECONDS",
                   help="stop after this long (implies --loop)")
    g.add_argument("--requests", type=int, metavar="N",
                   help="stop after N requests in total (implies --loop)")
    g.add_argument("--processes", type=int, default=1, metavar="N",
                   help="split workers over N processes to get past the GIL")
    g.add_argument("--fail-on-error", action="store_true",
                   help="exit 1 if any transport error happened")
    g.add_argument("--no-progress", action="store_true",
                   help="no live progress line on stderr")
    return p




def run_once(req, stdout, stderr):
    """One request: body to stdout; curl-style exit code."""
    try:
        conn, _status, body = exchange(req, None)
    except TRANSPORT_ERRORS as exc:
        code = curl_exit_code(exc)
        stderr.write(f"curl: ({code}) {type(exc).__name__}: {exc}\n")
        return code
    if conn is not None:
        conn.close()
    stdout.write(body)
    stdout.flush()
    return 0


def main(argv=None, stdout=None, stderr=None):
    """CLI entry point; returns the exit code. stdout is a binary stream."""
    parser = build_parser()
    args = parser.parse_args(argv)
    stdout = stdout or sys.stdout.buffer
    stderr = stderr or sys.stderr
    for name in ("workers", "processes", "requests"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name} must be >= 1")
    if args.period < 0 or (args.duration is not None and args.duration <= 0):
        parser.error("--period must be >= 0 and --duration > 0")
    try:
        req = Request(args.url, args.method, args.data, args.header, args.timeout)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    if not (args.loop or args.requests or args.duration):
        try:
            return run_once(req, stdout, stderr)
        except KeyboardInterrupt:
            return 130
    try:
        stats, elapsed, interrupted = run_loop(
            req, workers=args.workers, period=args.period, duration=args.duration,
            requests=args.requests, processes=args.processes,
            out=None if args.silent else body_printer(stdout),
            stderr=stderr, progress=not args.no_progress)
    except KeyboardInterrupt:  # second Ctrl-C: don't wait for the summary
        stderr.write("\naborted\n")
        return 130
    stdout.flush()
    stderr.write(format_summary(stats, elapsed, interrupted))
    stderr.flush()
    return 1 if args.fail_on_error and stats.errors else 0


if __name__ == "__main__":
    sys.exit(main())
