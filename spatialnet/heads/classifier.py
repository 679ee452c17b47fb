"""What every classifying head shares once trained: accuracy scores, ranked labels, a confusion matrix."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from spatialnet.heads.base import LOSS, Headline, TaskHead

if TYPE_CHECKING:
    from spatialnet.metrics.bootstrap import Tally
from spatialnet.heads.losses import ClassifierConfig
from spatialnet.labels import IGNORE_INDEX
from spatialnet.metrics.classification import classification_metrics

CLASSIFIER_SUMMARY = (
    Headline("mean_class_accuracy", "mean class accuracy (%)"),
    Headline("macro_f1", "macro F1 (%)"),
    Headline("roc_auc_ovr", "ROC AUC, one vs rest (%)"),
    LOSS,
)


class ClassifierHead(TaskHead):
    """A head whose ``predict`` gives class probabilities (B, K, …) over ``config.num_classes``."""

    config: ClassifierConfig
    headlines: ClassVar[tuple[Headline, ...]] = (Headline("accuracy", "accuracy (%)"),)
    summary_metrics: ClassVar[tuple[Headline, ...]] = CLASSIFIER_SUMMARY

    @property
    def class_names(self) -> list[str]:
        """The recipe's class names, or the class indices as text."""
        return self.config.class_names or [str(i) for i in range(self.config.num_classes)]

    def score(self, predictions: Tensor, targets: Any, detailed: bool = False) -> dict[str, Any]:
        """Accuracy, per-class accuracy, macro F1 and the confusion matrix of the most probable class."""
        labels = predictions.argmax(dim=1).flatten()
        truth = targets.flatten()
        keep = truth != IGNORE_INDEX
        return classification_metrics(
            truth[keep].numpy(), labels[keep].numpy(), self.config.num_classes, self.class_names
        )

    def tally(self, predictions: Tensor, targets: Any, by: str = "") -> Tally:
        """One row per labelled item (its position in the split): asked, and right or not."""
        from spatialnet.metrics.bootstrap import Tally

        labels = predictions.argmax(dim=1).flatten()
        truth = targets.flatten()
        keep = truth != IGNORE_INDEX
        right = (labels[keep] == truth[keep]).double().numpy()
        rows = np.stack([np.ones_like(right), right], axis=1)
        return Tally(tuple(range(len(rows))), rows, accuracy_of_sums, "items", "predictions")

    def summarize(
        self,
        output: Tensor,
        index: int,
        top_k: int = 5,
        question: str | None = None,
        question_set: str | None = None,
    ) -> list[dict[str, Any]]:
        """The ``top_k`` most probable classes of item ``index``, with their probabilities."""
        names = self.class_names
        values, indices = torch.as_tensor(output[index]).cpu().topk(min(top_k, len(names)))
        return [{"label": names[i], "probability": float(v)} for v, i in zip(values, indices, strict=True)]

    def write_artifacts(
        self, predictions: Any, targets: Any, metrics: dict[str, Any], stem: Path, title: str
    ) -> dict[str, str]:
        """The confusion matrix as a PNG (rows = truth, row-normalised)."""
        if "confusion_matrix" not in metrics:
            return {}
        from spatialnet.metrics.figures import save_confusion_matrix  # matplotlib only when drawing

        png = stem.with_name(f"{stem.name}_confusion.png")
        names = list(metrics.get("per_class_accuracy", {})) or self.class_names
        save_confusion_matrix(metrics["confusion_matrix"], names, png, title=title)
        return {"confusion_matrix_png": png.name}


def accuracy_of_sums(sums: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy of each row of summed (asked, right) statistics."""
    return {"accuracy": sums[:, 1] / sums[:, 0]}
