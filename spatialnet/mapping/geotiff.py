"""GeoTIFF maps: each finished ENVI layer copied by GDAL into a tiled, compressed, georeferenced GeoTIFF.

A map is computed into ENVI rasters (strip by strip, fsync-ed, resumable: :mod:`rasters`), and
each layer is copied once every strip is done. GDAL's ENVI reader turns the header's ``map info``
and ``coordinate system string`` into the CRS and affine transform (none when the cube had no map
info), ``class names`` and ``class lookup`` into category names and a colour table, ``data ignore
value`` into the nodata value, band names into band descriptions. Writing the GeoTIFFs strip by
strip instead would recompress every 256-row tile that a strip only partly covers and leave a
file that a kill during GDAL's directory update breaks; a copy of finished rasters writes each
tile once, the same bytes on every run, through a block cache of :data:`CACHE_MB`.

``cog`` copies each GeoTIFF once more, through GDAL's COG driver: overviews (nearest neighbour
for classes and the mask, averages for values) and the cloud-optimised layout.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.shutil import copy as gdal_copy
from rasterio.windows import Window

from spatialnet.files import fsync_file
from spatialnet.mapping.layers import NO_DATA_CLASS, NO_DATA_NAME, VALID, Layer
from spatialnet.mapping.rasters import RasterSet, describe

BLOCK = 256  # tile side, pixels
CACHE_MB = 64  # GDAL's block cache while copying and reading: bounds the memory a copy takes
PAM_SUFFIX = ".aux.xml"  # GDAL keeps category names beside a GeoTIFF (QGIS reads them there)


def tiff_name(layer: Layer) -> str:
    """File name of a layer's GeoTIFF."""
    return f"{layer.name}.tif"


def geotiff_files(layers: Sequence[Layer]) -> list[str]:
    """Every file the GeoTIFFs of ``layers`` take: each ``.tif`` and, for class maps, its ``.aux.xml``."""
    names = [tiff_name(layer) for layer in layers]
    return names + [tiff_name(layer) + PAM_SUFFIX for layer in layers if layer.kind == "class"]


@contextmanager
def _gdal() -> Iterator[None]:
    """GDAL with a bounded block cache; quiet about rasters without georeferencing (the CLI says so)."""
    with rasterio.Env(GDAL_CACHEMAX=CACHE_MB), warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        yield


def _options(layer: Layer, cog: bool) -> dict[str, Any]:
    """Creation options: 256² deflate tiles; the floating-point predictor for floats.

    Class codes and the mask are left without a predictor: differences of class codes mean
    nothing, and deflate already packs their runs.
    """
    floats = np.dtype(layer.dtype).kind == "f"
    # IF_SAFER: a BigTIFF when the uncompressed raster could pass 4 GB (IF_NEEDED ignores compression)
    options: dict[str, Any] = {"COMPRESS": "DEFLATE", "BIGTIFF": "IF_SAFER"}
    if cog:
        options.update(
            BLOCKSIZE=BLOCK,
            PREDICTOR="FLOATING_POINT" if floats else "NO",
            OVERVIEW_RESAMPLING="AVERAGE" if layer.kind in ("probability", "value") else "NEAREST",
        )
    else:
        options.update(
            TILED="YES", BLOCKXSIZE=BLOCK, BLOCKYSIZE=BLOCK, INTERLEAVE="BAND", PREDICTOR=3 if floats else 1
        )
    return options


def _remove(path: Path) -> None:
    """A GeoTIFF and its GDAL sidecar (left by an earlier, stopped copy)."""
    path.unlink(missing_ok=True)
    path.with_name(path.name + PAM_SUFFIX).unlink(missing_ok=True)


def write_geotiffs(rasters: RasterSet, out: Path, source: str, cog: bool = False) -> None:
    """Copy every finished ENVI layer of ``rasters`` into a GeoTIFF in ``out``; each file fsync-ed.

    Beyond what GDAL reads from the ENVI header, each file gets a description (``source``, the
    layer), the nodata value of its kind (class 0, NaN for floats; none for the mask, whose 0
    means "no prediction"), units for values and the class names as band tags (``CLASS_k``), so
    a lone ``.tif`` still says what its codes are. With ``cog`` the finished GeoTIFF is copied
    into a COG and the intermediate (beside the ENVI files) deleted.
    """
    out.mkdir(parents=True, exist_ok=True)
    with _gdal():
        for layer in rasters.layers:
            final = out / tiff_name(layer)
            tiff = rasters.folder / tiff_name(layer) if cog else final
            for path in {tiff, final}:
                _remove(path)
            gdal_copy(
                str(rasters.folder / layer.data_file), str(tiff), driver="GTiff", **_options(layer, False)
            )
            with rasterio.open(tiff, "r+") as dataset:
                dataset.update_tags(TIFFTAG_IMAGEDESCRIPTION=describe(layer, source))
                if layer.kind != VALID:
                    dataset.nodata = layer.fill
                if layer.unit:
                    dataset.units = [layer.unit] * dataset.count
                if layer.kind == "class":
                    names = (NO_DATA_NAME, *layer.class_names)
                    dataset.update_tags(
                        1, **{f"CLASS_{NO_DATA_CLASS + k}": name for k, name in enumerate(names)}
                    )
            if cog:
                gdal_copy(str(tiff), str(final), driver="COG", **_options(layer, True))
                _remove(tiff)
            for path in (final, final.with_name(final.name + PAM_SUFFIX)):
                if path.is_file():
                    fsync_file(path)


class GeoTiffSet:
    """A finished GeoTIFF map's layers, read back for the summary and the quicklooks."""

    def __init__(self, folder: Path, layers: Sequence[Layer], shape: tuple[int, int]) -> None:
        self.folder = folder
        self.layers = list(layers)
        self.shape = shape

    def read(self, layer: Layer, step: int = 1) -> npt.NDArray[Any]:
        """The (bands, rows, cols) layer, every ``step``-th pixel: one band and one tile row at a time."""
        rows, cols = self.shape
        out = np.empty((len(layer.band_names), math.ceil(rows / step), math.ceil(cols / step)), layer.dtype)
        with _gdal(), rasterio.open(self.folder / tiff_name(layer)) as dataset:
            for top in range(0, rows, BLOCK):
                height = min(BLOCK, rows - top)
                first = -(-top // step) * step  # the first kept row in this tile row
                if first >= top + height:
                    continue
                kept = slice(first // step, (top + height - 1) // step + 1)
                for band in range(len(layer.band_names)):
                    block = dataset.read(band + 1, window=Window(0, top, cols, height))
                    out[band, kept] = block[first - top :: step, ::step]
        return out
