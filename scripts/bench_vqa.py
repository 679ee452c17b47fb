"""VQA answering speed on the CPU: answers/s at batch 1 and 64, tiny and paper recipes.

A batch here is ``batch`` questions, each about its own image (the worst case: one backbone pass
per question). The RSVQA data loader groups an image's questions so that training and evaluation
share one backbone pass among them; ``--questions-per-image`` measures that case too.

    python scripts/bench_vqa.py --out runs/bench/vqa.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from bench_common import machine, median, trial_seconds

from spatialnet.config import load_recipe
from spatialnet.heads.fitting import Sentences, fit_heads
from spatialnet.model import SpatialNet

WORDS = "is there a are more less than how many what number of the roads buildings water area forest"
WORDS += " grass farmland small large circular square rectangular at left right top bottom next to"


def questions(rng: np.random.Generator, count: int) -> list[str]:
    """Random RSVQA-like questions of 5–14 words."""
    vocab = WORDS.split()
    return [" ".join(rng.choice(vocab, size=int(rng.integers(5, 15)))) + "?" for _ in range(count)]


def answering_speed(recipe_name: str, batch_sizes: list[int], per_image: int, trials: int) -> dict[str, Any]:
    """Answers per second of the whole model (backbone + question encoder + fusion + classifier)."""
    torch.manual_seed(0)
    recipe = load_recipe(recipe_name)
    rng = np.random.default_rng(0)
    model = SpatialNet.from_recipe(
        recipe, fits=fit_heads(recipe, {"vqa": Sentences(questions(rng, 500))})
    ).eval()
    size = recipe.backbone.img_size or recipe.data.image_size
    results: dict[str, Any] = {}
    for batch_size in batch_sizes:
        images = max(1, batch_size // per_image)
        batch = {
            "image": torch.randn(images, 3, size, size),
            "question": [questions(rng, batch_size // images) for _ in range(images)],
        }

        @torch.no_grad()
        def step(batch: dict[str, Any] = batch) -> None:
            model.predict(batch, ["vqa"])

        seconds = trial_seconds(step, trials)
        middle = median(seconds)
        answered = images * (batch_size // images)
        results[f"batch_{batch_size}"] = {
            "answers_per_s": answered / middle,
            "images": images,
            "seconds_per_batch": middle,
            "trial_seconds": seconds,
        }
    params = sum(p.numel() for p in model.parameters())
    return {
        "recipe": recipe_name,
        "img_size": size,
        "questions_per_image": per_image,
        "parameters": params,
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=["rsvqa_lr-tiny", "rsvqa_lr"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 64])
    parser.add_argument("--questions-per-image", nargs="+", type=int, default=[1, 16])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("runs/bench/vqa.json"))
    args = parser.parse_args()

    report = {
        "benchmark": "vqa",
        **machine(),
        "answering": [
            answering_speed(r, args.batch_sizes, q, args.trials)
            for r in args.recipes
            for q in args.questions_per_image
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    parts = [
        f"{g['recipe']} ({g['questions_per_image']} q/image) "
        + ", ".join(f"b{k.split('_')[1]} {v['answers_per_s']:.1f}/s" for k, v in g["results"].items())
        for g in report["answering"]
    ]
    print(f"bench_vqa: {'; '.join(parts)} -> {args.out}")


if __name__ == "__main__":
    main()
