"""Reading a weights file a person names: tensors only, never arbitrary pickled objects."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from spatialnet.errors import CheckpointError


def read_weights_file(path: Path, field: str) -> dict[str, Tensor]:
    """The tensors of a ``.safetensors`` file or a tensors-only ``.pth/.pt/.bin`` checkpoint.

    A checkpoint that wraps its state dict under ``state_dict`` or ``model`` is unwrapped.
    ``field`` is the recipe field that named the file, for the error messages.
    """
    if not path.is_file():
        raise CheckpointError(f"{path}: {field} weights file not found")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # unpickling errors of every kind: not a tensors-only checkpoint
        raise CheckpointError(f"{path}: not a readable tensors-only weights file ({err})") from err
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: expected a dict of tensors (a state dict) for {field}")
    return dict(state)
