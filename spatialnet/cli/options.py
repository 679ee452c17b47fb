"""Arguments several subcommands share."""

from __future__ import annotations

import argparse


def add_override_option(parser: argparse.ArgumentParser, example: str = "--set train.epochs=5") -> None:
    """``--set KEY=VALUE`` (repeatable): override any recipe key; the value is parsed as YAML."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"override a recipe key, e.g. {example} (repeatable; values parsed as YAML)",
    )
