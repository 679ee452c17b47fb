"""PNG quicklooks of map layers: class maps with a colour legend, value maps with a unit colour bar.

Drawn on matplotlib's Agg canvas (no display). Scenes larger than ``MAX_SIDE`` pixels are shown
decimated (every k-th pixel), which the title says, so a quicklook of a 12,000-pixel-wide mosaic
stays a few MB and a few seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

MAX_SIDE = 2048


def display_step(shape: tuple[int, int]) -> int:
    """Every how many pixels a quicklook of a ``shape`` raster samples (1 up to :data:`MAX_SIDE`)."""
    return max(1, -(-max(shape) // MAX_SIDE))


def _figure(shape: tuple[int, int], legend_width: float) -> tuple[Figure, Axes]:
    rows, cols = shape
    side = 7.0
    width, height = (side, side * rows / cols) if cols >= rows else (side * cols / rows, side)
    figure = Figure(figsize=(width + legend_width, max(height, 2.5) + 0.6), dpi=110)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def draw_class_map(
    axes: Axes, classes: npt.NDArray[np.integer], class_names: Sequence[str], colours: npt.NDArray[np.uint8]
) -> list[Patch]:
    """Draw a class raster (0 = no data, k + 1 = class k) on ``axes``; returns the legend handles."""
    palette = np.vstack([[255, 255, 255], colours[: len(class_names)]]) / 255.0
    axes.imshow(
        classes, cmap=ListedColormap(palette), vmin=-0.5, vmax=len(class_names) + 0.5, interpolation="nearest"
    )
    axes.set_axis_off()
    return [
        Patch(facecolor=palette[k + 1], edgecolor="0.3", label=name) for k, name in enumerate(class_names)
    ]


def save_class_map(
    classes: npt.NDArray[np.integer],
    class_names: Sequence[str],
    colours: npt.NDArray[np.uint8],
    path: Path,
    title: str,
) -> Path:
    """A class map PNG with one legend entry per class (white = no data)."""
    figure, axes = _figure(classes.shape, legend_width=3.2)
    handles = draw_class_map(axes, classes, class_names, colours)
    handles.append(Patch(facecolor="white", edgecolor="0.3", label="no data"))
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, bbox_inches="tight")  # long class names stay inside the image
    return path


def save_value_map(values: npt.NDArray[np.floating], label: str, path: Path, title: str) -> Path:
    """A continuous map PNG with a colour bar labelled ``label`` (name and unit); NaN shows white."""
    figure, axes = _figure(values.shape, legend_width=1.4)
    finite = values[np.isfinite(values)]
    low, high = np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0)
    image = axes.imshow(
        np.ma.masked_invalid(values), cmap="viridis", vmin=low, vmax=high, interpolation="nearest"
    )
    axes.set_axis_off()
    colorbar = figure.colorbar(image, ax=axes, fraction=0.046, pad=0.03)
    colorbar.set_label(label)
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, bbox_inches="tight")  # long class names stay inside the image
    return path
