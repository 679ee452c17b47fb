"""Metric figures saved as PNG beside ``metrics.json`` (matplotlib's Agg canvas, no display)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
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


_KDE_GRID_POINTS = 256


def _with_unit(label: str, unit: str) -> str:
    """Axis label with the unit in brackets, or bare when there is no unit."""
    return f"{label} [{unit}]" if unit else label


def _finite_pairs(predicted: ArrayLike, target: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Flatten both sides and keep the pairs where both are finite (NaN/inf are no-data)."""
    pred = np.asarray(predicted, dtype=np.float64).ravel()
    true = np.asarray(target, dtype=np.float64).ravel()
    if pred.size != true.size:
        raise ValueError(f"predicted has {pred.size} values but target has {true.size}")
    keep = np.isfinite(pred) & np.isfinite(true)
    return pred[keep], true[keep]


def _pearson(pred: np.ndarray, true: np.ndarray) -> float | None:
    """Pearson r of already-finite pairs; None when undefined (too few pairs or a constant side)."""
    if pred.size < 2:
        return None
    dp = pred - pred.mean()
    dt = true - true.mean()
    denom = float(np.sqrt(np.dot(dp, dp) * np.dot(dt, dt)))
    if denom == 0.0 or not np.isfinite(denom):
        return None
    return float(np.clip(np.dot(dp, dt) / denom, -1.0, 1.0))


def pearson_r(predicted: ArrayLike, target: ArrayLike) -> float | None:
    """Pearson correlation over the pairs where both values are finite.

    None when fewer than 2 such pairs remain or either side is constant (r is undefined there,
    and a NaN in ``metrics.json`` would be less explicit than a null).
    """
    return _pearson(*_finite_pairs(predicted, target))


def _draw_marginal(axes: Axes, values: np.ndarray, grid: np.ndarray, vertical: bool) -> None:
    """Density of ``values`` along ``grid``; a constant side gets a spike, not a failing KDE."""
    from scipy.stats import gaussian_kde

    if values.size == 0:
        return
    if float(np.ptp(values)) == 0.0:
        line = axes.axhline if vertical else axes.axvline
        line(float(values[0]), color="tab:blue", lw=1.5)
        return
    try:
        density = gaussian_kde(values)(grid)
    except np.linalg.LinAlgError:  # degenerate spread the ptp check did not catch
        return
    if vertical:
        axes.fill_betweenx(grid, 0.0, density, color="tab:blue", alpha=0.3, lw=0)
        axes.plot(density, grid, color="tab:blue", lw=1)
        axes.set_xlim(left=0.0)
    else:
        axes.fill_between(grid, 0.0, density, color="tab:blue", alpha=0.3, lw=0)
        axes.plot(grid, density, color="tab:blue", lw=1)
        axes.set_ylim(bottom=0.0)


def _subsample(
    pred: np.ndarray, true: np.ndarray, max_points: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` pairs: a seeded random subsample in the original order when over."""
    n = pred.size
    if n > max_points:
        index = np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))
        return pred[index], true[index]
    return pred, true


def _square_limits(pred: np.ndarray, true: np.ndarray) -> tuple[float, float]:
    """One padded (low, high) range over both sides, shared by the x and y axes."""
    lo = float(min(pred.min(), true.min()))
    hi = float(max(pred.max(), true.max()))
    pad = 0.02 * (hi - lo) if hi > lo else max(abs(lo) * 0.05, 1.0)
    return lo - pad, hi + pad


def _scatter_layout() -> tuple[Figure, Axes, Axes, Axes]:
    """The figure with its main axes and the top and right marginal axes sharing their scales."""
    # Square main axes: equal width and height fractions of a figure whose margins match.
    figure = Figure(figsize=(7.0, 7.4))
    FigureCanvasAgg(figure)
    grid_spec = figure.add_gridspec(
        2,
        2,
        width_ratios=(4, 1),
        height_ratios=(1, 4),
        left=0.12,
        right=0.96,
        bottom=0.09,
        top=0.885,
        wspace=0.05,
        hspace=0.05,
    )
    axes = figure.add_subplot(grid_spec[1, 0])
    top = figure.add_subplot(grid_spec[0, 0], sharex=axes)
    right = figure.add_subplot(grid_spec[1, 1], sharey=axes)
    return figure, axes, top, right


def _draw_scatter(
    axes: Axes, shown_true: np.ndarray, shown_pred: np.ndarray, lo: float, hi: float, unit: str
) -> None:
    """The main panel: the points, the 1:1 line, equal limits, axis labels and the legend."""
    alpha = 0.6 if shown_pred.size <= 2000 else 0.25
    axes.scatter(shown_true, shown_pred, s=3, alpha=alpha, color="tab:blue", linewidths=0)
    axes.plot([lo, hi], [lo, hi], ls="--", color="0.3", lw=1, label="1:1")
    axes.set_xlim(lo, hi)
    axes.set_ylim(lo, hi)
    axes.set_xlabel(_with_unit("target", unit))
    axes.set_ylabel(_with_unit("predicted", unit))
    axes.legend(loc="lower right")


def _draw_summary(axes: Axes, r: float | None, n: int, shown: int) -> None:
    """The top-left box: Pearson r and n over every finite pair, and how many points are shown."""
    summary = f"r = {r:.3f}, n = {n:,}" if r is not None else f"r = n/a, n = {n:,}"
    if shown < n:
        summary += f"\n({shown:,} points shown)"
    axes.text(
        0.03,
        0.97,
        summary,
        transform=axes.transAxes,
        va="top",
        ha="left",
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"},
    )


def _draw_marginals(
    top: Axes, right: Axes, shown_true: np.ndarray, shown_pred: np.ndarray, lo: float, hi: float
) -> None:
    """Target density above the main panel, prediction density to its right, bare of ticks and spines."""
    density_grid = np.linspace(lo, hi, _KDE_GRID_POINTS)
    _draw_marginal(top, shown_true, density_grid, vertical=False)
    _draw_marginal(right, shown_pred, density_grid, vertical=True)
    top.tick_params(labelbottom=False, left=False, labelleft=False)
    right.tick_params(labelleft=False, bottom=False, labelbottom=False)
    for marginal, hidden in ((top, ("top", "right", "left")), (right, ("top", "right", "bottom"))):
        for side in hidden:
            marginal.spines[side].set_visible(False)


def save_prediction_scatter(
    predicted: ArrayLike,
    target: ArrayLike,
    path: Path | str,
    title: str,
    unit: str = "",
    max_points: int = 20000,
    seed: int = 0,
) -> Path:
    """Write a prediction-vs-target scatter with marginal densities and Pearson r as a PNG.

    Target is on x, prediction on y, with the 1:1 line and equal limits on both axes so bias
    reads as distance from the diagonal. Pairs with a NaN/inf on either side are dropped. Above
    ``max_points`` pairs a seeded random subsample is drawn (and feeds the marginal KDEs, which
    cost O(n) per grid point), while r and n always use every finite pair. Returns the path.
    """
    if max_points < 1:
        raise ValueError(f"max_points must be >= 1, got {max_points}")
    pred, true = _finite_pairs(predicted, target)
    n = pred.size
    if n == 0:
        raise ValueError("no finite (predicted, target) pair to plot")
    r = _pearson(pred, true)
    shown_pred, shown_true = _subsample(pred, true, max_points, seed)
    lo, hi = _square_limits(pred, true)

    figure, axes, top, right = _scatter_layout()
    _draw_scatter(axes, shown_true, shown_pred, lo, hi, unit)
    _draw_summary(axes, r, n, shown_pred.size)
    _draw_marginals(top, right, shown_true, shown_pred, lo, hi)
    figure.suptitle(title, y=0.97)

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=120)
    return out


def save_error_histogram(
    errors: ArrayLike,
    path: Path | str,
    title: str,
    unit: str = "",
    bins: int = 100,
) -> Path:
    """Write a histogram of absolute per-pixel errors with mean and median marked, as a PNG.

    Signed errors are accepted (their absolute value is plotted); NaN/inf are dropped as no-data.
    Returns the written path.
    """
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    values = np.abs(np.asarray(errors, dtype=np.float64).ravel())
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("no finite error value to plot")
    mean, median = float(values.mean()), float(np.median(values))
    suffix = f" {unit}" if unit else ""

    figure = Figure(figsize=(7.0, 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    axes.hist(values, bins=bins, color="tab:blue", alpha=0.8)
    axes.axvline(mean, color="tab:red", lw=1.5, label=f"mean = {mean:.4g}{suffix}")
    axes.axvline(median, color="tab:orange", lw=1.5, ls="--", label=f"median = {median:.4g}{suffix}")
    axes.set_xlabel(_with_unit("absolute error", unit))
    axes.set_ylabel("pixels")
    axes.set_title(title)
    axes.legend(loc="upper right")
    figure.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=120)
    return out


def top_confusion(
    matrix: ArrayLike, class_names: Sequence[str], top: int, other: str = "other"
) -> tuple[np.ndarray, list[str], int]:
    """A confusion matrix cut to what a reader can see: the ``top`` most frequent true classes.

    Classes that never occur (as truth or as prediction) are dropped; of the rest, the ``top``
    most frequent true classes are kept (then the most often predicted, then in the given order)
    and every other class is merged into one ``other`` row and column (its diagonal cell counts
    rarer classes predicted as rarer classes, right or wrong). Nothing is merged when at most one
    class would be. Rows and columns follow the kept order, ``other`` last; the third value is the
    number of classes merged (0: none).
    """
    counts = np.asarray(matrix, dtype=np.float64)
    n = len(class_names)
    if counts.shape != (n, n):
        raise ValueError(f"confusion matrix has shape {counts.shape}, expected ({n}, {n})")
    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    truth, guessed = counts.sum(axis=1), counts.sum(axis=0)
    seen = [i for i in range(n) if truth[i] > 0 or guessed[i] > 0]
    ranked = sorted(seen, key=lambda i: (-truth[i], -guessed[i], i))
    if len(ranked) <= top + 1:
        return counts[np.ix_(ranked, ranked)], [class_names[i] for i in ranked], 0
    kept, rest = ranked[:top], ranked[top:]
    reduced = np.zeros((top + 1, top + 1))
    reduced[:top, :top] = counts[np.ix_(kept, kept)]
    reduced[:top, top] = counts[np.ix_(kept, rest)].sum(axis=1)
    reduced[top, :top] = counts[np.ix_(rest, kept)].sum(axis=0)
    reduced[top, top] = counts[np.ix_(rest, rest)].sum()
    return reduced, [*(class_names[i] for i in kept), f"{other} ({len(rest)})"], len(rest)


def save_confusion_panels(
    panels: Sequence[tuple[str, ArrayLike, Sequence[str]]],
    path: Path | str,
    title: str = "Confusion matrices",
    top: int = 15,
    noun: str = "items",
) -> Path:
    """Several confusion matrices (rows = truth, row fractions in %) side by side in one PNG.

    For tasks with too many classes for one readable matrix (a VQA set's answers, type by type):
    each ``(name, matrix, class_names)`` panel shows its ``top`` most frequent true classes
    (:func:`top_confusion`) and its accuracy and size (``noun``) over all of its classes in its title.
    """
    if not panels:
        raise ValueError("no confusion matrix to draw")
    reduced = []
    merged = False
    for name, matrix, names in panels:
        counts = np.asarray(matrix, dtype=np.float64)
        shown, labels, rest = top_confusion(counts, names, top)
        merged = merged or rest > 0
        total = float(counts.sum())
        accuracy = f"{100 * float(np.trace(counts)) / total:.1f}% right" if total else "none right"
        reduced.append((f"{name}: {int(total)} {noun}, {accuracy}", shown, labels))
    columns = 1 if len(reduced) == 1 else 2
    rows = -(-len(reduced) // columns)
    side = max(4.5, 0.4 * max(len(labels) for _, _, labels in reduced) + 3.0)
    figure = Figure(figsize=(columns * (side + 1.0), rows * side + 0.6))
    FigureCanvasAgg(figure)
    for k, (name, counts, labels) in enumerate(reduced):
        axes = figure.add_subplot(rows, columns, k + 1)
        _draw_row_percentages(axes, counts, labels)
        axes.set_title(name, fontsize=10)
    note = "\nother (n): n rarer classes merged into one; its diagonal cell mixes right and wrong"
    figure.suptitle(title + (note if merged else ""))
    figure.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    return out


def _draw_row_percentages(axes: Axes, counts: np.ndarray, labels: Sequence[str]) -> None:
    """One confusion matrix as row percentages, labelled, non-zero cells annotated."""
    totals = counts.sum(axis=1, keepdims=True)
    values = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0) * 100.0
    n = len(labels)
    axes.imshow(values, cmap="Blues", vmin=0.0, vmax=100.0)
    axes.set_xticks(
        range(n), labels=list(labels), rotation=60, ha="right", rotation_mode="anchor", fontsize=8
    )
    axes.set_yticks(range(n), labels=list(labels), fontsize=8)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    for row in range(n):
        for col in range(n):
            if counts[row, col]:
                color = "white" if values[row, col] > 60.0 else "black"
                axes.text(
                    col, row, f"{values[row, col]:.0f}", ha="center", va="center", fontsize=7, color=color
                )
