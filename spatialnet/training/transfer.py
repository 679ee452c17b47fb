"""``train.init_from``: start from every weight of another run, even one that learned other answers.

A second stage on the same data (self-critical captioning) finds every tensor as saved. A stage on
another dataset (a VQA head pretrained on the synthetic world, then fine-tuned on real tiles, or
on RSIVQA's answers) builds heads whose answer lists and vocabularies were fitted on the new data:
each head maps what the two runs share (:meth:`TaskHead.transferred`) and says what it added.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from spatialnet import checkpoint as ckpt
from spatialnet.errors import CheckpointError
from spatialnet.model import SpatialNet


def transfer_weights(model: SpatialNet, checkpoint: Path) -> list[str]:
    """Load ``checkpoint``'s weights into ``model``, head by head; returns each head's note on what changed.

    Every tensor of the model must come from the checkpoint (after the heads' mapping) with its
    shape, and every saved tensor must have a place: anything else is a CheckpointError naming them.
    """
    path = checkpoint / ckpt.WEIGHTS_FILE
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"{path}: damaged or not a safetensors file ({err})") from err
    saved_heads = ckpt.read_recipe(checkpoint).heads
    notes = []
    for name, head in model.task_heads().items():
        prefix = f"heads.{name}."
        part = {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}
        if not part:
            continue
        adapted, note = head.transferred(part, dict(saved_heads.get(name, {})), checkpoint / name)
        state = {k: v for k, v in state.items() if not k.startswith(prefix)}
        state.update({prefix + k: v for k, v in adapted.items()})
        if note:
            notes.append(f"{name} head: {note}")
    own = model.state_dict()
    state = _with_tied(state, own)
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    reshaped = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or reshaped:
        raise CheckpointError(
            f"{path}: does not fit this recipe's model (missing: {missing[:5]}, unexpected: "
            f"{unexpected[:5]}, other shapes: {reshaped[:5]}); train.init_from needs a run of the same model"
        )
    model.load_state_dict(state)
    return notes


def _with_tied(state: dict[str, torch.Tensor], own: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Fill the tensors the file stores once (a decoder's embedding tied to its output layer)."""
    groups: dict[int, list[str]] = {}
    for key, tensor in own.items():
        if tensor.numel():
            groups.setdefault(tensor.data_ptr(), []).append(key)
    filled = dict(state)
    for keys in groups.values():
        saved = [k for k in keys if k in state]
        for key in keys:
            if key not in filled and saved:
                filled[key] = state[saved[0]]
    return filled
