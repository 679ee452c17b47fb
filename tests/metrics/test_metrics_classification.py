import json

import numpy as np
import pytest
import torch

from spatialnet.metrics.classification import classification_metrics, top_k_accuracy


def test_hand_checked_example() -> None:
    # truth  0 0 1 1 2 ; prediction 0 1 1 1 0
    metrics = classification_metrics(
        [0, 0, 1, 1, 2], [0, 1, 1, 1, 0], num_classes=3, class_names=["a", "b", "c"]
    )
    assert metrics["accuracy"] == pytest.approx(0.6)
    # recalls: a 1/2, b 2/2, c 0/1
    assert metrics["mean_class_accuracy"] == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    # a: P=1/2 R=1/2 F1=1/2 ; b: P=2/3 R=1 F1=0.8 ; c: F1=0
    assert metrics["macro_f1"] == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert metrics["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert metrics["per_class_accuracy"] == {"a": 0.5, "b": 1.0, "c": 0.0}
    assert metrics["num_samples"] == 5
    json.dumps(metrics)  # plain types only


def test_absent_classes() -> None:
    # 4 classes; class 3 never true nor predicted, class 2 predicted once but never true
    metrics = classification_metrics(torch.tensor([0, 0, 1]), np.array([0, 2, 1]), num_classes=4)
    assert metrics["mean_class_accuracy"] == pytest.approx((0.5 + 1.0) / 2)
    # F1 over classes {0, 1, 2}: 0 → P=1 R=1/2 F1=2/3 ; 1 → 1 ; 2 → 0
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 1.0 + 0.0) / 3)
    assert metrics["per_class_accuracy"] == {"0": 0.5, "1": 1.0, "2": None, "3": None}
    assert len(metrics["confusion_matrix"]) == 4


def test_input_errors() -> None:
    with pytest.raises(ValueError, match="y_true has 2 labels but y_pred has 3"):
        classification_metrics([0, 1], [0, 1, 1], num_classes=2)
    with pytest.raises(ValueError, match=r"y_pred holds labels outside 0..1: \[5\]"):
        classification_metrics([0, 1], [0, 5], num_classes=2)
    with pytest.raises(ValueError, match="class_names has 1 names"):
        classification_metrics([0, 1], [0, 1], num_classes=2, class_names=["x"])


def test_top_k_accuracy() -> None:
    scores = [[0.1, 0.5, 0.4], [0.7, 0.2, 0.1], [0.2, 0.3, 0.5]]
    assert top_k_accuracy(scores, [2, 0, 0], k=1) == pytest.approx(1 / 3)
    assert top_k_accuracy(scores, [2, 0, 0], k=2) == pytest.approx(2 / 3)
    assert top_k_accuracy(torch.tensor(scores), torch.tensor([2, 0, 0]), k=3) == 1.0
