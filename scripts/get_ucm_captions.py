"""Put UCM-captions where ``spatialnet`` reads it, and check it is complete.

UCM-captions (Qu et al., 2016) is distributed as an archive holding ``dataset.json``
(Karpathy format) and ``imgs/1.tif`` … ``imgs/2100.tif``; the RSICD_optimal project page
(https://github.com/201528014227051/RSICD_optimal) links the download. Nothing is fetched
at training time: run this once, online or with an archive you already have.

    python scripts/get_ucm_captions.py --archive ~/Downloads/UCM_captions.zip --out data
    python scripts/get_ucm_captions.py --url https://…/UCM_captions.zip --out data
    python scripts/get_ucm_captions.py --check data/ucm_captions     # verify an existing copy

The result is ``OUT/ucm_captions/{dataset.json, imgs/}``; train with
``--set data.root=OUT/ucm_captions``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import urllib.request
from collections import Counter
from pathlib import Path

from spatialnet.data.ucm.dataset import FOLDER_NAME, UCMCaptions
from spatialnet.errors import DataError
from spatialnet.processors import ImageProcessor

WHERE = (
    "download UCM_captions (dataset.json + imgs/) from the links on "
    "https://github.com/201528014227051/RSICD_optimal, then rerun with --archive FILE"
)


def fetch(url: str, folder: Path) -> Path:
    """Download ``url`` into ``folder``; a clear error when offline."""
    target = folder / (Path(url.split("?")[0]).name or "ucm_captions.zip")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(target, "wb") as out:
            shutil.copyfileobj(response, out)
    except OSError as err:
        raise DataError(f"could not download {url} ({err}); {WHERE}") from err
    return target


def unpack(archive: Path, out: Path) -> Path:
    """Unpack ``archive`` and move the folder holding ``dataset.json`` + ``imgs/`` to ``out/ucm_captions``."""
    if not archive.is_file():
        raise DataError(f"{archive}: archive not found; {WHERE}")
    target = out / FOLDER_NAME
    if target.exists():
        raise DataError(f"{target}: already exists; remove it or check it with --check {target}")
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        try:
            shutil.unpack_archive(str(archive), tmp)
        except (shutil.ReadError, ValueError) as err:
            raise DataError(
                f"{archive}: cannot unpack ({err}); expected a .zip or .tar(.gz) archive"
            ) from err
        found = [p.parent for p in Path(tmp).rglob("dataset.json") if (p.parent / "imgs").is_dir()]
        if not found:
            raise DataError(f"{archive}: holds no folder with dataset.json and imgs/; {WHERE}")
        shutil.move(str(found[0]), target)
    return target


def check(root: Path) -> None:
    """Read every split with the project's reader (decoding each image) and print what is there."""
    splits: Counter[str] = Counter()
    for split in ("train", "val", "test"):
        try:
            data = UCMCaptions(root, split, ImageProcessor(8), progress=False, with_captions=True)
        except DataError as err:
            if "no images in split" in str(err):
                continue
            raise
        splits[split] = len(data)
        captions = Counter(len(data.captions(i)) for i in range(len(data)))
        per_image = dict(captions)
        print(f"{split}: {len(data)} images, captions per image {per_image}, labels: {data.label_source}")
    if not splits:
        raise DataError(f"{root}: no train/val/test images found")
    print(f"ok: {root} ({sum(splits.values())} images)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--archive", type=Path, help="a UCM_captions .zip/.tar archive you have")
    source.add_argument("--url", help="download the archive from this address first")
    source.add_argument("--check", type=Path, help="only verify an existing ucm_captions folder")
    parser.add_argument("--out", type=Path, default=Path("data"), help="folder to create ucm_captions/ in")
    args = parser.parse_args()
    try:
        if args.check:
            check(args.check)
            return 0
        args.out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            archive = fetch(args.url, Path(tmp)) if args.url else args.archive
            root = unpack(archive, args.out)
        check(root)
    except DataError as err:
        print(f"get_ucm_captions: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
