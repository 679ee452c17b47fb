"""Which cube pixels a map predicts, how the work is cut into strips, and where the output sits.

Output pixel (i, j) covers cube rows ``row0 + i·stride …`` and columns ``col0 + j·stride …``
and holds the prediction for the pixel nearest its centre (``+ stride // 2``, clipped to the
region). ``stride = 1`` maps every pixel; larger strides give a coarser map of the same area at a
fraction of the cost (stride² fewer windows). A prediction needs the whole P × P window inside
the cube, so pixels closer than P // 2 to the cube's edge are outside the validity mask (as are
no-data pixels, which the scene loop finds in the data).

Strips of output rows are the unit of work and of resuming; within a strip, column chunks bound
how much of the cube is read and normalised at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spatialnet.errors import DataError

STRIP_INPUT_ROWS = 64  # cube rows a strip spans (before the window's halo): bounds memory and lost work
CHUNK_PIXELS = 1 << 15  # cube pixels a column chunk reads and normalises at once (~14 MB at 110 bands)


@dataclass(frozen=True)
class Region:
    """A rectangle of the cube: top-left (row, col) and size."""

    row: int
    col: int
    height: int
    width: int

    @classmethod
    def whole(cls, lines: int, samples: int) -> Region:
        """The whole cube."""
        return cls(0, 0, lines, samples)

    def checked(self, lines: int, samples: int, source: str) -> Region:
        """Itself, if inside a ``lines`` × ``samples`` cube (else a DataError naming ``source``)."""
        if self.height < 1 or self.width < 1 or self.row < 0 or self.col < 0:
            raise DataError(f"--region {self.as_tuple()}: expected ROW COL ≥ 0 and HEIGHT WIDTH ≥ 1")
        if self.row + self.height > lines or self.col + self.width > samples:
            raise DataError(
                f"{source}: --region rows {self.row}..{self.row + self.height - 1}, cols "
                f"{self.col}..{self.col + self.width - 1} is outside the cube "
                f"({lines} lines x {samples} samples)"
            )
        return self

    def as_tuple(self) -> tuple[int, int, int, int]:  # noqa: D102
        return (self.row, self.col, self.height, self.width)


@dataclass(frozen=True)
class MapGrid:
    """The output grid of a map over ``region`` of a ``lines`` × ``samples`` cube."""

    lines: int
    samples: int
    window: int
    stride: int
    region: Region

    def __post_init__(self) -> None:
        if self.stride < 1:
            raise DataError(f"--stride {self.stride}: expected a positive number of pixels")
        if self.window < 1 or self.window % 2 == 0:
            raise DataError(f"window {self.window}: expected an odd positive size")

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the output rasters."""
        return (math.ceil(self.region.height / self.stride), math.ceil(self.region.width / self.stride))

    @property
    def strip_rows(self) -> int:
        """Output rows per strip: about :data:`STRIP_INPUT_ROWS` cube rows."""
        return max(1, STRIP_INPUT_ROWS // self.stride)

    @property
    def chunk_cols(self) -> int:
        """Output columns per chunk: a chunk's cube block (with halo) holds about :data:`CHUNK_PIXELS`."""
        block_rows = self.strip_rows * self.stride + self.window - 1
        return max(1, CHUNK_PIXELS // (block_rows * self.stride))

    @property
    def strips(self) -> list[tuple[int, int]]:
        """[first, end) output rows of each strip, top to bottom."""
        rows = self.shape[0]
        return [(i, min(i + self.strip_rows, rows)) for i in range(0, rows, self.strip_rows)]

    def chunks(self) -> list[tuple[int, int]]:
        """[first, end) output columns of each column chunk, left to right."""
        cols = self.shape[1]
        return [(j, min(j + self.chunk_cols, cols)) for j in range(0, cols, self.chunk_cols)]

    def centre_rows(self, first: int, end: int) -> npt.NDArray[np.int64]:
        """Cube rows of the pixels that output rows [first, end) predict."""
        return _centres(self.region.row, self.region.height, self.stride, first, end)

    def centre_cols(self, first: int, end: int) -> npt.NDArray[np.int64]:
        """Cube columns of the pixels that output columns [first, end) predict."""
        return _centres(self.region.col, self.region.width, self.stride, first, end)

    def inside(self, rows: npt.NDArray[np.int64], cols: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """(len(rows), len(cols)): whose window lies wholly inside the cube."""
        half = self.window // 2
        ok_rows = (rows >= half) & (rows < self.lines - half)
        ok_cols = (cols >= half) & (cols < self.samples - half)
        return ok_rows[:, None] & ok_cols[None, :]

    def map_info(self, cube_map_info: Sequence[str] | str | None) -> list[str] | None:
        """The cube's ENVI ``map info`` rewritten for the output grid (same place on the ground).

        ENVI ties pixel (x, y) (1-based, 1.0 = a pixel's upper-left corner) to an easting and a
        northing; the output's pixels are ``stride`` times larger and start at the region's corner,
        so the tie pixel moves and the pixel size scales, while the map coordinates stay.
        """
        if cube_map_info is None:
            return None
        fields = _split_map_info(cube_map_info)
        if len(fields) < 7:
            return None  # not a map info this code understands: leave the output unreferenced
        try:
            tie_x, tie_y, size_x, size_y = (float(fields[i]) for i in (1, 2, 5, 6))
        except ValueError:
            return None
        s = self.stride
        fields[1] = _number(1 + (tie_x - 1 - self.region.col) / s)
        fields[2] = _number(1 + (tie_y - 1 - self.region.row) / s)
        fields[5] = _number(size_x * s)
        fields[6] = _number(size_y * s)
        return fields


def _centres(start: int, length: int, stride: int, first: int, end: int) -> npt.NDArray[np.int64]:
    index = np.arange(first, end, dtype=np.int64)
    return start + np.minimum(index * stride + stride // 2, length - 1)


def _split_map_info(value: Sequence[str] | str) -> list[str]:
    if isinstance(value, str):
        value = value.strip().strip("{}").split(",")
    return [str(v).strip() for v in value]


def _number(value: float) -> str:
    return f"{value:.10g}"
