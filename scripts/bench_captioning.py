"""Caption generation speed (beam 3, batch 1 and 16; tiny and paper recipes) and evaluator wall time.

Generation runs with a fixed length (``--words`` new tokens; min = max) so untrained weights
cost the same as trained ones; a UCM caption is ~11.5 words + [EOS]. The evaluator is timed on
210 images × 5 references (the size of UCM's val/test split): the first call pays for the
METEOR JVM start ("cold"), later calls reuse it ("warm"); both run the PTB tokenizer.

    python scripts/bench_captioning.py --out runs/bench/captioning.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from bench_common import machine, median, trial_seconds

from spatialnet.config import load_recipe
from spatialnet.heads.caption import CaptionHead
from spatialnet.heads.fitting import Sentences, fit_heads
from spatialnet.metrics.captions import score_captions
from spatialnet.model import SpatialNet

WORDS = "a an the there is are many some two three green grey white red buildings trees cars road roads river"
WORDS += " parked parking lot beside near with and in on of houses residential area forest farmland field"


def sentences(rng: np.random.Generator, count: int) -> list[str]:
    """Random caption-like sentences of 8–14 words from a UCM-like vocabulary."""
    vocab = WORDS.split()
    return [" ".join(rng.choice(vocab, size=int(rng.integers(8, 15)))) for _ in range(count)]


def generation_speed(
    recipe_name: str, batch_sizes: list[int], beams: int, words: int, trials: int
) -> dict[str, Any]:
    """Captions per second of ``generate`` at each batch size (median of ``trials``)."""
    torch.manual_seed(0)
    recipe = load_recipe(recipe_name)
    rng = np.random.default_rng(0)
    model = SpatialNet.from_recipe(
        recipe, fits=fit_heads(recipe, {"captions": Sentences(sentences(rng, 500))})
    ).eval()
    head = model.head("captions")
    assert isinstance(head, CaptionHead)
    size = recipe.backbone.img_size or recipe.data.image_size
    results: dict[str, Any] = {}
    for batch_size in batch_sizes:
        images = torch.randn(batch_size, 3, size, size)

        @torch.no_grad()
        def step(images: torch.Tensor = images) -> None:
            features = model.backbone(images)
            head.generate_ids(features, num_beams=beams, min_new_tokens=words, max_new_tokens=words)

        seconds = trial_seconds(step, trials)
        middle = median(seconds)
        results[f"batch_{batch_size}"] = {
            "captions_per_s": batch_size / middle,
            "seconds_per_batch": middle,
            "trial_seconds": seconds,
        }
    params = sum(p.numel() for p in model.parameters())
    return {"recipe": recipe_name, "img_size": size, "parameters": params, "results": results}


def evaluator_time(images: int, references: int) -> dict[str, float]:
    """Wall seconds of score_captions on a whole split: first call (cold) and second (warm)."""
    rng = np.random.default_rng(1)
    refs = {i: sentences(rng, references) for i in range(images)}
    preds = {i: sentences(rng, 1)[0] for i in range(images)}
    timings = {}
    for label in ("cold", "warm"):
        start = time.perf_counter()
        score_captions(refs, preds, source="benchmark")
        timings[f"{label}_seconds"] = time.perf_counter() - start
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=["ucm_captions-tiny", "ucm_captions"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 16])
    parser.add_argument("--beams", type=int, default=3)
    parser.add_argument("--words", type=int, default=12, help="new tokens per caption")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("runs/bench/captioning.json"))
    args = parser.parse_args()

    report = {
        "benchmark": "captioning",
        **machine(),
        "beams": args.beams,
        "new_tokens": args.words,
        "generation": [
            generation_speed(r, args.batch_sizes, args.beams, args.words, args.trials) for r in args.recipes
        ],
        "evaluator_210x5": evaluator_time(210, 5),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    parts = [
        f"{g['recipe']} "
        + ", ".join(f"b{k.split('_')[1]} {v['captions_per_s']:.1f}/s" for k, v in g["results"].items())
        for g in report["generation"]
    ]
    ev = report["evaluator_210x5"]
    print(
        f"bench_captioning beam {args.beams}: {'; '.join(parts)}; evaluator 210×5 "
        f"cold {ev['cold_seconds']:.1f}s warm {ev['warm_seconds']:.1f}s -> {args.out}"
    )


if __name__ == "__main__":
    main()
