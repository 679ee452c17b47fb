"""PNG quicklooks of map layers: class maps with a colour legend, value maps with a unit colour bar.

Rendered with numpy look-up tables and PIL, not plotting figures: a quicklook of a small area
takes milliseconds, so the app's Forest tab draws its 16 maps per request without waiting on a
plotting library. Legends depend only on the class names and colours, so each is drawn once
per process. Scenes larger than ``MAX_SIDE`` pixels are shown decimated (every k-th pixel),
which the title says; small areas are enlarged (nearest neighbour) to at least ``MIN_SIDE``.
``save_quicklooks`` draws every layer of a finished map, read from its ENVI files or GeoTIFFs.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from spatialnet.mapping.layers import Layer

MAX_SIDE = 2048
MIN_SIDE = 384  # small map areas are enlarged to this side, so a 16-pixel window stays legible
FONT_SIZE = 13
TITLE_HEIGHT = 26
PAD = 8
SWATCH = 14
BAR_WIDTH = 18
NO_DATA = (255, 255, 255)
EDGE = (77, 77, 77)
TEXT = (20, 20, 20)
# Tableau 10, then the same hues lightened: distinct class colours for up to 20 classes.
TABLEAU = ("1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd", "8c564b", "e377c2", "7f7f7f", "bcbd22", "17becf")
# Five stops of the viridis colour map (dark blue → green → yellow), interpolated to 256 colours.
VIRIDIS_STOPS = ("440154", "3b528b", "21918c", "5ec962", "fde725")


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[0:2], 16), int(hex_colour[2:4], 16), int(hex_colour[4:6], 16)


def class_colours(count: int) -> npt.NDArray[np.uint8]:
    """(count, 3) distinct RGB colours for classes 0..count-1 (Tableau 10, then lightened)."""
    base = np.array([_rgb(c) for c in TABLEAU], dtype=np.float64)
    palette = np.vstack([base, base + (255.0 - base) * 0.5])
    return palette[np.arange(count) % len(palette)].round().astype(np.uint8)


@lru_cache(maxsize=1)
def value_palette() -> npt.NDArray[np.uint8]:
    """(256, 3) colours from low to high values (viridis, linearly between its stops)."""
    stops = np.array([_rgb(c) for c in VIRIDIS_STOPS], dtype=np.float64)
    where = np.linspace(0.0, 1.0, len(stops))
    ramp = np.linspace(0.0, 1.0, 256)
    return np.stack([np.interp(ramp, where, stops[:, k]) for k in range(3)], axis=1).round().astype(np.uint8)


@lru_cache(maxsize=8)
def _font(size: int = FONT_SIZE) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """DejaVu Sans (units need ², ³): the system's, else the copy matplotlib installs, else PIL's own."""
    bundled = importlib.util.find_spec("matplotlib")  # located, not imported
    candidates = ["DejaVuSans.ttf"]
    if bundled is not None and bundled.origin is not None:
        candidates.append(str(Path(bundled.origin).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"))
    for candidate in candidates:
        try:
            return ImageFont.truetype(candidate, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def display_step(shape: tuple[int, int]) -> int:
    """Every how many pixels a quicklook of a ``shape`` raster samples (1 up to :data:`MAX_SIDE`)."""
    return max(1, -(-max(shape) // MAX_SIDE))


def _enlarged(rgb: npt.NDArray[np.uint8]) -> Image.Image:
    """The map as an image, enlarged by an integer factor when small (nearest neighbour)."""
    image = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    factor = max(1, MIN_SIDE // max(rgb.shape[:2]))
    if factor > 1:
        image = image.resize((image.width * factor, image.height * factor), Image.Resampling.NEAREST)
    return image


def _compose(image: Image.Image, legend: Image.Image, title: str, path: Path) -> Path:
    """Title above, the map left, the legend right; saved as PNG."""
    width = PAD + image.width + PAD + legend.width + PAD
    height = TITLE_HEIGHT + max(image.height, legend.height) + PAD
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    ImageDraw.Draw(canvas).text((PAD, 6), title, fill=TEXT, font=_font())
    canvas.paste(image, (PAD, TITLE_HEIGHT))
    canvas.paste(legend, (PAD + image.width + PAD, TITLE_HEIGHT))
    canvas.save(path, compress_level=3)  # a little larger than the default, several times faster
    return path


@lru_cache(maxsize=64)
def class_legend(names: tuple[str, ...], colours: tuple[tuple[int, int, int], ...]) -> Image.Image:
    """One swatch and name per class, then "no data" (drawn once per set of classes)."""
    font = _font()
    entries = [*zip(names, colours, strict=True), ("no data", NO_DATA)]
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    text_width = max(int(probe.textlength(name, font=font)) for name, _ in entries)
    row = SWATCH + 6
    legend = Image.new("RGB", (SWATCH + 6 + text_width + 2, row * len(entries)), (255, 255, 255))
    draw = ImageDraw.Draw(legend)
    for k, (name, colour) in enumerate(entries):
        top = k * row
        draw.rectangle((0, top, SWATCH - 1, top + SWATCH - 1), fill=colour, outline=EDGE)
        draw.text((SWATCH + 6, top), name, fill=TEXT, font=font)
    return legend


def colour_bar(low: float, high: float, label: str, height: int) -> Image.Image:
    """A vertical colour bar from ``low`` (bottom) to ``high`` (top) with three ticks and a label."""
    font = _font()
    ramp = value_palette()[::-1]  # high values on top
    rows = np.linspace(0, len(ramp) - 1, max(height, 2)).round().astype(int)
    bar = np.repeat(ramp[rows][:, None, :], BAR_WIDTH, axis=1)
    ticks = [f"{value:.4g}" for value in (high, (low + high) / 2, low)]
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    text_width = max(int(probe.textlength(text, font=font)) for text in ticks)
    label_height = FONT_SIZE + 6
    legend = Image.new("RGB", (BAR_WIDTH + 6 + text_width + 2, height + label_height), (255, 255, 255))
    legend.paste(Image.fromarray(np.ascontiguousarray(bar), "RGB"), (0, 0))
    draw = ImageDraw.Draw(legend)
    draw.rectangle((0, 0, BAR_WIDTH - 1, height - 1), outline=EDGE)
    for text, y in zip(ticks, (0, height // 2 - FONT_SIZE // 2, height - FONT_SIZE - 1), strict=True):
        draw.text((BAR_WIDTH + 6, max(y, 0)), text, fill=TEXT, font=font)
    draw.text((0, height + 3), label, fill=TEXT, font=font)
    return legend


def class_map_rgb(classes: npt.NDArray[np.integer], colours: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """A class raster (0 = no data, k + 1 = class k) as RGB through the palette (white = no data)."""
    palette = np.vstack([np.array(NO_DATA, dtype=np.uint8), colours])
    index = np.clip(np.asarray(classes, dtype=np.int64), 0, len(palette) - 1)
    rgb: npt.NDArray[np.uint8] = palette[index]
    return rgb


def save_class_map(
    classes: npt.NDArray[np.integer],
    class_names: Sequence[str],
    colours: npt.NDArray[np.uint8],
    path: Path,
    title: str,
) -> Path:
    """A class map PNG with one legend entry per class (white = no data)."""
    used = colours[: len(class_names)]
    legend = class_legend(tuple(class_names), tuple(tuple(int(v) for v in c) for c in used))
    return _compose(_enlarged(class_map_rgb(classes, used)), legend, title, path)


def save_value_map(values: npt.NDArray[np.floating], label: str, path: Path, title: str) -> Path:
    """A continuous map PNG (1st–99th percentile stretch), colour bar labelled ``label``; NaN white."""
    finite = np.isfinite(values)
    low, high = (float(v) for v in np.percentile(values[finite], [1, 99])) if finite.any() else (0.0, 1.0)
    scaled = (np.where(finite, values, low) - low) / (high - low if high > low else 1.0)
    index = np.clip(np.round(scaled * 255), 0, 255).astype(np.intp)
    rgb = value_palette()[index]
    rgb[~finite] = NO_DATA
    image = _enlarged(rgb)
    return _compose(image, colour_bar(low, high, label, image.height), title, path)


class MapRasters(Protocol):
    """A map's finished layers as the summary and the quicklooks read them, whatever their format."""

    folder: Path
    layers: list[Layer]
    shape: tuple[int, int]

    def read(self, layer: Layer, step: int = 1) -> npt.NDArray[Any]:
        """The (bands, rows, cols) layer, every ``step``-th pixel."""
        ...


def save_quicklooks(rasters: MapRasters, source: str, stride: int = 1) -> list[str]:
    """PNG quicklooks of every class, confidence, value and validity layer; returns their file names.

    Titles say every how many cube pixels one quicklook pixel shows (map stride × display step).
    """
    step = display_step(rasters.shape)
    note = f" (sampled every {step * stride} pixels)" if step * stride > 1 else ""
    written: list[str] = []
    for layer in rasters.layers:
        png = rasters.folder / f"{layer.name}.png"
        data = rasters.read(layer, step)
        if layer.kind == "class":
            colours = class_colours(len(layer.class_names))
            save_class_map(data[0], layer.class_names, colours, png, f"{layer.head} of {source}{note}")
        elif layer.kind == "probability":
            label = "probability of the predicted class"
            save_value_map(data.max(axis=0), label, png, f"{layer.head} confidence{note}")
        elif layer.kind == "value":
            save_value_map(data[0], layer.band_names[0], png, f"{layer.head} of {source}{note}")
        else:
            green = np.asarray([[60, 140, 60]], np.uint8)
            save_class_map(data[0], ["predicted"], green, png, f"pixels with a prediction{note}")
        written.append(png.name)
    return written
