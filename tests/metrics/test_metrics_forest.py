"""TAIGA metrics on hand-checkable cases: ROC-AUC from probabilities, normalised confusion, stands."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from spatialnet.labels import IGNORE_INDEX
from spatialnet.metrics.forest import (
    categorical_metrics,
    continuous_metrics,
    stand_labels,
    stand_level,
)

NAMES = ["pine", "spruce", "birch"]


def test_categorical_metrics_by_hand():
    probs = np.array([[0.7, 0.2, 0.1], [0.4, 0.5, 0.1], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    truth = np.array([0, 0, 1, 2, IGNORE_INDEX])
    m = categorical_metrics(probs, truth, NAMES)
    assert m["num_samples"] == 4 and m["accuracy"] == pytest.approx(0.75)
    assert m["mean_class_accuracy"] == pytest.approx((0.5 + 1 + 1) / 3)
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert m["confusion_matrix_normalised"][0] == [0.5, 0.5, 0.0]
    # precision: pine 1/1, spruce 1/2, birch 1/1; recall: 1/2, 1, 1
    assert m["precision_macro"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert m["recall_weighted"] == pytest.approx((2 * 0.5 + 1 + 1) / 4)
    expected_auc = np.mean([roc_auc_score(truth[:4] == c, probs[:4, c]) for c in range(3)])
    assert m["roc_auc_ovr"] == pytest.approx(expected_auc)


def test_roc_auc_uses_probabilities_not_hard_labels():
    """A perfect ranking with one argmax error: AUC 1 from probabilities, 0.75 from hard labels."""
    truth = np.array([0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.1, 0.9]])
    m = categorical_metrics(probs, truth, ["a", "b"])
    assert m["accuracy"] == 0.75
    assert m["roc_auc_ovr"] == 1.0
    hard = np.eye(2)[probs.argmax(axis=1)]
    assert roc_auc_score(truth == 0, hard[:, 0]) == 0.75  # what the TAIGA baseline would report


def test_continuous_metrics_with_missing_targets_and_physical_units():
    truth = np.array([[0.5, np.nan], [0.25, 0.2], [0.75, 0.4]])
    pred = np.array([[0.5, 0.9], [0.5, 0.2], [0.5, 0.4]])
    m = continuous_metrics(pred, truth, ["height", "lai"], p98={"height": 24.16, "lai": 9.66})
    assert m["height"]["rmse"] == pytest.approx(np.sqrt((0 + 0.0625 + 0.0625) / 3))
    assert m["height"]["mae"] == pytest.approx(1 / 6)
    assert m["height"]["r2"] == pytest.approx(1 - 0.125 / 0.125)
    assert m["height"]["rmse_physical"] == pytest.approx(m["height"]["rmse"] * 24.16)
    assert m["lai"] == {"rmse": 0.0, "mae": 0.0, "r2": 1.0, "num_samples": 2, "rmse_physical": 0.0}
    assert m["mean_rmse"] == pytest.approx(m["height"]["rmse"] / 2)


def test_stand_level_sums_probabilities_and_averages_values():
    ids = np.array([7, 3, 7, 7])
    probs = np.array([[0.6, 0.4], [0.1, 0.9], [0.3, 0.7], [0.2, 0.8]])
    stands, summed = stand_level(ids, probs, "sum")
    assert stands.tolist() == [3, 7]
    np.testing.assert_allclose(summed, [[0.1, 0.9], [1.1, 1.9]])
    values = np.array([[1.0], [2.0], [np.nan], [3.0]])
    _, mean = stand_level(ids, values, "mean")
    assert mean[:, 0].tolist() == [2.0, 2.0]
    assert stand_labels(ids, np.array([1, 0, 1, IGNORE_INDEX])) == {3: 0, 7: 1}
