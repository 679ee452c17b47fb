"""Classification losses for imbalanced labels: class weights, weighted cross-entropy, focal loss.

Forms follow seed 000 (TAIGA multitask HSI) as fixed in ``specs/taiga.md``:
inverse median frequency weights w_c = median_k f_k / f_c, the weighted cross-entropy mean
Σ w_y·CE / Σ w_y, and the focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection")
computed per sample from one ``log_softmax`` (not, as the seed's baseline did, from the batch-mean
CE with a double softmax).

Every function accepts image-level logits ``(B, K)`` with targets ``(B,)`` or dense logits
``(B, K, *spatial)`` (e.g. ``(B, K, H, W)``) with targets ``(B, *spatial)``; pixels whose target
equals ``ignore_index`` take no part in the loss.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from spatialnet.labels import IGNORE_INDEX
from spatialnet.losses.global_mean import batch_mean


def inverse_median_frequency(counts: Tensor | Sequence[int]) -> Tensor:
    """Class weights w_c = median_k f_k / f_c from training-set class counts (Eigen & Fergus 2015).

    The median is taken over the classes that occur (f_c > 0); for an even number of such classes it
    is the mean of the two middle frequencies (NumPy's convention). A class with zero count gets
    weight 0: it never appears as a target, so its weight is never used, and 0 keeps the vector finite.
    Returns a float32 tensor of shape ``(K,)`` (float64 if ``counts`` is a float64 tensor).
    """
    c = torch.as_tensor(counts)
    if c.dim() != 1 or c.numel() == 0:
        raise ValueError(
            f"counts: expected a non-empty 1-D sequence of class counts, got shape {tuple(c.shape)}"
        )
    c = c.to(torch.float64 if c.dtype == torch.float64 else torch.float32)
    if bool((c < 0).any()):
        raise ValueError(f"counts: class counts must be non-negative, got {c.tolist()}")
    present = c > 0
    if not bool(present.any()):
        raise ValueError("counts: every class count is zero; class weights are undefined")
    freq = c / c.sum()
    f_present = freq[present].sort().values
    n = f_present.numel()
    median = f_present[n // 2] if n % 2 == 1 else (f_present[n // 2 - 1] + f_present[n // 2]) / 2
    return torch.where(present, median / freq.clamp_min(torch.finfo(freq.dtype).tiny), torch.zeros_like(freq))


def _check_shapes(logits: Tensor, target: Tensor, allow_soft: bool) -> bool:
    """Validate logits/target shapes; return True when ``target`` is a soft (probability) target."""
    if logits.dim() < 2:
        raise ValueError(f"logits: expected (B, K) or (B, K, *spatial), got shape {tuple(logits.shape)}")
    if target.is_floating_point():
        if not allow_soft:
            raise ValueError(f"target: expected integer class indices, got dtype {target.dtype}")
        if target.shape != logits.shape:
            raise ValueError(
                f"target: soft targets must match the logits' shape {tuple(logits.shape)}, "
                f"got {tuple(target.shape)}"
            )
        return True
    expected = (logits.shape[0], *logits.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(
            f"target: expected class indices of shape {expected} for logits {tuple(logits.shape)}, "
            f"got {tuple(target.shape)}"
        )
    return False


def weighted_cross_entropy(
    logits: Tensor,
    target: Tensor,
    class_weights: Tensor | None = None,
    ignore_index: int = IGNORE_INDEX,
    label_smoothing: float = 0.0,
) -> Tensor:
    """Class-weighted cross-entropy mean Σ_i w_{y_i}·CE_i / Σ_i w_{y_i} over non-ignored samples/pixels.

    Delegates to ``F.cross_entropy(reduction="mean")``, whose weighted mean is exactly this form for
    hard targets. Soft targets (float, same shape as ``logits``) are also accepted; for them PyTorch
    averages Σ_c w_c·q_c·(−log p_c) over the batch size (not over Σ w). When every target is ignored the
    result is 0 with a gradient path to ``logits`` (PyTorch alone would return NaN).
    """
    soft = _check_shapes(logits, target, allow_soft=True)
    if class_weights is not None:
        class_weights = class_weights.to(device=logits.device, dtype=logits.dtype)
    total = F.cross_entropy(
        logits,
        target,
        weight=class_weights,
        ignore_index=ignore_index,
        reduction="sum",
        label_smoothing=label_smoothing,
    )
    if soft:
        count = torch.tensor(target.numel() // target.shape[1], device=logits.device)
    else:
        valid = target != ignore_index
        if class_weights is None:
            count = valid.sum()
        else:
            count = class_weights[torch.where(valid, target, torch.zeros_like(target))][valid].sum()
    return batch_mean(total, count)


def focal_loss(
    logits: Tensor,
    target: Tensor,
    alpha: float = 0.25,
    gamma: float = 2.0,
    class_weights: Tensor | None = None,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """Focal loss mean over valid samples of −α·w_y·(1 − p_y)^γ·log p_y (Lin et al. 2017).

    ``log p_y`` comes from a single ``log_softmax`` over the class dimension. The mean divides by the
    number of non-ignored samples/pixels (not by Σ w_y, unlike :func:`weighted_cross_entropy`), so with
    γ = 0 it equals α·Σ w_y·CE / N. With no valid sample it returns 0 with a gradient path to ``logits``.
    """
    _check_shapes(logits, target, allow_soft=False)
    valid = target != ignore_index
    safe_target = torch.where(valid, target, torch.zeros_like(target)).unsqueeze(1)
    log_p = F.log_softmax(logits, dim=1).gather(1, safe_target).squeeze(1)
    p = log_p.exp()
    loss = -alpha * (1.0 - p).clamp_min(0.0).pow(gamma) * log_p
    if class_weights is not None:
        w = class_weights.to(device=logits.device, dtype=logits.dtype)
        loss = loss * w[safe_target.squeeze(1)]
    loss = loss * valid.to(loss.dtype)
    return batch_mean(loss.sum(), valid.sum())
