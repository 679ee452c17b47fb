"""Class maps of a TAIGA test crop beside the ground truth (seed 000, Fig. 10).

``class_map_figure`` draws any predicted class array beside its truth; ``predict_crop_classes``
maps the crop with ``spatialnet map`` (the window around every pixel, as ``predict`` sees it).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from spatialnet.data.registry import build_dataset
from spatialnet.data.taiga import CATEGORICAL_NAMES
from spatialnet.data.taiga.envi import open_envi
from spatialnet.mapping.quicklook import class_colours
from spatialnet.mapping.scene import map_scene
from spatialnet.mapping.settings import MapSettings
from spatialnet.predictor import Predictor

NO_LABEL_RGB = (0.85, 0.85, 0.85)


@dataclass(frozen=True)
class Crop:
    """A square region of the scene: top-left pixel and side, in image rows/cols."""

    top: int
    left: int
    size: int


def _rgb(classes: npt.NDArray[Any], colours: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    image = np.empty((*classes.shape, 3), dtype=np.float64)
    image[:] = NO_LABEL_RGB
    known = (classes >= 0) & (classes < len(colours))
    image[known] = colours[classes[known]]
    return image


def class_map_figure(
    predicted: npt.ArrayLike, truth: npt.ArrayLike, class_names: Sequence[str], path: Path | str
) -> Path:
    """Write predicted classes beside the ground truth as a PNG, one colour per class, with a legend.

    Both arrays are (H, W) class indices 0..K-1; negative values (``IGNORE_INDEX``) are unlabelled
    and drawn grey. The truth panel's title gives the accuracy over its labelled pixels.
    """
    pred = np.asarray(predicted).astype(np.int64)
    true = np.asarray(truth).astype(np.int64)
    if pred.shape != true.shape or pred.ndim != 2:
        raise ValueError(
            f"predicted and truth must be (H, W) of one shape, got {pred.shape} and {true.shape}"
        )
    colours = class_colours(len(class_names)) / 255.0  # the colours of the map's quicklooks
    labelled = (true >= 0) & (true < len(class_names))
    accuracy = float((pred[labelled] == true[labelled]).mean()) if labelled.any() else float("nan")
    figure = Figure(figsize=(10.0, 5.0))
    FigureCanvasAgg(figure)
    for column, (image, title) in enumerate(
        (
            (pred, "predicted"),
            (true, f"ground truth ({100 * accuracy:.1f} % of {int(labelled.sum())} labelled px agree)"),
        )
    ):
        axes = figure.add_subplot(1, 2, column + 1)
        axes.imshow(_rgb(image, colours), interpolation="nearest")
        axes.set_title(title, fontsize=10)
        axes.set_xticks([])
        axes.set_yticks([])
    handles = [Patch(color=tuple(colours[i]), label=name) for i, name in enumerate(class_names)]
    handles.append(Patch(color=NO_LABEL_RGB, label="no label"))
    figure.legend(handles=handles, loc="lower center", ncol=min(len(handles), 4), fontsize=9, frameon=False)
    figure.tight_layout(rect=(0.0, 0.1, 1.0, 0.95))
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=100)
    return out


def densest_test_crop(centres: npt.NDArray[Any], shape: tuple[int, int], size: int, window: int) -> Crop:
    """The ``size`` crop holding the most test centres, with room for a full window around each pixel."""
    half = window // 2
    lines, samples = shape
    tops = np.arange(half, lines - half - size + 1, 8)
    lefts = np.arange(half, samples - half - size + 1, 8)
    if len(tops) == 0 or len(lefts) == 0:
        raise ValueError(f"a {size}-px crop with {window}-px windows does not fit a {lines}x{samples} scene")
    rows, cols = centres[:, 0], centres[:, 1]
    inside_rows = (rows[None, :] >= tops[:, None]) & (rows[None, :] < tops[:, None] + size)
    inside_cols = (cols[None, :] >= lefts[:, None]) & (cols[None, :] < lefts[:, None] + size)
    counts = inside_rows.astype(np.int64) @ inside_cols.T.astype(np.int64)  # (tops, lefts)
    best = np.unravel_index(int(np.argmax(counts)), counts.shape)
    return Crop(int(tops[best[0]]), int(lefts[best[1]]), size)


def predict_crop_classes(predictor: Predictor, dataset: Any, crop: Crop) -> dict[str, npt.NDArray[np.int64]]:
    """Predicted class index of every crop pixel, per categorical head, from ``spatialnet map``.

    ``dataset`` is the run's TAIGA test dataset (its cube is the one mapped).
    """
    settings = MapSettings(region=(crop.top, crop.left, crop.size, crop.size), quicklooks=False)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "map"
        map_scene(predictor, dataset.cube.path, out, settings, progress=False)
        names = [n for n in CATEGORICAL_NAMES if n in predictor.model.heads]
        # class rasters hold 0 for no prediction and k + 1 for class k: back to indices (-1 = none)
        return {
            n: np.asarray(open_envi(out / f"{n}_class.hdr").memmap()[:, :, 0], np.int64) - 1 for n in names
        }


def class_maps_of_test_crop(run: Path, out_dir: Path, size: int, device: str = "cpu") -> dict[str, Any]:
    """Class-map PNGs of the densest test crop of ``size`` px for every categorical head of ``run``."""
    predictor = Predictor.from_run(run, device)
    recipe = predictor.recipe
    name, source = predictor.cube_source()
    dataset: Any = build_dataset(source.data, "test", train=False, fitted=predictor.fitted[name])
    lines, samples, _ = dataset.labels.shape
    crop = densest_test_crop(np.asarray(dataset.centres), (lines, samples), size, recipe.data.image_size)
    predicted = predict_crop_classes(predictor, dataset, crop)
    truth = dataset.targets(dataset.labels.read_window(crop.top, crop.left, crop.size), mask_stands=True)
    figures = {}
    for name, classes in predicted.items():
        config: Any = predictor.model.head(name).config
        names = config.class_names or [str(i) for i in range(config.num_classes)]
        path = class_map_figure(classes, truth[name], names, out_dir / f"class_map_{name}.png")
        figures[name] = path.name
    return {"crop": {"top": crop.top, "left": crop.left, "size": crop.size}, "figures": figures}
