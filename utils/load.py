"""Load engine: worker threads (optionally spread over processes) that
repeat one Request on keep-alive connections and collect Stats."""
import itertools
import multiprocessing
import queue
import signal
import sys
import threading
import time

from .client import TRANSPORT_ERRORS, exchange
from .stats import Stats

ERROR_BACKOFF = 0.05  # seconds a worker waits after a transport error


def _worker(req, stats, stop, budget, limit, period, out):
    """One load thread: request in a loop on one keep-alive connection."""
    conn = None
    clock = time.perf_counter
    while not stop.is_set():
        if limit is not None and next(budget) >= limit:
            break
        t0 = clock()
        try:
            conn, status, body = exchange(req, conn)
        except TRANSPORT_ERRORS as exc:
            conn = None
            stats.error(exc)
            if stop.wait(max(period, ERROR_BACKOFF)):
                break
            continue
        stats.record(clock() - t0, status)
        if out is not None:
            out(body)
        if period and stop.wait(period):
            break
    if conn is not None:
        conn.close()


def body_printer(stream):
    """Thread-safe writer of one response body per line to a binary stream."""
    lock = threading.Lock()

    def out(body):
        with lock:
            stream.write(body if body.endswith(b"\n") else body + b"\n")
            stream.flush()
    return out


class ThreadLoad:
    """`workers` threads in this process sharing one request budget."""

    def __init__(self, req, workers, limit, period, out):
        self.stop_event = threading.Event()
        self.stats = [Stats() for _ in range(workers)]
        budget = itertools.count()  # next() is atomic under the GIL
        self.threads = [
            threading.Thread(target=_worker, daemon=True, name=f"worker-{i}",
                             args=(req, st, self.stop_event, budget, limit, period, out))
            for i, st in enumerate(self.stats)]

    def start(self):
        for t in self.threads:
            t.start()

    def alive(self):
        return any(t.is_alive() for t in self.threads)

    def stop(self):
        self.stop_event.set()

    def join(self, timeout):
        """Wait up to `timeout` s in total; stuck (daemon) threads are abandoned."""
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def snapshot(self):
        return Stats.merged(self.stats)


def _split(total, parts):
    """Split an integer as evenly as possible: _split(10, 3) -> [4, 3, 3]."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _child(idx, req, workers, limit, period, silent, queue, stop_event):
    """Body of one --processes child: a ThreadLoad reporting over a queue."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent coordinates Ctrl-C
    out = None if silent else body_printer(sys.stdout.buffer)
    load = ThreadLoad(req, workers, limit, period, out)
    load.start()
    while load.alive():
        if stop_event.wait(0.25):
            load.stop()
            break
        queue.put((idx, load.snapshot(), False))
    load.join(1.0)
    queue.put((idx, load.snapshot(), True))


class ProcessLoad:
    """Same interface as ThreadLoad, but spread over several processes."""

    def __init__(self, req, workers, limit, period, silent, processes):
        ctx = multiprocessing.get_context()
        self.queue, self.stop_event = ctx.Queue(), ctx.Event()
        self.latest, self.done = {}, set()
        threads = _split(workers, processes)
        limits = _split(limit, processes) if limit is not None else [None] * processes
        self.procs = [
            ctx.Process(target=_child, daemon=True,
                        args=(i, req, threads[i], limits[i], period, silent,
                              self.queue, self.stop_event))
            for i in range(processes)]

    def start(self):
        for p in self.procs:
            p.start()

    def _drain(self):
        while True:
            try:
                idx, stats, final = self.queue.get_nowait()
            except queue.Empty:
                return
            self.latest[idx] = stats
            if final:
                self.done.add(idx)

    def alive(self):
        dead = [not p.is_alive() for p in self.procs]  # before draining: a dead
        self._drain()                                   # child's data is all sent
        return any(i not in self.done and not dead[i] for i in range(len(self.procs)))

    def stop(self):
        self.stop_event.set()

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        for p in self.procs:
            if p.is_alive():
                p.terminate()

    def snapshot(self):
        self._drain()
        return Stats.merged(self.latest.values())


def format_progress(stats, elapsed, rate):
    """The one-line live progress text."""
    return (f"[{elapsed:7.1f}s] {rate:9.1f} req/s  total {stats.total}  "
            f"errors {stats.errors}  p99 {stats.percentile(99) * 1e3:.2f} ms")


def format_summary(stats, elapsed, interrupted=False):
    """Multi-line final report."""
    ms = lambda q: f"{stats.percentile(q) * 1e3:.2f}"  # noqa: E731
    codes = "  ".join(f"{k}: {v}" for k, v in sorted(stats.statuses.items())) or "-"
    kinds = "  ".join(f"{k}: {v}" for k, v in sorted(stats.error_kinds.items()))
    rate = stats.total / elapsed if elapsed > 0 else 0.0
    lines = [
        "--- summary" + (" (interrupted)" if interrupted else "") + " ---",
        f"requests:   {stats.total}  (responses {stats.count}, "
        f"transport errors {stats.errors})",
        f"duration:   {elapsed:.2f} s",
        f"rate:       {rate:.1f} req/s",
        f"latency ms: p50 {ms(50)}  p90 {ms(90)}  p99 {ms(99)}  "
        f"max {stats.max * 1e3:.2f}" if stats.count else "latency ms: -",
        f"status:     {codes}",
        f"errors:     {stats.errors}" + (f"  ({kinds})" if kinds else ""),
    ]
    return "\n".join(lines) + "\n"


class _Progress:
    """Throttled progress line: \\r-overwritten on a tty, else a line per 5 s."""

    def __init__(self, stream, enabled):
        self.stream, self.enabled = stream, enabled
        self.tty = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.interval = 0.5 if self.tty else 5.0
        self.t0 = self.last_t = time.monotonic()
        self.last_total = 0
        self.shown = False

    def tick(self, load):
        now = time.monotonic()
        if not self.enabled or now - self.last_t < self.interval:
            return
        stats = load.snapshot()
        rate = (stats.total - self.last_total) / (now - self.last_t)
        self.last_t, self.last_total = now, stats.total
        line = format_progress(stats, now - self.t0, rate)
        self.stream.write("\r" + line + "\x1b[K" if self.tty else line + "\n")
        self.stream.flush()
        self.shown = True

    def clear(self):
        if self.tty and self.shown:
            self.stream.write("\r\x1b[K")


def run_loop(req, workers=1, period=1.0, duration=None, requests=None,
             processes=1, out=None, stderr=None, progress=True):
    """Run the load until done/duration/Ctrl-C; return (Stats, elapsed, interrupted).

    `out` is a body callback (None = silent; with processes>1 the children
    print to their own stdout instead and only `out is None` matters).
    """
    stderr = stderr or sys.stderr
    processes = max(1, min(processes, workers))
    if processes > 1:
        load = ProcessLoad(req, workers, requests, period, out is None, processes)
    else:
        load = ThreadLoad(req, workers, requests, period, out)
    flag = {"interrupted": False}
    previous = None
    if threading.current_thread() is threading.main_thread():
        def on_sigint(signum, frame):
            if flag["interrupted"]:  # second Ctrl-C: give up waiting
                raise KeyboardInterrupt
            flag["interrupted"] = True
        previous = signal.signal(signal.SIGINT, on_sigint)
    t0 = time.monotonic()
    deadline = t0 + duration if duration else None
    bar = _Progress(stderr, progress)
    elapsed = 0.0
    try:
        load.start()
        while load.alive() and not flag["interrupted"]:
            if deadline is not None and time.monotonic() >= deadline:
                break
            time.sleep(0.05)
            bar.tick(load)
        elapsed = time.monotonic() - t0
        load.stop()
        load.join(1.0)
    finally:
        load.stop()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    bar.clear()
    return load.snapshot(), elapsed, flag["interrupted"]
