"""Metric figures saved as PNG beside ``metrics.json`` (matplotlib's Agg canvas, no display)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

_ANNOTATE_MAX_CLASSES = 30  # beyond this, cell values are unreadable


def save_confusion_matrix(
    matrix: ArrayLike,
    class_names: Sequence[str],
    path: Path | str,
    normalize: bool = True,
    title: str = "Confusion matrix",
) -> Path:
    """Write a confusion matrix (rows = truth) as a PNG; ``normalize`` shows row fractions in %.

    Sized for 21+ classes: rotated column labels, and non-zero cell values printed while the
    matrix has at most 30 classes. Returns the written path.
    """
    counts = np.asarray(matrix, dtype=np.float64)
    n = len(class_names)
    if counts.shape != (n, n):
        raise ValueError(f"confusion matrix has shape {counts.shape}, expected ({n}, {n})")
    if normalize:
        totals = counts.sum(axis=1, keepdims=True)
        values = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0) * 100.0
        vmax, label = 100.0, "% of true class"
    else:
        values = counts
        vmax, label = max(float(counts.max()), 1.0), "count"

    side = max(5.0, 0.42 * n + 2.5)
    figure = Figure(figsize=(side + 1.2, side))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    image = axes.imshow(values, cmap="Blues", vmin=0.0, vmax=vmax)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label=label)
    axes.set_xticks(range(n), labels=list(class_names), rotation=60, ha="right", rotation_mode="anchor")
    axes.set_yticks(range(n), labels=list(class_names))
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    if n <= _ANNOTATE_MAX_CLASSES:
        fontsize = 8 if n > 12 else 10
        for row in range(n):
            for col in range(n):
                if counts[row, col] == 0:
                    continue
                text = f"{values[row, col]:.0f}" if normalize else f"{int(counts[row, col])}"
                color = "white" if values[row, col] > 0.6 * vmax else "black"
                axes.text(col, row, text, ha="center", va="center", fontsize=fontsize, color=color)
    figure.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=120)
    return out
