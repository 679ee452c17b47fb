"""The map's output rasters: one ENVI file per layer, written strip by strip with positional writes.

Layers follow the model's heads: per categorical variable a class map (``NAME_class``, uint8, an
ENVI classification: 0 = no data, k + 1 = class k, with class names and colours) and its class
probabilities (``NAME_probability``, float32, one band per class); per continuous variable its
value in physical units (``NAME``, float32); and the validity mask (``valid``, uint8). Float
layers hold NaN where there is no prediction. Headers keep the cube's georeferencing: its ``map
info`` moved to the output grid and its ``coordinate system string`` (WKT), when it has them.

Data files are band-sequential and allocated at full size up front, so each strip is written in
place (``os.pwrite``), never held in memory as a whole scene, and ``fsync``-ed before the strip is
recorded as done (:mod:`spatialnet.mapping.resume`). GeoTIFF maps are copied from these files
once they are complete (:mod:`spatialnet.mapping.geotiff`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import spectral.io.envi as spy_envi

from spatialnet.data.taiga.envi import allocate_envi
from spatialnet.mapping.layers import NO_DATA_CLASS, NO_DATA_NAME, VALID, Layer
from spatialnet.mapping.quicklook import class_colours
from spatialnet.model import SpatialNet


def output_layers(model: SpatialNet) -> list[Layer]:
    """The layers the model's per-pixel heads map to, in head order, then the validity mask."""
    layers = [layer for name in model.heads for layer in model.head(name).map_layers(name)]
    layers.append(Layer(VALID, "", "valid", ("valid (1 = predicted)",), "uint8"))
    return layers


COORDINATE_SYSTEM = "coordinate system string"


def georeferencing(map_info: list[str] | None, coordinate_system: str | list[str] | None) -> dict[str, Any]:
    """The output headers' georeferencing fields: the grid's ``map info`` and the cube's WKT, if any.

    spectral splits a braced header value at its commas; WKT has no spaces beside them, so the
    parts joined with "," are the cube's string. A WKT without a map info places nothing: dropped.
    """
    if map_info is None:
        return {}
    fields: dict[str, Any] = {"map info": map_info}
    if coordinate_system:
        wkt = coordinate_system if isinstance(coordinate_system, str) else ",".join(coordinate_system)
        fields[COORDINATE_SYSTEM] = "{" + wkt.strip().strip("{}") + "}"
    return fields


def describe(layer: Layer, source: str) -> str:
    """One line saying what a layer's raster is (the ENVI header's and the GeoTIFF's description)."""
    return f"spatialnet map of {source}: {layer.kind} layer {layer.name}"


def _header(
    layer: Layer, shape: tuple[int, int], georeference: Mapping[str, Any], source: str
) -> dict[str, Any]:
    rows, cols = shape
    header: dict[str, Any] = {
        "description": describe(layer, source),
        "samples": cols,
        "lines": rows,
        "bands": len(layer.band_names),
        "header offset": 0,
        "file type": "ENVI Classification" if layer.kind == "class" else "ENVI Standard",
        "data type": spy_envi.dtype_to_envi[np.dtype(layer.dtype).char],
        "interleave": "bsq",
        "byte order": 0,
        "band names": list(layer.band_names),
    }
    if layer.kind == "class":
        names = [NO_DATA_NAME, *layer.class_names]
        colours = np.vstack([[0, 0, 0], class_colours(len(layer.class_names))])
        header.update(
            {
                "classes": len(names),
                "class names": names,
                "class lookup": [int(v) for v in colours.ravel()],
                "data ignore value": NO_DATA_CLASS,
            }
        )
    header.update(georeference)
    return header


class RasterSet:
    """The open output rasters of one map, written strip by strip."""

    def __init__(self, folder: Path, layers: Sequence[Layer], shape: tuple[int, int]) -> None:
        self.folder = folder
        self.layers = list(layers)
        self.shape = shape
        self._fds: dict[str, int] = {}

    @classmethod
    def create(
        cls,
        folder: Path,
        layers: Sequence[Layer],
        shape: tuple[int, int],
        georeference: Mapping[str, Any],
        source: str,
    ) -> RasterSet:
        """Write every header and allocate every data file at its full size (sparse: no time, no disk yet).

        Idempotent: on a resumed map the headers come out the same and the data files keep their strips.
        """
        folder.mkdir(parents=True, exist_ok=True)
        for layer in layers:
            # on a resumed map the header comes out the same and the data file keeps its strips
            allocate_envi(
                folder / layer.header, _header(layer, shape, georeference, source), folder / layer.data_file
            )
        return cls(folder, layers, shape)

    @contextmanager
    def opened(self) -> Iterator[RasterSet]:
        """Keep the data files open for writing while in the block."""
        try:
            for layer in self.layers:
                self._fds[layer.name] = os.open(self.folder / layer.data_file, os.O_RDWR)
            yield self
        finally:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()

    def write_strip(self, first_row: int, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
        """Write (bands, strip rows, cols) arrays, one per layer name, at output row ``first_row``; fsync."""
        rows, cols = self.shape
        for layer in self.layers:
            array = np.ascontiguousarray(arrays[layer.name], dtype=layer.dtype)
            bands, strip_rows, width = array.shape
            if bands != len(layer.band_names) or width != cols or first_row + strip_rows > rows:
                raise ValueError(f"{layer.name}: strip of shape {array.shape} does not fit {self.shape}")
            itemsize = array.itemsize
            for band in range(bands):
                offset = (band * rows + first_row) * cols * itemsize
                os.pwrite(self._fds[layer.name], array[band].tobytes(), offset)
        for fd in self._fds.values():
            os.fsync(fd)

    def read(self, layer: Layer, step: int = 1) -> npt.NDArray[Any]:
        """The (bands, rows, cols) layer, every ``step``-th pixel (copied; the file is unmapped after)."""
        rows, cols = self.shape
        mapped = np.memmap(
            self.folder / layer.data_file,
            dtype=layer.dtype,
            mode="r",
            shape=(len(layer.band_names), rows, cols),
        )
        try:
            return np.array(mapped[:, ::step, ::step])
        finally:
            del mapped
