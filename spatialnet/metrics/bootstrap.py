"""How sure a score is: bootstrap intervals and a paired test between two systems on one split.

Every metric scored here is a function of per-item statistics summed over the split (a
:class:`Tally`): BLEU's clipped n-gram matches and lengths, METEOR's match statistics, per-image
ROUGE-L and CIDEr, correct answers per RSVQA question type. A resample of items is then a row of
multiplicities, its statistics one matrix product, and each corpus metric is recomputed exactly on
every resample instead of being treated as a mean of per-item scores.

Intervals are percentile bootstrap intervals (Efron & Tibshirani, "An Introduction to the
Bootstrap", 1993, ch. 13). The paired test reports a paired-bootstrap interval of the difference
(both systems scored on the same resampled items, Koehn, EMNLP 2004) and the p-value of
approximate randomisation (Noreen 1989; Riezler & Maxwell, ACL 2005 workshop): under the null
hypothesis the two systems' outputs for an item are exchangeable, so each trial swaps them item by
item with probability 1/2 and recomputes both corpus metrics. Randomisation is used for the p-value
because it tests that null directly, without assuming that the bootstrap distribution of the
difference is centred where the true one is; Riezler & Maxwell found the bootstrap test's type-I
error above the nominal level on corpus metrics, and randomisation's not. Identical systems give
p = 1 exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from spatialnet.errors import DataError
from spatialnet.metrics.ids import check_same_ids

DEFAULT_RESAMPLES = 1000
CONFIDENCE = 0.95
# Work on at most this many (draw, item) cells at once: 32 MB of float64 multiplicities.
_CELLS = 1 << 22
# Randomised differences this close to the observed one count as "as extreme" (rounding noise).
_TIE = 1e-12

Score = Callable[[np.ndarray], dict[str, np.ndarray]]


@dataclass(frozen=True, eq=False)  # arrays inside: compare tallies by identity
class Tally:
    """Per-item statistics of one system on one split, and how their sums become metrics.

    ``rows[k]`` holds the statistics of item ``ids[k]`` (ids ascending); ``score`` maps summed rows
    (draws × columns) to each metric's value per draw, so that ``score(rows.sum(0)[None])`` is the
    official corpus figure. ``unit`` names the items ("images", "questions"); ``source`` names the
    predictions in messages.
    """

    ids: tuple[int, ...]
    rows: np.ndarray
    score: Score
    unit: str
    source: str

    def metrics(self) -> dict[str, float]:
        """The corpus metrics of the whole split; those undefined on it (NaN) are left out."""
        values = self.score(self.rows.sum(axis=0, keepdims=True))
        return {name: float(v[0]) for name, v in values.items() if not np.isnan(v[0])}


@dataclass(frozen=True)
class Interval:
    """A metric on the whole split and its bootstrap percentile interval."""

    estimate: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        """Plain JSON types."""
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class Intervals:
    """Bootstrap intervals of every metric of one system, with the settings that reproduce them."""

    intervals: dict[str, Interval]
    resamples: int
    seed: int
    confidence: float
    unit: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {
            "method": f"percentile bootstrap over {self.unit}",
            "resamples": self.resamples,
            "seed": self.seed,
            "confidence": self.confidence,
            "intervals": {name: i.to_dict() for name, i in self.intervals.items()},
        }


@dataclass(frozen=True)
class Difference:
    """``first − second`` on the whole split, its paired-bootstrap interval and two-sided p-value."""

    first: float
    second: float
    difference: float
    low: float
    high: float
    p_value: float

    def to_dict(self) -> dict[str, float]:
        """Plain JSON types."""
        return {
            "first": self.first,
            "second": self.second,
            "difference": self.difference,
            "low": self.low,
            "high": self.high,
            "p_value": self.p_value,
        }


@dataclass(frozen=True)
class Comparison:
    """The paired test of two systems on the same items, metric by metric."""

    differences: dict[str, Difference]
    first: str
    second: str
    resamples: int
    seed: int
    confidence: float
    unit: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {
            "first": self.first,
            "second": self.second,
            "difference": "first - second",
            "interval": f"paired percentile bootstrap over {self.unit}",
            "p_value": "approximate randomisation, two-sided, (1 + as extreme) / (1 + trials)",
            "resamples": self.resamples,
            "seed": self.seed,
            "confidence": self.confidence,
            "metrics": {name: d.to_dict() for name, d in self.differences.items()},
        }


def bootstrap(
    tally: Tally, resamples: int = DEFAULT_RESAMPLES, seed: int = 0, confidence: float = CONFIDENCE
) -> Intervals:
    """Percentile intervals of every metric over ``resamples`` resamples of the items (seeded)."""
    _check_settings(resamples, confidence)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[np.ndarray]] = {}
    for weights in _resamplings(rng, len(tally.ids), resamples):
        for name, values in tally.score(weights @ tally.rows).items():
            draws.setdefault(name, []).append(values)
    estimates = tally.metrics()
    intervals = {
        name: Interval(estimates[name], *_percentiles(np.concatenate(draws[name]), confidence))
        for name in estimates
    }
    return Intervals(intervals, resamples, seed, confidence, tally.unit)


def paired_test(
    first: Tally,
    second: Tally,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> Comparison:
    """``first − second`` per metric, its paired-bootstrap interval and randomisation p-value.

    Both systems must score the same items with the same metrics; ``resamples`` is the number of
    bootstrap resamples and, separately, of randomisation trials.
    """
    _check_settings(resamples, confidence)
    _check_pair(first, second)
    boot_rng, swap_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    scored = first.metrics(), second.metrics()
    observed = {name: a - scored[1][name] for name, a in scored[0].items()}
    boot: dict[str, list[np.ndarray]] = {}
    for weights in _resamplings(boot_rng, len(first.ids), resamples):
        for name, values in _differences(first, second, weights @ first.rows, weights @ second.rows):
            if name in observed:
                boot.setdefault(name, []).append(values)
    # Randomisation: a trial's sums are each system's totals with the swapped items' rows exchanged.
    extreme = dict.fromkeys(observed, 0)
    delta = second.rows - first.rows
    totals = first.rows.sum(axis=0), second.rows.sum(axis=0)
    for size in _chunks(len(first.ids), resamples):
        swapped = swap_rng.integers(0, 2, size=(size, len(first.ids))).astype(np.float64) @ delta
        for name, values in _differences(first, second, totals[0] + swapped, totals[1] - swapped):
            if name in observed:
                extreme[name] += int(np.sum(np.abs(values) >= abs(observed[name]) - _TIE))
    differences = {
        name: Difference(
            first=scored[0][name],
            second=scored[1][name],
            difference=observed[name],
            low=(bounds := _percentiles(np.concatenate(boot[name]), confidence))[0],
            high=bounds[1],
            p_value=(1 + extreme[name]) / (1 + resamples),
        )
        for name in observed
    }
    return Comparison(differences, first.source, second.source, resamples, seed, confidence, first.unit)


def _differences(
    first: Tally, second: Tally, first_sums: np.ndarray, second_sums: np.ndarray
) -> Iterator[tuple[str, np.ndarray]]:
    """Per-draw ``first − second`` of each metric, from each system's summed statistics."""
    other = second.score(second_sums)
    return ((name, values - other[name]) for name, values in first.score(first_sums).items())


def _resamplings(rng: np.random.Generator, items: int, resamples: int) -> Iterator[np.ndarray]:
    """Blocks of multiplicity rows (draws × items): how often each item is drawn, with replacement."""
    for size in _chunks(items, resamples):
        picks = rng.integers(0, items, size=(size, items)) + items * np.arange(size)[:, None]
        counts = np.bincount(picks.ravel(), minlength=size * items)
        yield counts.reshape(size, items).astype(np.float64)


def _chunks(items: int, draws: int) -> Iterator[int]:
    """Block sizes that add up to ``draws`` and keep a block under ``_CELLS`` cells."""
    step = max(1, _CELLS // items)
    for start in range(0, draws, step):
        yield min(step, draws - start)


def _percentiles(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """The central ``confidence`` percentile interval; draws where a metric is undefined are left out."""
    tail = 100 * (1 - confidence) / 2
    if np.all(np.isnan(values)):
        return float("nan"), float("nan")
    low, high = np.nanpercentile(values, [tail, 100 - tail])
    return float(low), float(high)


def _check_settings(resamples: int, confidence: float) -> None:
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 1:
        raise DataError(f"resamples: expected a positive integer, got {resamples!r}")
    if not 0 < confidence < 1:
        raise DataError(f"confidence: expected a fraction between 0 and 1, got {confidence!r}")


def _check_pair(first: Tally, second: Tally) -> None:
    """Same items, same metrics: a paired test needs both."""
    check_same_ids(
        first.ids,
        second.ids,
        second.source,
        f"a paired test needs the same {first.unit}; ids must match the {len(first.ids)} of {first.source}",
    )
    if first.score != second.score or first.rows.shape != second.rows.shape:
        raise DataError(
            f"{second.source}: cannot be compared with {first.source}: "
            "expected predictions of the same task, scored with the same metrics"
        )
