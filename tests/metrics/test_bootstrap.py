"""The resampling engine on statistics whose answers are known (no Java needed)."""

import math

import numpy as np
import pytest

from spatialnet.errors import DataError
from spatialnet.metrics import bootstrap as engine
from spatialnet.metrics.bootstrap import Tally, bootstrap, paired_test


def _scores(sums: np.ndarray) -> dict[str, np.ndarray]:
    """A mean and a corpus ratio (like BLEU's precision: summed matches over summed guesses)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"mean": sums[:, 1] / sums[:, 0], "ratio": sums[:, 2] / sums[:, 3]}


def _tally(values: list[float], matches: list[float] | None = None, guesses: list[float] | None = None,
           ids: list[int] | None = None, source: str = "a.json") -> Tally:  # fmt: skip
    n = len(values)
    rows = np.column_stack([np.ones(n), values, matches or [1.0] * n, guesses or [1.0] * n])
    return Tally(tuple(ids or range(n)), rows, _scores, "items", source)


def test_full_sample_estimates_are_the_corpus_figures() -> None:
    tally = _tally([1, 0, 0, 1], matches=[3, 0, 1, 0], guesses=[4, 2, 1, 1])
    assert tally.metrics() == {"mean": 0.5, "ratio": 0.5}  # ratio 4/8, not the mean of 3/4, 0, 1, 0
    intervals = bootstrap(tally, resamples=50, seed=0)
    assert intervals.intervals["ratio"].estimate == 0.5
    assert intervals.to_dict()["resamples"] == 50 and intervals.to_dict()["seed"] == 0


def test_interval_of_a_proportion_matches_the_normal_approximation() -> None:
    # 200 successes in 400: standard error sqrt(0.25 / 400) = 0.025, so about 0.5 ± 0.049.
    result = bootstrap(_tally([1.0, 0.0] * 200), resamples=2000, seed=3).intervals["mean"]
    assert result.estimate == 0.5
    assert result.low == pytest.approx(0.5 - 1.96 * 0.025, abs=0.006)
    assert result.high == pytest.approx(0.5 + 1.96 * 0.025, abs=0.006)


def test_constant_items_give_a_point_interval() -> None:
    result = bootstrap(_tally([0.7] * 30), resamples=100).intervals["mean"]
    assert result.low == pytest.approx(0.7) and result.high == pytest.approx(0.7)


def test_same_seed_same_figures_other_seed_others() -> None:
    tally = _tally([float(i % 7) for i in range(50)])
    assert bootstrap(tally, 200, seed=5) == bootstrap(tally, 200, seed=5)
    assert bootstrap(tally, 200, seed=5) != bootstrap(tally, 200, seed=6)
    other = _tally([float(i % 5) for i in range(50)])
    assert paired_test(tally, other, 200, seed=5) == paired_test(tally, other, 200, seed=5)


def test_block_size_does_not_change_the_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    tally = _tally([float(i % 7) for i in range(50)])
    other = _tally([float(i % 5) for i in range(50)])
    whole = bootstrap(tally, 300, seed=1), paired_test(tally, other, 300, seed=1)
    monkeypatch.setattr(engine, "_CELLS", 50 * 7)  # blocks of 7 draws
    assert (bootstrap(tally, 300, seed=1), paired_test(tally, other, 300, seed=1)) == whole


def test_identical_systems_differ_by_zero_with_p_one() -> None:
    tally = _tally([float(i % 3) for i in range(40)], matches=[1.0] * 40, guesses=[2.0] * 40)
    same = _tally([float(i % 3) for i in range(40)], matches=[1.0] * 40, guesses=[2.0] * 40, source="b.json")
    comparison = paired_test(tally, same, resamples=200, seed=0)
    for difference in comparison.differences.values():
        assert difference.difference == 0.0
        assert difference.low == 0.0 and difference.high == 0.0
        assert difference.p_value == 1.0
    assert comparison.to_dict()["difference"] == "first - second"


def test_clearly_better_system_is_significant() -> None:
    better = _tally([1.0] * 30 + [0.0] * 10)
    worse = _tally([0.0] * 30 + [1.0] * 10, source="b.json")
    difference = paired_test(better, worse, resamples=500, seed=0).differences["mean"]
    assert difference.difference == pytest.approx(0.5)
    assert difference.p_value < 0.05 and difference.p_value >= 1 / 501
    assert 0 < difference.low < 0.5 < difference.high
    reverse = paired_test(worse, better, resamples=500, seed=0).differences["mean"]
    assert reverse.difference == pytest.approx(-0.5) and reverse.p_value == difference.p_value


def test_small_difference_is_not_significant() -> None:
    first = _tally([1.0, 0.0] * 20)
    second = _tally([1.0, 0.0] * 19 + [0.0, 0.0], source="b.json")  # one item of 40 differs
    difference = paired_test(first, second, resamples=500, seed=0).differences["mean"]
    assert difference.difference == pytest.approx(1 / 40)
    assert difference.p_value == 1.0  # a trial either keeps or swaps that item: |±1/40| each time
    assert difference.low == 0.0 and difference.high > 0


def test_randomisation_p_value_by_hand() -> None:
    # Two items; only item 0 differs (1 vs 0). Every trial gives ±1/2 = |observed|: p = 1.
    # Three items differing by 1, 1, -1: observed 1/3; a trial's |difference| is 1/3 or 1 (all
    # signs alike, probability 1/4), so always at least as extreme: p = 1 again.
    first, second = _tally([1.0, 1.0, 0.0]), _tally([0.0, 0.0, 1.0], source="b.json")
    assert paired_test(first, second, 100, seed=2).differences["mean"].p_value == 1.0


def test_metric_undefined_on_the_split_is_left_out() -> None:
    tally = _tally([1.0, 0.0], matches=[0.0, 0.0], guesses=[0.0, 0.0])  # ratio 0/0
    assert set(tally.metrics()) == {"mean"}
    assert set(bootstrap(tally, 20).intervals) == {"mean"}


def test_different_ids_are_refused() -> None:
    with pytest.raises(DataError, match=r"^b\.json: a paired test needs the same items; ids must match "
                       r"the 3 of a\.json exactly; missing 1 id \[2\]; extra 1 id \[7\]"):  # fmt: skip
        paired_test(_tally([1, 0, 1]), _tally([1, 0, 1], ids=[0, 1, 7], source="b.json"))


def test_different_tasks_are_refused() -> None:
    other = Tally((0, 1, 2), np.ones((3, 4)), lambda sums: {"mean": sums[:, 0]}, "items", "b.json")
    with pytest.raises(DataError, match=r"^b\.json: cannot be compared with a\.json"):
        paired_test(_tally([1, 0, 1]), other)


@pytest.mark.parametrize(("resamples", "confidence"), [(0, 0.95), (True, 0.95), (10, 1.0), (10, 0.0)])
def test_bad_settings(resamples: int, confidence: float) -> None:
    with pytest.raises(DataError, match="resamples: expected a positive|confidence: expected a fraction"):
        bootstrap(_tally([1, 0]), resamples, confidence=confidence)


def test_draws_where_a_metric_is_undefined_are_ignored() -> None:
    # One item of 20 has a guess: most resamples lack it, and their ratio 0/0 is left out.
    tally = _tally([1.0] * 20, matches=[1.0] + [0.0] * 19, guesses=[2.0] + [0.0] * 19)
    result = bootstrap(tally, 200, seed=0).intervals["ratio"]
    assert result.estimate == 0.5 and result.low == result.high == 0.5
    assert not math.isnan(result.low)
