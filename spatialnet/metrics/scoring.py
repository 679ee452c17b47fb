"""Per-head metrics: each head family declares how its predictions are scored."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from spatialnet.heads import TaskHead
from spatialnet.heads.caption import CaptionConfig
from spatialnet.heads.losses import ClassifierConfig
from spatialnet.heads.pixel import PixelClassificationConfig, PixelRegressionConfig
from spatialnet.heads.vqa import VQAConfig
from spatialnet.metrics.classification import classification_metrics
from spatialnet.metrics.forest import categorical_metrics, continuous_metrics, stand_labels, stand_level

IGNORE_INDEX = -100


def regression_metrics(
    pred: np.ndarray, target: np.ndarray, names: list[str] | None = None
) -> dict[str, Any]:
    """RMSE, MAE and R² per output column over present (non-NaN) targets, and their mean ``rmse``."""
    pred = pred.reshape(len(pred), -1) if pred.ndim > 1 else pred[:, None]
    target = target.reshape(len(target), -1) if target.ndim > 1 else target[:, None]
    columns = [names[c] if names and c < len(names) else str(c) for c in range(target.shape[1])]
    result = continuous_metrics(pred, target, columns)
    mean = result.pop("mean_rmse")
    result["rmse"] = float("nan") if mean is None else mean
    return result


def caption_metrics(
    predictions: list[str], targets: list[dict[str, Any]], detailed: bool = False
) -> dict[str, Any]:
    """COCO caption metrics (``Bleu_1``…``CIDEr``) of generated captions over the whole split.

    ``detailed`` adds per-image CIDEr/Bleu_4 (kept out of training logs, where they would bloat
    every epoch's record).
    """
    from spatialnet.metrics.captions import score_captions  # deferred: starts Java only when needed

    references = {int(t["image_id"]): t["references"] for t in targets}
    generated = {int(t["image_id"]): p for t, p in zip(targets, predictions, strict=True)}
    scores = score_captions(references, generated, source="generated captions")
    result = {**scores.metrics, "num_images": scores.num_images, "unavailable": scores.unavailable}
    if detailed:
        result["per_image"] = {str(k): v for k, v in scores.per_image.items()}
    return result


def vqa_metrics(
    probabilities: torch.Tensor, targets: list[dict[str, Any]], answers: list[str], detailed: bool = False
) -> dict[str, Any]:
    """Official RSVQA accuracies (per type, ``AA``, ``OA``, ``mean3``) of the most probable answers.

    ``detailed`` adds the question counts and the confusion matrices.
    """
    from spatialnet.metrics.vqa import score_vqa

    chosen = probabilities.argmax(dim=1).tolist()
    truth = {int(t["question_id"]): (str(t["type"]), str(t["answer"])) for t in targets}
    predicted = {int(t["question_id"]): answers[i] for t, i in zip(targets, chosen, strict=True)}
    scores = score_vqa(truth, predicted, source="predicted answers")
    result: dict[str, Any] = {**scores.metrics, "num_questions": scores.num_questions}
    if detailed:
        result.update({k: v for k, v in scores.to_dict().items() if k not in ("metrics", "num_questions")})
    return result


def forest_class_metrics(
    probabilities: torch.Tensor, targets: dict[str, torch.Tensor], class_names: list[str]
) -> dict[str, Any]:
    """Seed 000's categorical metrics at pixel level, plus ``stand`` level when stand ids are known.

    Stand level sums a stand's class probabilities and takes the argmax (specs/taiga.md).
    """
    probs = probabilities.double().numpy()
    truth = targets["target"].numpy()
    result = categorical_metrics(probs, truth, class_names)
    stands = targets["stand_id"].numpy()
    if (stands >= 0).all():
        labels = stand_labels(stands, truth)
        ids, summed = stand_level(stands, probs, "sum")
        keep = np.isin(ids, list(labels))
        if keep.any():
            stand_probs = summed[keep] / summed[keep].sum(axis=1, keepdims=True)
            stand_truth = np.array([labels[int(i)] for i in ids[keep]])
            result["stand"] = categorical_metrics(stand_probs, stand_truth, class_names)
    return result


def forest_value_metrics(
    values: torch.Tensor, targets: dict[str, torch.Tensor], name: str, scale: float
) -> dict[str, Any]:
    """RMSE, MAE, R² on the normalised scale and RMSE in physical units, pixel and ``stand`` level.

    ``values`` are predictions in physical units (what the head's ``predict`` returns), targets
    are normalised; the predictions are brought back to the normalised scale by ``scale``.
    """
    pred = values.double().numpy()[:, None] / scale
    truth = targets["target"].double().numpy()[:, None]
    result: dict[str, Any] = dict(continuous_metrics(pred, truth, [name], {name: scale}).get(name, {}))
    stands = targets["stand_id"].numpy()
    if result and (stands >= 0).all():
        _, stand_pred = stand_level(stands, pred, "mean")
        _, stand_truth = stand_level(stands, truth, "mean")
        result["stand"] = continuous_metrics(stand_pred, stand_truth, [name], {name: scale}).get(name, {})
    return result


def score_head(head: TaskHead, predictions: Any, targets: Any, detailed: bool = False) -> dict[str, Any]:
    """Metrics of one head's collected predictions against its targets (``detailed``: per-item too)."""
    config = head.config
    if isinstance(config, PixelClassificationConfig):
        classes = config.class_names or [str(i) for i in range(config.num_classes)]
        return forest_class_metrics(predictions, targets, classes)
    if isinstance(config, PixelRegressionConfig):
        return forest_value_metrics(predictions, targets, head.target_key, config.scale)
    if isinstance(config, CaptionConfig):
        return caption_metrics(predictions, targets, detailed)
    if isinstance(config, VQAConfig):
        return vqa_metrics(predictions, targets, config.answers, detailed)
    if isinstance(config, ClassifierConfig):
        # predictions are probabilities (B, K) or (B, K, H, W): score the argmax over labelled positions
        labels = predictions.argmax(dim=1).flatten()
        truth = targets.flatten()
        keep = truth != IGNORE_INDEX
        class_names = config.class_names or [str(i) for i in range(config.num_classes)]
        return classification_metrics(
            truth[keep].numpy(), labels[keep].numpy(), config.num_classes, class_names
        )
    names: list[str] | None = getattr(config, "output_names", None)
    pred = predictions.float()
    if pred.ndim == 4:  # dense maps (B, C, H, W) → one row per pixel
        pred = pred.permute(0, 2, 3, 1).reshape(-1, pred.shape[1])
        targets = targets.float().permute(0, 2, 3, 1).reshape(-1, targets.shape[1])
    return regression_metrics(pred.numpy(), targets.float().numpy(), names)


def overall_metrics(metrics: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Aggregates over heads, for picking a multitask checkpoint: summed loss, mean accuracies, mean RMSE."""
    result: dict[str, float] = {"loss": float(sum(m["loss"] for m in metrics.values()))}
    for key, name in (
        ("accuracy", "mean_accuracy"),
        ("mean_class_accuracy", "mean_class_accuracy"),
        ("rmse", "mean_rmse"),
    ):
        values = [float(m[key]) for m in metrics.values() if isinstance(m.get(key), int | float)]
        if values:
            result[name] = float(np.mean(values))
    return result


def flatten_metrics(metrics: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Scalar metrics as ``head/name`` keys (lists and matrices left out), for logs and selection."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_metrics(value, f"{name}/"))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[name] = float(value)
        elif isinstance(value, torch.Tensor) and value.numel() == 1:
            flat[name] = float(value)
    return flat
