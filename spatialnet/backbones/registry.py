"""Backbone registry: ``backbone.type`` in a recipe names the encoder a model is built on.

A backbone maps an image batch to a :class:`BackboneOutput` and names the parameter GradNorm
measures gradients on. The ViT is the default; the hyperspectral forest networks of seed 000
register themselves from :mod:`spatialnet.backbones.forest` with a dataclass for ``backbone.options``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from torch import Tensor, nn

from spatialnet.backbones.output import BackboneOutput
from spatialnet.config import BackboneConfig


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """The images one modality of a backbone reads: square size, patch size and bands."""

    img_size: int
    patch_size: int
    in_chans: int


class Backbone(nn.Module):
    """What a model needs from its encoder, whatever its kind.

    ``embed_dim`` is the width of ``pooled`` and of the tokens; ``map_channels`` the channels of
    each per-pixel feature map in ``BackboneOutput.maps`` (empty for a ViT). ``modalities`` names
    the inputs it has a stem for: one unnamed modality ``""`` except for the shared trunk.
    """

    config: BackboneConfig
    embed_dim: int
    map_channels: dict[str, int]
    modalities: tuple[str, ...] = ("",)

    def forward(self, images: Tensor) -> BackboneOutput:  # noqa: D102
        raise NotImplementedError

    def encode(self, images: Tensor, modality: str = "") -> BackboneOutput:
        """Features of ``images`` of ``modality`` (a one-stem backbone has only ``""``)."""
        if modality:
            raise ValueError(f"this {self.config.type} backbone has one input; got modality {modality!r}")
        output: BackboneOutput = self(images)
        return output

    def input_spec(self, modality: str = "") -> InputSpec:
        """Size, patch and bands of the images ``modality`` reads."""
        return InputSpec(self.config.img_size, self.config.patch_size, self.config.in_chans)

    def last_shared_parameter(self) -> Tensor:
        """The parameter of the last shared layer (GradNorm's W)."""
        raise NotImplementedError


@dataclasses.dataclass
class NoOptions:
    """Backbones configured by the ``backbone`` fields alone take no ``options``."""


BackboneFactory = Callable[[BackboneConfig, Any], Backbone]
F = TypeVar("F", bound=BackboneFactory)
BACKBONES: dict[str, tuple[BackboneFactory, type[Any]]] = {}


def register_backbone(name: str, options: type[Any] = NoOptions) -> Callable[[F], F]:
    """Register a backbone factory ``(config, options) -> Backbone`` under ``name``."""

    def decorate(factory: F) -> F:
        if name in BACKBONES:
            raise ValueError(f"backbone type '{name}' is registered twice")
        BACKBONES[name] = (factory, options)
        return factory

    return decorate


def without_weight_sources(config: BackboneConfig) -> BackboneConfig:
    """``config`` with every pretrained-weights source cleared: a checkpoint already holds the weights.

    Rebuilding a trained model then reads no weights file nor package (``backbone.pretrained``,
    ``backbone.cnn_weights`` and each shared-trunk modality's ``cnn_weights``).
    """
    options = dict(config.options)
    if isinstance(options.get("modalities"), dict):
        options["modalities"] = {
            name: {**entry, "cnn_weights": None} if isinstance(entry, dict) else entry
            for name, entry in options["modalities"].items()
        }
    return dataclasses.replace(config, pretrained=None, cnn_weights=None, options=options)
