"""Every backbone type in one place: the built-in ones by module, imported when a recipe names them.

The registry (:mod:`spatialnet.backbones.registry`) knows no implementation; this module knows
where each built-in one lives, so a forest CNN's ``predict`` or ``map`` never imports timm (the
ViTs and the U-Net's encoder need it) and nothing imports back into the registry.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from spatialnet.backbones.registry import BACKBONES, Backbone, BackboneFactory
from spatialnet.config import BackboneConfig, from_dict
from spatialnet.errors import RecipeError

BUILT_IN_BACKBONES = {
    "vit": "spatialnet.backbones.vit",
    "shared_vit": "spatialnet.backbones.shared_vit",
    "seed000": "spatialnet.backbones.forest.seed000",
    "pham": "spatialnet.backbones.forest.pham",
    "unet": "spatialnet.backbones.forest.unet",
}


def registered_backbones() -> dict[str, tuple[BackboneFactory, type[Any]]]:
    """Every registered backbone type (factory, options dataclass), the built-in ones included."""
    for module in sorted(set(BUILT_IN_BACKBONES.values())):
        importlib.import_module(module)
    return BACKBONES


def _entry(config: BackboneConfig, source: str) -> tuple[BackboneFactory, type[Any]]:
    """The factory and options class of ``config.type`` (a built-in one is imported on first use)."""
    if config.type not in BACKBONES and config.type in BUILT_IN_BACKBONES:
        importlib.import_module(BUILT_IN_BACKBONES[config.type])
    if config.type not in BACKBONES:
        raise RecipeError(
            f"{source}: 'backbone.type' is {config.type!r}; "
            f"expected one of: {', '.join(sorted(registered_backbones()))}"
        )
    return BACKBONES[config.type]


def build_backbone(config: BackboneConfig, source: str = "recipe") -> Backbone:
    """The backbone ``config.type`` with its ``options`` validated against the type's dataclass."""
    factory, options_class = _entry(config, source)
    options = from_dict(options_class, config.options, source, "backbone.options.")
    return factory(config, options)


def resolved_options(config: BackboneConfig, source: str = "recipe") -> dict[str, Any]:
    """``config.options`` with every option of the type written out (defaults included)."""
    _, options_class = _entry(config, source)
    return dataclasses.asdict(from_dict(options_class, config.options, source, "backbone.options."))
