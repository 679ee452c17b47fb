"""The ``spatialnet`` console script: one subcommand per module in this package."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from spatialnet.cli import (
    app,
    evaluate,
    export,
    forest_map,
    models,
    predict,
    quickstart,
    score_captions,
    score_rsivqa,
    score_vqa,
    synth,
    train,
)
from spatialnet.errors import SpatialNetError

COMMANDS = (
    quickstart,
    synth,
    export,
    train,
    evaluate,
    predict,
    forest_map,
    models,
    score_captions,
    score_vqa,
    score_rsivqa,
    app,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="spatialnet",
        description="SpatialNet: a ViT with task heads for remote-sensing images (train, evaluate, predict).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a subcommand; expected failures print one line and exit with status 2."""
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except (SpatialNetError, FileNotFoundError, ValueError) as err:
        print(f"spatialnet {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"spatialnet {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
