"""Sample diversity: the fraction of distinct samples, which falls towards 0 under mode collapse."""
from __future__ import annotations

from typing import Sequence

from arae.metrics.base import MetricValue


def unique_fraction(samples: Sequence[str]) -> MetricValue:
    """Distinct non-empty samples / all samples (empty ones count in the denominator only)."""
    if not samples:
        return MetricValue.missing("no samples")
    distinct = {s.strip() for s in samples if s.strip()}
    n_empty = sum(1 for s in samples if not s.strip())
    return MetricValue(len(distinct) / len(samples), None,
                       {"n_samples": len(samples), "n_distinct": len(distinct), "n_empty": n_empty})
