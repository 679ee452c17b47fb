"""Put RSVQA-LR where ``spatialnet`` reads it, and check it with the project's reader.

RSVQA-LR (Lobry et al., TGRS 2020; CC BY 4.0) is on Zenodo, record 6344334: ``Images_LR.zip``
(772 Sentinel-2 tiles ``{id}.tif``) and ``LR_split_{train,val,test}_{images,questions,answers}.json``.
Nothing is fetched at training time: run this once, online or with files you already have.

    python scripts/get_rsvqa_lr.py --archive ~/Downloads/Images_LR.zip ~/Downloads/LR_split_*.json --out data
    python scripts/get_rsvqa_lr.py --archive ~/Downloads/rsvqa/ --out data   # a folder holding them
    python scripts/get_rsvqa_lr.py --url --out data                         # download from Zenodo
    python scripts/get_rsvqa_lr.py --check data/rsvqa_lr                     # verify an existing copy

The result is ``OUT/rsvqa_lr/{Images_LR/, LR_split_*.json}``. Files already there are kept when
identical; a differing one stops the run rather than being overwritten.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from spatialnet.data.rsvqa.files import FILE_KINDS, FOLDER_NAME, IMAGES_DIR, SPLITS, read_split, split_files
from spatialnet.errors import DataError

ZENODO_URL = "https://zenodo.org/records/6344334/files"
SPLIT_FILES = tuple(f"LR_split_{split}_{kind}.json" for split in SPLITS for kind in FILE_KINDS)
OFFICIAL_FILES = ("Images_LR.zip", *SPLIT_FILES)
WHERE = (
    "download Images_LR.zip and LR_split_{train,val,test}_{images,questions,answers}.json from "
    "https://zenodo.org/records/6344334, then rerun with --archive FILES (or a folder holding them)"
)
_TILE = re.compile(r"^\d+\.tif$")
_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


def fetch(base_url: str, folder: Path) -> list[Path]:
    """Download every official file from ``base_url`` into ``folder``; a clear error when offline."""
    fetched: list[Path] = []
    for name in OFFICIAL_FILES:
        url = f"{base_url.rstrip('/')}/{name}?download=1"
        target = folder / name
        print(f"downloading {url}")
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(target, "wb") as out:
                shutil.copyfileobj(response, out)
        except OSError as err:
            raise DataError(f"could not download {url} ({err}); {WHERE}") from err
        fetched.append(target)
    return fetched


def assemble(sources: Sequence[Path], out: Path) -> Path:
    """Gather split files and tiles from archives, JSON files and folders into ``out/rsvqa_lr``."""
    target = out / FOLDER_NAME
    (target / IMAGES_DIR).mkdir(parents=True, exist_ok=True)
    placed = {"copied": 0, "kept": 0}
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        for n, source in enumerate(sources):
            if source.is_dir():
                _take_folder(source, target, placed)
            elif source.is_file() and source.name.lower().endswith(_ARCHIVE_SUFFIXES):
                _take_folder(_unpack(source, Path(tmp) / str(n)), target, placed)
            elif source.is_file() and source.name in SPLIT_FILES:
                _place(source, target / source.name, placed)
            else:
                raise DataError(
                    f"{source}: not an archive, a folder or an official split file "
                    f"(LR_split_<split>_<kind>.json); {WHERE}"
                )
    print(f"{target}: {placed['copied']} files copied, {placed['kept']} identical ones already there")
    return target


def _unpack(archive: Path, folder: Path) -> Path:
    """Unpack into ``folder``; tiles of an ``Images_LR`` archive land in a folder of that name."""
    into = folder / IMAGES_DIR if archive.name.startswith(IMAGES_DIR) else folder
    try:
        shutil.unpack_archive(str(archive), into)
    except (shutil.ReadError, ValueError) as err:
        raise DataError(f"{archive}: cannot unpack ({err}); expected a .zip or .tar(.gz) archive") from err
    return folder


def _take_folder(folder: Path, target: Path, placed: dict[str, int]) -> None:
    """Split files anywhere below ``folder``, tiles from folders named Images_LR, nested archives."""
    found = 0
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        if path.name in SPLIT_FILES:
            _place(path, target / path.name, placed)
        elif _TILE.match(path.name) and path.parent.name == IMAGES_DIR:
            _place(path, target / IMAGES_DIR / path.name, placed)
        elif path.name.startswith(IMAGES_DIR) and path.name.lower().endswith(_ARCHIVE_SUFFIXES):
            with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
                _take_folder(_unpack(path, Path(tmp)), target, placed)
        else:
            continue
        found += 1
    if not found:
        raise DataError(f"{folder}: holds no RSVQA-LR split files or {IMAGES_DIR}/ tiles; {WHERE}")


def _place(source: Path, destination: Path, placed: dict[str, int]) -> None:
    """Copy, keep an identical copy, refuse to overwrite a different one."""
    if destination.exists():
        if not filecmp.cmp(source, destination, shallow=False):
            raise DataError(f"{destination}: already exists and differs from {source}; remove it first")
        placed["kept"] += 1
        return
    shutil.copyfile(source, destination)
    placed["copied"] += 1


def check(root: Path) -> None:
    """Read every complete split with the project's reader (every tile must exist) and summarise."""
    complete = 0
    for split in SPLITS:
        absent = [p.name for p in split_files(root, split).values() if not p.is_file()]
        if absent:
            print(f"{split}: not checked, missing {', '.join(absent)}")
            continue
        data = read_split(root, split)
        per_type = ", ".join(f"{t} {n}" for t, n in data.type_counts().items())
        print(f"{split}: {len(data.images)} images, {len(data.questions)} questions ({per_type})")
        complete += 1
    if not complete:
        raise DataError(f"{root}: no complete split (images, questions and answers files); {WHERE}")
    print(f"ok: {root} ({complete} of {len(SPLITS)} splits)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--archive",
        type=Path,
        nargs="+",
        help="Images_LR.zip, LR_split_*.json files, or folders holding them",
    )
    source.add_argument(
        "--url",
        nargs="?",
        const=ZENODO_URL,
        help=f"download the official files from this folder address first (default: {ZENODO_URL})",
    )
    source.add_argument("--check", type=Path, help="only verify an existing rsvqa_lr folder")
    parser.add_argument("--out", type=Path, default=Path("data"), help="folder to create rsvqa_lr/ in")
    args = parser.parse_args(argv)
    try:
        if args.check:
            check(args.check)
            return 0
        args.out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            sources = fetch(args.url, Path(tmp)) if args.url else args.archive
            root = assemble(sources, args.out)
        check(root)
    except DataError as err:
        print(f"get_rsvqa_lr: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
