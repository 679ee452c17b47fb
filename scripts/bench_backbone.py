"""Throughput of SpatialNet (backbone + classification head) against a bare timm ViT of the same config.

Both models are built from the same resolved backbone config and measured in one run,
interleaved trial by trial so machine noise hits both alike; the ratio of medians is the
overhead of SpatialNet's wrapping (goal: >= 0.95).

    python scripts/bench_backbone.py --recipe ucm_landuse-tiny --out runs/bench/backbone.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from timm.models.vision_transformer import VisionTransformer

from spatialnet.backbones.vit import build_vit, resolve_backbone_config
from spatialnet.config import load_recipe
from spatialnet.model import SpatialNet


def timed(step: Callable[[], None], iters: int) -> float:
    """Images per second of ``iters`` calls of ``step`` (after synchronising CUDA)."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        step()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--recipe", default="ucm_landuse-tiny", help="recipe whose backbone and head are measured"
    )
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], help="recipe override KEY=VALUE"
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--iters", type=int, default=5, help="steps per trial")
    parser.add_argument("--trials", type=int, default=7, help="interleaved trials per model and mode")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per model and mode")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, default=Path("runs/bench/backbone.json"))
    args = parser.parse_args()

    torch.manual_seed(0)
    recipe = load_recipe(args.recipe, args.overrides)
    recipe.backbone = resolve_backbone_config(recipe.backbone)
    device = torch.device(args.device)
    ours = SpatialNet.from_recipe(recipe).to(device)
    head_name, head = next(iter(ours.heads.items()))
    num_classes = head.config.num_classes
    bare: VisionTransformer = build_vit(recipe.backbone).to(device)
    bare.reset_classifier(num_classes)
    bare.to(device)
    cfg = recipe.backbone
    images = torch.randn(args.batch_size, cfg.in_chans, cfg.img_size, cfg.img_size, device=device)
    labels = torch.randint(0, num_classes, (args.batch_size,), device=device)
    batch = {"image": images, head_name: labels}
    opt_ours = torch.optim.AdamW(ours.parameters(), lr=1e-4)
    opt_bare = torch.optim.AdamW(bare.parameters(), lr=1e-4)

    @torch.no_grad()
    def forward_ours() -> None:
        ours.predict(batch)

    @torch.no_grad()
    def forward_bare() -> None:
        torch.softmax(bare(images), dim=-1)

    def train_ours() -> None:
        opt_ours.zero_grad(set_to_none=True)
        ours(batch).losses[head_name].backward()
        opt_ours.step()

    def train_bare() -> None:
        opt_bare.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(bare(images), labels).backward()
        opt_bare.step()

    results: dict[str, dict[str, float]] = {}
    for mode, pair in {
        "forward": (forward_ours, forward_bare),
        "train_step": (train_ours, train_bare),
    }.items():
        ours.train(mode == "train_step")
        bare.train(mode == "train_step")
        for step in pair:  # warm-up: the first steps pay for allocation and optimiser-state creation
            for _ in range(args.warmup):
                step()
        seconds: dict[str, list[float]] = {"spatialnet": [], "timm": []}
        for _ in range(args.trials):
            seconds["spatialnet"].append(timed(pair[0], args.iters))
            seconds["timm"].append(timed(pair[1], args.iters))
        rate = {k: args.batch_size * args.iters / statistics.median(v) for k, v in seconds.items()}
        results[mode] = {
            "spatialnet_img_per_s": rate["spatialnet"],
            "timm_img_per_s": rate["timm"],
            "ratio": rate["spatialnet"] / rate["timm"],
            "trial_seconds": seconds,
        }

    report = {
        "benchmark": "backbone",
        "recipe": recipe.name,
        "backbone": {
            k: getattr(cfg, k) for k in ("img_size", "patch_size", "embed_dim", "depth", "num_heads", "stem")
        },
        "batch_size": args.batch_size,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        "results": results,
        "goal": "ratio >= 0.95",
        "passed": all(r["ratio"] >= 0.95 for r in results.values()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    train = results["train_step"]
    print(
        f"bench_backbone {recipe.name}: forward ratio {results['forward']['ratio']:.3f}, "
        f"train-step ratio {train['ratio']:.3f} "
        f"({train['spatialnet_img_per_s']:.1f} vs {train['timm_img_per_s']:.1f} img/s train) -> {args.out}"
    )


if __name__ == "__main__":
    main()
