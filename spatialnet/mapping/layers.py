"""What a whole-scene map writes: one raster layer per kind of output of each per-pixel head.

A leaf module (dataclasses only): heads declare their layers with it, :mod:`rasters` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VALID = "valid"
NO_DATA_CLASS = 0
NO_DATA_NAME = "no data"  # the name of class code 0 in class maps


@dataclass(frozen=True)
class Layer:
    """One output raster: its name, kind (class | probability | value | valid) and bands."""

    name: str
    head: str
    kind: str
    band_names: tuple[str, ...]
    dtype: str
    unit: str = ""
    class_names: tuple[str, ...] = field(default=())

    @property
    def header(self) -> str:
        """File name of the ENVI header (the data file is the same name with ``.img``)."""
        return f"{self.name}.hdr"

    @property
    def data_file(self) -> str:  # noqa: D102
        return f"{self.name}.img"

    @property
    def fill(self) -> float:
        """The value of pixels without a prediction."""
        return NO_DATA_CLASS if self.kind in ("class", "valid") else float("nan")
