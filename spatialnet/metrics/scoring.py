"""Scores of collected predictions (captions, answers, values) and their aggregates over heads.

Pure functions of tensors, lists and names: each head calls the one that fits it (``TaskHead.score``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from spatialnet.metrics.forest import continuous_metrics

if TYPE_CHECKING:
    from spatialnet.metrics.captions import Backend


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
    predictions: list[str], targets: list[dict[str, Any]], detailed: bool = False, backend: Backend = "auto"
) -> dict[str, Any]:
    """COCO caption metrics (``Bleu_1``…``CIDEr``) of generated captions over the whole split.

    ``detailed`` adds per-image CIDEr/Bleu_4 (kept out of training logs, where they would bloat
    every epoch's record). ``backend`` is ``score_captions``'s; what produced each metric is
    recorded under ``implementations``.
    """
    from spatialnet.metrics.captions import score_captions  # deferred: starts Java only when needed

    references = {int(t["image_id"]): t["references"] for t in targets}
    generated = {int(t["image_id"]): p for t, p in zip(targets, predictions, strict=True)}
    scores = score_captions(references, generated, source="generated captions", backend=backend)
    result = {
        **scores.metrics,
        "num_images": scores.num_images,
        "unavailable": scores.unavailable,
        "implementations": scores.implementations,
    }
    if scores.notes:
        result["notes"] = list(scores.notes)
    if detailed:
        result["per_image"] = {str(k): v for k, v in scores.per_image.items()}
    return result


def vqa_metrics(
    probabilities: torch.Tensor, targets: list[dict[str, Any]], answers: list[str], detailed: bool = False
) -> dict[str, Any]:
    """VQA accuracies (per type, ``AA``, ``OA``; RSVQA also ``mean3``) of the most probable answers.

    The targets' question set (RSVQA-LR unless they name another) gives the types and averages;
    ``detailed`` adds the question counts and the confusion matrices.
    """
    from spatialnet.data.question_sets import DEFAULT_SET
    from spatialnet.errors import DataError
    from spatialnet.metrics.vqa import score_vqa

    sets = sorted({str(t.get("question_set", DEFAULT_SET)) for t in targets})
    if len(sets) > 1:
        raise DataError(
            f"answers of several question sets ({', '.join(sets)}) are scored apart, one set at a time"
        )
    chosen = probabilities.argmax(dim=1).tolist()
    truth = {int(t["question_id"]): (str(t["type"]), str(t["answer"])) for t in targets}
    predicted = {int(t["question_id"]): answers[i] for t, i in zip(targets, chosen, strict=True)}
    scores = score_vqa(
        truth, predicted, source="predicted answers", question_set=sets[0] if sets else DEFAULT_SET
    )
    result: dict[str, Any] = {**scores.metrics, "num_questions": scores.num_questions}
    if detailed:
        result.update({k: v for k, v in scores.to_dict().items() if k not in ("metrics", "num_questions")})
    return result


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
