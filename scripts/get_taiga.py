"""Put the TAIGA hyperspectral forest dataset where ``spatialnet`` reads it, and check it.

TAIGA (Mõttus et al.; DOI 10.23729/fe7ce882-8125-44e7-b0cf-ae652d7ed0d5, Finnish Fairdata IDA,
about 40 GB) is downloaded through the Fairdata web service, which needs a browser session, so
this script does not download: it gathers files you already have and verifies them.

    python scripts/get_taiga.py --files ~/Downloads/taiga/ --out data    # a folder holding the files
    python scripts/get_taiga.py --check data/taiga                        # verify an existing copy

Needed (names as distributed): ``20170615_reflectance_mosaic_128b`` + ``.hdr`` (ENVI cube),
``forestdata_stands`` + ``.hdr`` (14-band label raster), ``taiga_forest_stand_data.csv``; optional
``bad_stands_updated_15092020.csv``. Files are *linked* into ``OUT/taiga/`` (hard links when on the
same file system, else symbolic links): the 37 GiB cube is never copied.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from spatialnet.data.taiga import BAD_STANDS_CSV, NUM_LABEL_BANDS, STANDS_CSV, open_envi, read_stand_split
from spatialnet.errors import DataError

CUBE = "20170615_reflectance_mosaic_128b"
LABELS = "forestdata_stands"
REQUIRED = (CUBE, f"{CUBE}.hdr", LABELS, f"{LABELS}.hdr", STANDS_CSV)
MIN_BANDS = 110  # the baseline keeps bands 0-109
WHERE = (
    "download the TAIGA files from https://doi.org/10.23729/fe7ce882-8125-44e7-b0cf-ae652d7ed0d5 "
    f"({', '.join(REQUIRED)}), then rerun with --files FOLDER"
)


def gather(folder: Path, out: Path) -> Path:
    """Link the dataset's files found under ``folder`` into ``out/taiga``; list what is missing."""
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder; {WHERE}")
    found = {path.name: path for path in folder.rglob("*") if path.is_file()}
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise DataError(f"{folder}: missing {', '.join(missing)}; {WHERE}")
    target = out / "taiga"
    target.mkdir(parents=True, exist_ok=True)
    for name in (*REQUIRED, BAD_STANDS_CSV):
        if name not in found:
            continue
        link = target / name
        if link.exists():
            if link.resolve() != found[name].resolve():
                raise DataError(f"{link}: already exists and is another file; remove it first")
            continue
        try:
            os.link(found[name], link)
        except OSError:
            link.symlink_to(found[name].resolve())
    return target


def check(root: Path) -> None:
    """Open both rasters with the project's reader and cross-check sizes, types and the stand table."""
    cube = open_envi(root / f"{CUBE}.hdr")
    labels = open_envi(root / f"{LABELS}.hdr")
    if cube.shape[2] < MIN_BANDS:
        raise DataError(f"{cube.path}: {cube.shape[2]} bands; expected at least {MIN_BANDS}")
    if labels.shape[2] != NUM_LABEL_BANDS or labels.dtype.kind not in "iu":
        raise DataError(
            f"{labels.path}: {labels.shape[2]} bands of {labels.dtype}; "
            f"expected {NUM_LABEL_BANDS} integer bands"
        )
    if cube.shape[:2] != labels.shape[:2]:
        raise DataError(
            f"{labels.path}: {labels.shape[0]}×{labels.shape[1]} pixels but the cube is "
            f"{cube.shape[0]}×{cube.shape[1]}; expected pixel-aligned rasters"
        )
    split = read_stand_split(root / STANDS_CSV)
    print(
        f"cube {cube.shape[0]}×{cube.shape[1]}×{cube.shape[2]} {cube.dtype} {cube.interleave}, "
        f"labels {labels.shape[2]} bands {labels.dtype} {labels.interleave}, "
        f"stands {len(split.training)} training / {len(split.holdout)} holdout"
    )
    print(f"ok: {root}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--files", type=Path, help="a folder holding the downloaded TAIGA files")
    source.add_argument("--check", type=Path, help="only verify an existing taiga folder")
    parser.add_argument("--out", type=Path, default=Path("data"), help="folder to create taiga/ in")
    args = parser.parse_args(argv)
    try:
        root = args.check if args.check else gather(args.files, args.out)
        check(root)
    except DataError as err:
        print(f"get_taiga: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
