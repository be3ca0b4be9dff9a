"""A latency histogram with logarithmic buckets: 1% resolution, fixed memory, mergeable."""

from __future__ import annotations

import math

_GROWTH = 1.01  # each bucket is 1% wider than the one below it
_LOG_GROWTH = math.log(_GROWTH)
_FLOOR_NS = 1_000  # everything under 1 µs shares the first bucket


class LatencyHistogram:
    """Counts of latencies (in nanoseconds) by bucket; percentiles read to within 1%."""

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.total = 0
        self.min_ns = 0
        self.max_ns = 0

    @staticmethod
    def _bucket(ns: int) -> int:
        return int(math.log(max(ns, _FLOOR_NS) / _FLOOR_NS) / _LOG_GROWTH)

    @staticmethod
    def _upper_ns(bucket: int) -> float:
        return _FLOOR_NS * _GROWTH ** (bucket + 1)

    def record(self, ns: int) -> None:
        bucket = self._bucket(ns)
        self.counts[bucket] = self.counts.get(bucket, 0) + 1
        if self.total == 0 or ns < self.min_ns:
            self.min_ns = ns
        self.max_ns = max(self.max_ns, ns)
        self.total += 1

    def merge(self, other: LatencyHistogram) -> None:
        for bucket, count in other.counts.items():
            self.counts[bucket] = self.counts.get(bucket, 0) + count
        if other.total and (self.total == 0 or other.min_ns < self.min_ns):
            self.min_ns = other.min_ns
        self.max_ns = max(self.max_ns, other.max_ns)
        self.total += other.total

    def percentile_ms(self, percent: float) -> float | None:
        """The latency under which `percent` % of the recorded ones fall, in milliseconds."""
        if self.total == 0:
            return None
        rank = max(1, math.ceil(self.total * percent / 100))
        seen = 0
        for bucket in sorted(self.counts):
            seen += self.counts[bucket]
            if seen >= rank:
                # The bucket's upper edge, but never past what was really seen.
                return min(self._upper_ns(bucket), self.max_ns) / 1e6
        return self.max_ns / 1e6

    def render(self, *, rows: int = 20, width: int = 50) -> str:
        """A text picture: `rows` bands of equal log width from the fastest to the slowest."""
        if self.total == 0:
            return "(no samples)"
        low, high = self._bucket(self.min_ns), self._bucket(self.max_ns)
        span = max(1, math.ceil((high - low + 1) / rows))
        bands: list[tuple[float, int]] = []
        for start in range(low, high + 1, span):
            count = sum(self.counts.get(b, 0) for b in range(start, start + span))
            bands.append((self._upper_ns(start + span - 1) / 1e6, count))
        peak = max(count for _, count in bands) or 1
        lines = [
            f"  <= {edge:9.3f} ms {count:8d} {'#' * round(width * count / peak)}"
            for edge, count in bands
        ]
        return "\n".join(lines)
