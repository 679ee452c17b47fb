"""Input processors: how raw pixels become model input, fitted once on a training split.

One processor per dataset of a run, saved in every checkpoint (``processors.json``) and used alike
by the datasets (training and evaluation), the predictor, the app and whole-scene maps:

- :class:`ImageProcessor` (RGB files): square bicubic resize, then per-channel normalisation;
- :class:`HyperspectralProcessor` (ENVI cubes): band subset, reflectance scale, per-band
  statistics fitted on the training pixels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spatialnet.errors import CheckpointError
from spatialnet.processors.hyperspectral import HyperspectralProcessor
from spatialnet.processors.image import ImageProcessor

Processor = ImageProcessor | HyperspectralProcessor
KINDS: dict[str, type[ImageProcessor] | type[HyperspectralProcessor]] = {
    ImageProcessor.kind: ImageProcessor,
    HyperspectralProcessor.kind: HyperspectralProcessor,
}


def processor_to_dict(processor: Processor) -> dict[str, Any]:
    """JSON form, tagged with the processor's kind."""
    return {"kind": processor.kind, **processor.to_dict()}


def processor_from_dict(data: Mapping[str, Any], source: str = "processors.json") -> Processor:
    """Inverse of :func:`processor_to_dict` (a CheckpointError naming ``source`` when malformed)."""
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind not in KINDS:
        raise CheckpointError(f"{source}: processor kind {kind!r}; expected one of {sorted(KINDS)}")
    try:
        return KINDS[str(kind)].from_dict(data)
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{source}: malformed {kind} processor ({err})") from err


__all__ = [
    "HyperspectralProcessor",
    "ImageProcessor",
    "Processor",
    "processor_from_dict",
    "processor_to_dict",
]
