"""Every backbone type in one place: importing this module registers them all, then builds one.

The registry (:mod:`spatialnet.backbones.registry`) knows no implementation; this module imports
each (``vit``, ``shared_vit`` and the forest networks), so nothing imports back into the registry.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import spatialnet.backbones.forest  # noqa: F401  (registers seed000, pham, unet)
import spatialnet.backbones.shared_vit  # noqa: F401  (registers "shared_vit")
import spatialnet.backbones.vit  # noqa: F401  (registers "vit")
from spatialnet.backbones.registry import BACKBONES, Backbone
from spatialnet.config import BackboneConfig, from_dict
from spatialnet.errors import RecipeError


def build_backbone(config: BackboneConfig, source: str = "recipe") -> Backbone:
    """The backbone ``config.type`` with its ``options`` validated against the type's dataclass."""
    if config.type not in BACKBONES:
        raise RecipeError(
            f"{source}: 'backbone.type' is {config.type!r}; expected one of: {', '.join(sorted(BACKBONES))}"
        )
    factory, options_class = BACKBONES[config.type]
    options = from_dict(options_class, config.options, source, "backbone.options.")
    return factory(config, options)


def resolved_options(config: BackboneConfig, source: str = "recipe") -> dict[str, Any]:
    """``config.options`` with every option of the type written out (defaults included)."""
    if config.type not in BACKBONES:
        raise RecipeError(
            f"{source}: 'backbone.type' is {config.type!r}; expected one of: {', '.join(sorted(BACKBONES))}"
        )
    _, options_class = BACKBONES[config.type]
    return dataclasses.asdict(from_dict(options_class, config.options, source, "backbone.options."))
