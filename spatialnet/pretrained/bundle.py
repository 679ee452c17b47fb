"""Writing a bundled model: a run's checkpoint with half-precision kernels and reference predictions."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

from safetensors.torch import save_model

from spatialnet import checkpoint as ckpt
from spatialnet.files import write_json
from spatialnet.model import SpatialNet, load_run
from spatialnet.predictor import Predictor
from spatialnet.pretrained.reference import REFERENCE_FILE, reference_predictions

SKIPPED = {ckpt.WEIGHTS_FILE, "training_state.pt"}


def write_bundle(run: Path, out: Path, card: Path | None, keep_float: str = "") -> Path:
    """A run's checkpoint into ``out``: half-precision kernels, the half model's reference predictions.

    Written whole in a sibling folder, then renamed; returns the float checkpoint it came from.
    """
    folder = ckpt.resolve_checkpoint(run)
    model, _, _, _ = load_run(folder, "cpu")
    with ckpt.atomic_directory(out) as tmp:
        for item in folder.iterdir():
            if item.name in SKIPPED:
                continue
            if item.is_dir():
                shutil.copytree(item, tmp / item.name)
            else:
                shutil.copy2(item, tmp / item.name)
        metadata = {"format": "pt", "dtype": "float16", "float32": keep_float or "vectors only"}
        save_model(halved(model, keep_float), str(tmp / ckpt.WEIGHTS_FILE), metadata=metadata)
        if card is not None:
            shutil.copy2(card, tmp / "README.md")
        write_json(tmp / REFERENCE_FILE, reference_predictions(Predictor.from_run(tmp, "cpu")))
    return folder


def halved(model: SpatialNet, keep_float: str = "") -> SpatialNet:
    """A copy whose weight matrices and kernels are float16, except those whose name contains ``keep_float``.

    Vectors (norms, biases, BatchNorm statistics: 1 % of the bytes) stay float32. In the hybrid
    ViT's EfficientNet, half-precision kernels move answer probabilities by up to 5e-3 (BatchNorm's
    small variances amplify the rounding; measured on RSIVQA val), the ViT and heads by < 2e-4.
    """
    half = copy.deepcopy(model)
    for name, tensor in [*half.named_parameters(), *half.named_buffers()]:
        if tensor.is_floating_point() and tensor.dim() > 1 and not (keep_float and keep_float in name):
            tensor.data = tensor.data.half()
    return half
