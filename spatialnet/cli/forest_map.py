"""``spatialnet map``: forest maps of a whole hyperspectral cube from a trained TAIGA model."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from spatialnet.mapping.settings import DEFAULT_BATCH, FORMATS, MapSettings


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "map",
        help="map every forest variable over a hyperspectral cube (ENVI or GeoTIFF rasters + PNG quicklooks)",
        description="Run a forest model over every pixel of an ENVI cube (or every --stride-th pixel) and "
        "write, per categorical variable, a class map and its class probabilities, per continuous "
        "variable its physical-unit map, and a validity mask, as ENVI files or GeoTIFFs keeping the "
        "cube's georeferencing, with PNG quicklooks. The cube is streamed strip by strip (bounded "
        "memory); re-running the same command after a stop resumes where it left off.",
    )
    parser.add_argument("run", type=Path, help="run folder (uses best/) or checkpoint folder")
    parser.add_argument("--image", type=Path, required=True, help="ENVI header (.hdr) of the cube to map")
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output folder (new, or a stopped map to resume)",
    )
    parser.add_argument(
        "--stride", type=int, default=1, help="predict every N-th pixel in each direction (default 1: all)"
    )
    parser.add_argument(
        "--region",
        type=int,
        nargs=4,
        metavar=("ROW", "COL", "HEIGHT", "WIDTH"),
        help="map only this rectangle of the cube",
    )
    parser.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH, help=f"windows per forward pass ({DEFAULT_BATCH})"
    )
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="envi",
        help="envi: band-sequential ENVI files (default); gtiff: one tiled, deflate-compressed GeoTIFF per "
        "layer with colour tables and class names; cog: the same as Cloud Optimised GeoTIFFs (overviews)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace a map with other settings in --out")
    parser.add_argument("--no-quicklooks", action="store_true", help="skip the PNG quicklooks")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Map, then print where the rasters went."""
    settings = MapSettings(
        stride=args.stride,
        region=tuple(args.region) if args.region else None,
        batch_size=args.batch_size,
        device=args.device,
        overwrite=args.overwrite,
        quicklooks=not args.no_quicklooks,
        raster_format=args.format,
    )
    from spatialnet.mapping.scene import map_scene  # deferred: torch, only when mapping
    from spatialnet.predictor import Predictor

    predictor = Predictor.from_run(args.run, args.device)
    summary = map_scene(predictor, args.image, args.out, settings, progress=not args.no_progress)
    if not summary.georeferenced:
        print(
            f"{args.image}: no usable 'map info' in the header, so the maps carry no georeferencing",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(asdict(summary), indent=2))
        return 0
    rows, cols = summary.shape
    reused = f", {summary.strips_reused} of {summary.strips} strips reused" if summary.strips_reused else ""
    print(
        f"mapped {rows} x {cols} pixels (stride {summary.stride}) into {summary.out}: "
        f"{summary.windows:,} windows in {summary.seconds:.1f} s "
        f"({summary.windows_per_second:,.0f}/s){reused}; {summary.valid_pixels:,} pixels have a prediction"
    )
    return 0
