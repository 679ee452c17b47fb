"""TAIGA forest models on the CPU: parameters, FLOPs per window, training and inference windows/s.

Each recipe (seed-000 CNN, Pham 3D-CNN, ViT, their CPU-sized variants, a U-Net) is built with the real
TAIGA class counts (fertility 4, soil 2, species 3) and uniform class frequencies, and fed random
seeded windows (B, bands, P, P) with random targets: labels and [0, 1] values of shape (B,), or
(B, P, P) where the recipe trains on dense targets. A training step is zero_grad, the backward of
the summed head losses and an Adam (lr 1e-3) step, in fp32; inference is ``model.predict`` in
eval mode under ``torch.no_grad``, then again in the inference form that ``predict``, ``map`` and
the app run (BatchNorm folded, channels-last, ``torch.inference_mode``); both rates are given as
a fraction of the fp32 matmul peak measured in the same process. ``flops_per_window`` is the
forward (``predict``) of one window counted by ``torch.utils.flop_counter.FlopCounterMode``,
which counts matmul/conv FLOPs as 2·MAC (and ignores cheap elementwise ops, norms and activations).

    python scripts/bench_taiga.py --out runs/bench/taiga.json
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch
from bench_common import machine, matmul_peak_gflops, median, trial_seconds, write_report
from torch import Tensor
from torch.utils.flop_counter import FlopCounterMode

from spatialnet.config import Recipe, load_recipe
from spatialnet.inference_form import inference_form
from spatialnet.model import SpatialNet

RECIPES = ["taiga", "taiga-pham", "taiga-vit", "taiga-tiny", "taiga-vit-tiny", "taiga-unet-tiny"]
CLASSES = {"fertility": 4, "soil": 2, "species": 3}  # the TAIGA class counts (normally from the data)


def build(recipe_name: str) -> tuple[Recipe, SpatialNet]:
    """The recipe and its model, with TAIGA class counts and uniform class frequencies filled in."""
    recipe = load_recipe(recipe_name)
    for name, spec in recipe.heads.items():
        if spec["type"] == "pixel_classification":
            spec.setdefault("num_classes", CLASSES.get(name, 4))
            spec.setdefault("class_frequencies", [1.0] * spec["num_classes"])
    return recipe, SpatialNet.from_recipe(recipe)


def random_batch(recipe: Recipe, batch_size: int) -> dict[str, Tensor]:
    """Random windows in [0, 1) and random targets for every head, (B,) or dense (B, P, P)."""
    size = recipe.data.image_size
    shape = (batch_size, size, size) if recipe.data.dense_targets else (batch_size,)
    batch = {"image": torch.rand(batch_size, recipe.backbone.in_chans, size, size)}
    for name, spec in recipe.heads.items():
        if spec["type"] == "pixel_classification":
            batch[name] = torch.randint(0, spec["num_classes"], shape)
        else:
            batch[name] = torch.rand(shape)
    return batch


def forward_flops(model: SpatialNet, recipe: Recipe) -> int:
    """FLOPs (2·MAC for matmul/conv, as torch counts them) of ``predict`` on one window."""
    window = random_batch(recipe, 1)["image"]
    model.eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model.predict({"image": window})
    return int(counter.get_total_flops())


def measure(recipe_name: str, train_batch: int, infer_batch: int, trials: int) -> dict[str, Any]:
    """Size, FLOPs per window and median training/inference throughput of one recipe's model."""
    torch.manual_seed(0)
    recipe, model = build(recipe_name)
    flops = forward_flops(model, recipe)

    batch = random_batch(recipe, train_batch)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        sum(model(batch).losses.values()).backward()
        optimizer.step()

    train_seconds = trial_seconds(train_step, trials)

    windows = random_batch(recipe, infer_batch)["image"]
    model.eval()

    @torch.no_grad()
    def infer_step() -> None:
        model.predict({"image": windows})

    infer_seconds = trial_seconds(infer_step, trials)
    peak = matmul_peak_gflops()
    inference_form(model)  # as predict, map and the app run it
    fast_windows = windows.contiguous(memory_format=torch.channels_last) if windows.ndim == 4 else windows

    @torch.inference_mode()
    def fast_step() -> None:
        model.predict({"image": fast_windows})

    fast_seconds = trial_seconds(fast_step, trials)
    infer_rate, fast_rate = infer_batch / median(infer_seconds), infer_batch / median(fast_seconds)
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "window": recipe.data.image_size,
        "bands": recipe.backbone.in_chans,
        "dense_targets": recipe.data.dense_targets,
        "flops_per_window": flops,
        "train_samples_per_s": train_batch / median(train_seconds),
        "train_trial_seconds": train_seconds,
        "inference_windows_per_s": infer_rate,
        "inference_trial_seconds": infer_seconds,
        "inference_form_windows_per_s": fast_rate,
        "matmul_peak_gflops": peak,
        "inference_fraction_of_matmul_peak": infer_rate * flops / (peak * 1e9),
        "inference_form_fraction_of_matmul_peak": fast_rate * flops / (peak * 1e9),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=RECIPES)
    parser.add_argument("--train-batch", type=int, default=16, help="windows per training step")
    parser.add_argument("--infer-batch", type=int, default=64, help="windows per predict call")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("runs/bench/taiga.json"))
    args = parser.parse_args()

    report = {
        "benchmark": "taiga",
        "machine": machine(),
        "trials": args.trials,
        "train_batch": args.train_batch,
        "infer_batch": args.infer_batch,
        "models": {r: measure(r, args.train_batch, args.infer_batch, args.trials) for r in args.recipes},
    }
    write_report(report, args.out)


if __name__ == "__main__":
    main()
