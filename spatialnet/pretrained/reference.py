"""Reference predictions stored beside a bundled model: generated images anyone can regenerate.

A bundled model's folder holds ``reference_predictions.json``: what it predicted, when it was
bundled, for a few images drawn here from a seed (no dataset needed). Loading the model anywhere
and predicting the same images must give the same captions, classes and answers: the check that
the shipped files, their half precision and this machine's libraries still make the same model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spatialnet.predictor import Predictor

REFERENCE_FILE = "reference_predictions.json"
SEED = 2026
SIZE = 256
#: questions asked of every reference image, in each question set the model learned
QUESTIONS = {
    "rsivqa": ["What is the theme of this picture?", "Does this picture contain trees?"],
    "rsvqa_lr": ["Is it a rural or an urban area", "How many buildings are there?"],
}


def reference_images(count: int = 3, seed: int = SEED) -> list[np.ndarray]:
    """``count`` (256, 256, 3) uint8 images: smooth colour fields with stripes and blocks, from ``seed``."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / SIZE
    images = []
    for _ in range(count):
        base = rng.uniform(40, 200, size=3)
        slope = rng.uniform(-60, 60, size=(2, 3))
        field = base + rows[..., None] * slope[0] + cols[..., None] * slope[1]
        period = rng.uniform(0.05, 0.2)
        stripes = 25 * np.sign(np.sin(2 * np.pi * (rows + cols * rng.uniform(-1, 1)) / period))
        field = field + stripes[..., None] * rng.uniform(0.2, 1.0, size=3)
        for _ in range(int(rng.integers(2, 6))):
            top, left = rng.integers(0, SIZE - 48, size=2)
            height, width = rng.integers(16, 48, size=2)
            field[top : top + height, left : left + width] = rng.uniform(0, 255, size=3)
        images.append(np.clip(field, 0, 255).astype(np.uint8))
    return images


def reference_predictions(predictor: Predictor, top_k: int = 5) -> dict[str, Any]:
    """Every head's prediction for the reference images, and the answers to :data:`QUESTIONS`."""
    images = reference_images()
    plain = predictor.predict_arrays(images, top_k)
    answers: dict[str, dict[str, list[Any]]] = {}
    for question_set in predictor.question_sets():
        for question in QUESTIONS.get(question_set, []):
            found = predictor.predict_arrays(
                images, top_k, [question] * len(images), tasks=set(predictor.answering_heads()),
                question_set=question_set,
            )  # fmt: skip
            answers.setdefault(question_set, {})[question] = found
    return {"seed": SEED, "size": SIZE, "count": len(images), "predictions": plain, "answers": answers}
