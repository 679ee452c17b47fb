"""How a whole-scene map is made (kept apart so the CLI can describe it without loading torch)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BATCH = 256  # windows per forward pass: CPU throughput peaks around 256-512 for the tiny models
# envi: band-sequential ENVI files; gtiff: tiled, compressed GeoTIFFs; cog: the same, cloud-optimised
FORMATS = ("envi", "gtiff", "cog")


@dataclass(frozen=True)
class MapSettings:
    """How to map: output grid step, optional sub-region, batch size, device, overwrite, raster format."""

    stride: int = 1
    region: tuple[int, int, int, int] | None = None  # ROW COL HEIGHT WIDTH of the cube; None = all
    batch_size: int = DEFAULT_BATCH
    device: str = "auto"
    overwrite: bool = False
    quicklooks: bool = True
    raster_format: str = "envi"  # one of FORMATS


DEFAULT_SETTINGS = MapSettings()
