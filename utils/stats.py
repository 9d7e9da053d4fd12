"""Request statistics for the load tools: counts, status codes and latency.

Latencies go into a fixed log-scale histogram (1 us .. 100 s, buckets 1 %
wide), so memory stays constant however long a load runs. Percentiles read
from it are within 0.5 % of the exact value and are clamped to the exactly
tracked min/max (so p100 == max exactly).

One Stats object is owned (written) by exactly one worker thread; readers
merge copies. That needs no locks under the GIL: the histogram list never
changes size and dict(...) copies are atomic.
"""
import math
import operator

RATIO = 1.01
_INV_LOG = 1.0 / math.log(RATIO)
NBUCKETS = int(math.log(1e8) * _INV_LOG) + 2  # bucket 0 is < 1 us


def bucket(seconds):
    """Histogram bucket index for a latency in seconds."""
    us = seconds * 1e6
    if us < 1.0:
        return 0
    b = int(math.log(us) * _INV_LOG) + 1
    return b if b < NBUCKETS else NBUCKETS - 1


def bucket_value(b):
    """Representative latency (seconds, geometric middle) of bucket b."""
    if b == 0:
        return 0.5e-6
    return RATIO ** (b - 0.5) / 1e6


def percentile(sorted_values, q):
    """Exact nearest-rank percentile q (0..100) of an already sorted list."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


class Stats:
    """Counters for one worker (or a merged view of many)."""

    __slots__ = ("hist", "count", "errors", "statuses", "error_kinds",
                 "min", "max")

    def __init__(self):
        self.hist = [0] * NBUCKETS
        self.count = 0          # requests that got an HTTP response
        self.errors = 0         # transport errors (no HTTP response)
        self.statuses = {}      # status code -> count
        self.error_kinds = {}   # exception class name -> count
        self.min = math.inf
        self.max = 0.0

    @property
    def total(self):
        """All attempted requests: responses plus transport errors."""
        return self.count + self.errors

    def record(self, seconds, status):
        """Count one HTTP response that took `seconds`."""
        self.hist[bucket(seconds)] += 1
        st = self.statuses
        st[status] = st.get(status, 0) + 1
        if seconds > self.max:
            self.max = seconds
        if seconds < self.min:
            self.min = seconds
        self.count += 1

    def error(self, exc):
        """Count one transport error (exception instead of a response)."""
        kind = type(exc).__name__
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
        self.errors += 1

    def merge(self, other):
        """Add other's counts into self (other may be live in another thread)."""
        self.hist = list(map(operator.add, self.hist, other.hist))
        for mine, theirs in ((self.statuses, dict(other.statuses)),
                             (self.error_kinds, dict(other.error_kinds))):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v
        self.count += other.count
        self.errors += other.errors
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        return self

    @classmethod
    def merged(cls, many):
        """A new Stats holding the sum of all Stats in `many`."""
        out = cls()
        for s in many:
            out.merge(s)
        return out

    def percentile(self, q):
        """Approximate nearest-rank latency percentile in seconds (0 if empty)."""
        n = sum(self.hist)
        if n == 0:
            return 0.0
        rank = max(1, math.ceil(q / 100.0 * n))
        if rank >= n:
            return self.max
        seen = 0
        for b, c in enumerate(self.hist):
            seen += c
            if seen >= rank:
                return min(max(bucket_value(b), self.min), self.max)
        return self.max
