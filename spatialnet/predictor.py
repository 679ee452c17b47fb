"""Inference on single images with a trained run: what ``predict`` and the app share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spatialnet.config import Recipe
from spatialnet.data.images import load_image
from spatialnet.data.transforms import normalize
from spatialnet.heads.classification import ClassificationConfig
from spatialnet.model import SpatialNet
from spatialnet.training.trainer import load_run


@dataclass
class Predictor:
    """A loaded model with the recipe that says how to prepare its inputs."""

    model: SpatialNet
    recipe: Recipe

    @classmethod
    def from_run(cls, run_dir: Path, device: str = "auto") -> Predictor:
        """Load a run folder (its best checkpoint) or a checkpoint folder."""
        model, recipe, _, _ = load_run(run_dir, device)
        return cls(model, recipe)

    @property
    def device(self) -> torch.device:  # noqa: D102
        return next(self.model.parameters()).device

    def load(self, image_path: Path) -> np.ndarray:
        """Read an image file at the model's input size and band count."""
        backbone = self.model.backbone.config
        return load_image(Path(image_path), backbone.img_size, channels=backbone.in_chans)

    @torch.no_grad()
    def predict_array(self, array: np.ndarray, top_k: int = 5) -> dict[str, Any]:
        """Predictions of every head for one (H, W, C) uint8 image already at the model's size."""
        image = normalize(
            torch.from_numpy(array).permute(2, 0, 1), self.recipe.data.mean, self.recipe.data.std
        )
        outputs = self.model.predict({"image": image.unsqueeze(0).to(self.device)})
        result: dict[str, Any] = {}
        for name, output in outputs.items():
            config = self.model.head(name).config
            if isinstance(config, ClassificationConfig):
                probs = output[0].cpu()
                names = config.class_names or [str(i) for i in range(config.num_classes)]
                values, indices = probs.topk(min(top_k, len(names)))
                result[name] = [
                    {"label": names[i], "probability": float(v)} for v, i in zip(values, indices, strict=True)
                ]
            elif isinstance(output, list):  # generated text, one per image
                result[name] = output[0]
            elif isinstance(output, torch.Tensor) and output.ndim <= 2:
                result[name] = output[0].cpu().tolist() if output.ndim == 2 else float(output[0])
            else:
                result[name] = {"shape": list(output.shape[1:])}
        return result

    def predict_file(self, image_path: Path, top_k: int = 5) -> dict[str, Any]:
        """Predictions of every head for one image file (any size; resized)."""
        return self.predict_array(self.load(image_path), top_k)
