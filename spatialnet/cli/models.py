"""``spatialnet models``: the models shipped in the package, with their validation figures."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "models",
        help="list the trained models shipped in the package (usable by name wherever a run is asked)",
        description="List the bundled models: name, recipe, tasks and the validation figures of their "
        "model card. Any command that takes a run folder takes one of these names instead "
        "(predict, evaluate, app, train --set backbone.pretrained=NAME).",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print one block per bundled model."""
    from spatialnet import checkpoint as ckpt
    from spatialnet.heads.headlines import formatted, head_types, headline_values
    from spatialnet.pretrained import DEFAULT_MODEL, bundled_models

    models = bundled_models()
    if not models:
        print("no bundled models are installed")
        return 0
    for model in models:
        recipe = ckpt.read_recipe(model.folder)
        metrics = ckpt.read_metrics(model.folder)
        default = " (default)" if model.name == DEFAULT_MODEL else ""
        heads = ", ".join(recipe.heads)
        print(f"{model.name}{default}: recipe {recipe.name}, heads {heads}, {model.size_mb:.1f} MB")
        headlines = headline_values(metrics.get("val", {}), head_types(recipe.heads))
        for headline, value in headlines:
            print(f"  {headline.task:<14} {headline.label:<22} {formatted(headline, value)}  (val)")
        print(f"  card: {model.card}")
    return 0
