"""Ship a trained run inside the package: half-precision weights, reference predictions, agreement.

    python scripts/bundle_model.py runs/joint-real --name spatialnet-vit-real-cpu \
        --agreement val --card eval/cards/spatialnet-vit-real-cpu.md

writes ``spatialnet/pretrained/NAME/``: the checkpoint's files with ``model.safetensors`` in half
precision, ``reference_predictions.json`` (what the half model predicts for generated images,
which the tests reproduce) and, with ``--agreement SPLIT``, ``agreement.json``: the float run and
the half-precision bundle scored on that split of the recipe's own data, head by head (captions
identical or not, the largest difference of any class or answer probability). ``--card`` copies a
model card in as ``README.md``. Prints the folder's size.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch

from spatialnet import checkpoint as ckpt
from spatialnet.data.registry import build_dataset
from spatialnet.files import write_json
from spatialnet.model import SpatialNet, load_run
from spatialnet.pretrained import BUNDLED_DIR, BundledModel
from spatialnet.pretrained.bundle import write_bundle
from spatialnet.training.evaluation import collect_predictions


def agreement(
    float_model: SpatialNet, half_model: SpatialNet, recipe: Any, folder: Path, split: str
) -> dict[str, Any]:
    """Each head of each dataset, float vs half on ``split``: identical captions, largest probability gap."""
    fitted = ckpt.read_fitted(folder, recipe)
    report: dict[str, Any] = {"split": split, "heads": {}}
    for name, entry in recipe.sources().items():
        dataset = build_dataset(entry.data, split, train=False, fitted=fitted[name])
        found = [
            collect_predictions(m, dataset, 32, torch.device("cpu"), False, entry.tasks, entry.modality)[0]
            for m in (float_model, half_model)
        ]
        for head in found[0]:
            first, second = found[0][head], found[1][head]
            key = f"{head}@{name}"
            if isinstance(first, torch.Tensor):
                report["heads"][key] = {
                    "items": len(first),
                    "max_abs_probability_difference": float((first - second).abs().max()),
                    "same_top1": float((first.argmax(1) == second.argmax(1)).float().mean()),
                }
            else:
                same = sum(a == b for a, b in zip(first, second, strict=True))
                report["heads"][key] = {"items": len(first), "identical_captions": same}
        print(name, json.dumps({k: v for k, v in report["heads"].items() if k.endswith(name)}), flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    """Bundle, then measure the half-precision copy against the float run."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("run", type=Path, help="the run (its best/) or checkpoint to ship")
    parser.add_argument("--name", required=True, help="the bundled model's name")
    parser.add_argument("--card", type=Path, help="the model card (Markdown with YAML metadata) to ship")
    parser.add_argument(
        "--keep-float", default="", metavar="PART",
        help="keep the kernels whose names contain PART in float32 (e.g. embed.backbone: the CNN)",
    )  # fmt: skip
    parser.add_argument("--agreement", metavar="SPLIT", help="measure float vs half on this split (e.g. val)")
    args = parser.parse_args(argv)
    torch.set_grad_enabled(False)
    out = BUNDLED_DIR / args.name
    folder = write_bundle(args.run, out, args.card, args.keep_float)
    print(f"{out}: {BundledModel(args.name, out).size_mb:.1f} MB")
    if args.agreement is not None:
        float_model, recipe, _, _ = load_run(folder, "cpu")
        half_model = load_run(out, "cpu")[0]
        report = agreement(float_model, half_model, recipe, folder, args.agreement)
        write_json(out / "agreement.json", report)
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
