"""Checkpoint directories in the Hugging Face style, written atomically.

A checkpoint is a folder: ``config.json`` (the full resolved recipe), ``model.safetensors``,
``metrics.json``, ``processors.json`` (each dataset's input processor, fitted on its training
split), ``data_state.json`` for datasets that fit more than that (TAIGA's class maps), one
sub-folder per head that has files of its own (a caption head's ``tokenizer.json``) and, for the
resumable ``last`` checkpoint, ``training_state.pt`` (optimiser, schedule, balancer and RNG state:
tensors and plain Python values only, read back with ``torch.load(weights_only=True)``, which
refuses arbitrary pickled objects).

A run directory holds ``best/`` and ``last/``. Each is written into a temporary sibling,
fsynced, then swapped in with two renames; a kill at any moment leaves either the old or
the new folder complete, and :func:`recover` puts a half-swapped pair back in order.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_model, save_model

from spatialnet.config import Recipe, differing_from_defaults, recipe_from_dict, to_dict
from spatialnet.data.base import Fitted
from spatialnet.errors import CheckpointError
from spatialnet.files import json_bytes
from spatialnet.pretrained import locate
from spatialnet.processors import (
    HyperspectralProcessor,
    ImageProcessor,
    processor_from_dict,
    processor_to_dict,
)

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
METRICS_FILE = "metrics.json"
STATE_FILE = "training_state.pt"
DATA_STATE_FILE = "data_state.json"  # target-side state fitted on the training split (TAIGA)
PROCESSORS_FILE = "processors.json"  # each dataset's input processor, by dataset name


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_dir():
            _fsync_tree(path)
            continue
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _old(target: Path) -> Path:
    return target.parent / f".{target.name}.old"


def recover(target: Path) -> None:
    """Finish or undo an interrupted swap of ``target`` and drop stale temporary folders."""
    old = _old(target)
    if not target.exists() and old.exists():
        os.replace(old, target)
    elif old.exists():
        shutil.rmtree(old)
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


@contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``target`` atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        _fsync_tree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = _old(target)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def read_data_states(checkpoint: Path, recipe: Recipe) -> dict[str, dict[str, Any]]:
    """Preprocessing fitted on each dataset's training split, by dataset name (empty when none).

    Checkpoints store ``{dataset: state}``; early single-dataset checkpoints stored the state alone.
    """
    path = checkpoint / DATA_STATE_FILE
    if not path.is_file():
        return {}
    states = _read_json(path)
    names = set(recipe.sources())
    if set(states) <= names:
        return states
    if len(names) == 1:
        return {next(iter(names)): states}
    raise CheckpointError(f"{path}: expected fitted states under the dataset names {sorted(names)}")


def read_fitted(checkpoint: Path, recipe: Recipe) -> dict[str, Fitted]:
    """What each dataset's training split fitted (input processor and state), by dataset name.

    Checkpoints from before ``processors.json`` get the image processor their recipe describes,
    and the hyperspectral one from the flat TAIGA state that then held its fields.
    """
    states = read_data_states(checkpoint, recipe)
    path = checkpoint / PROCESSORS_FILE
    stored = _read_json(path) if path.is_file() else {}
    fitted = {}
    for name, source in recipe.sources().items():
        state = states.get(name)
        if name in stored:
            processor = processor_from_dict(stored[name], f"{path} ({name})")
        elif path.is_file():
            raise CheckpointError(f"{path}: no processor for the dataset {name!r}")
        elif state is not None and "bands" in state:
            processor = HyperspectralProcessor.from_dict(state)
        else:
            processor = ImageProcessor.from_config(source.data)
        fitted[name] = Fitted(processor, state)
    return fitted


def fitted_files(fitted: dict[str, Fitted]) -> dict[str, bytes]:
    """The checkpoint files holding ``fitted`` (processors, and states where a dataset has one)."""
    files = {PROCESSORS_FILE: json_bytes({n: processor_to_dict(f.processor) for n, f in fitted.items()})}
    states = {name: f.state for name, f in fitted.items() if f.state is not None}
    if states:
        files[DATA_STATE_FILE] = json_bytes(states)
    return files


def save_checkpoint(
    target: Path,
    recipe: Recipe,
    model: torch.nn.Module,
    metrics: dict[str, Any],
    training_state: dict[str, Any] | None = None,
    extra_files: dict[str, bytes] | None = None,
) -> None:
    """Write a complete checkpoint folder at ``target`` (atomically replacing any previous one)."""
    with atomic_directory(target) as tmp:
        (tmp / CONFIG_FILE).write_text(json.dumps(to_dict(recipe), indent=2) + "\n", encoding="utf-8")
        # save_model stores tied weights (a decoder's embedding = output layer) once
        save_model(model, str(tmp / WEIGHTS_FILE), metadata={"format": "pt", "recipe": recipe.name})
        (tmp / METRICS_FILE).write_bytes(json_bytes(metrics))
        if training_state is not None:
            torch.save(training_state, tmp / STATE_FILE)
        save_files = getattr(model, "save_files", None)
        if save_files is not None:  # heads' own files, e.g. tokenizers in <head name>/
            save_files(tmp)
        for name, content in (extra_files or {}).items():
            (tmp / name).write_bytes(content)


def resolve_checkpoint(path: Path | str) -> Path:
    """A checkpoint folder from a run folder (its ``best/``, else ``last/``) or the folder itself.

    ``path`` may also be a bundled model's name or a Hugging Face hub id (:func:`pretrained.locate`).
    """
    path = locate(path)
    for candidate in (path, path / "best", path / "last"):
        # Read-only: during a swap the complete previous folder sits at ``.NAME.old``.
        for folder in (candidate, _old(candidate)):
            if (folder / WEIGHTS_FILE).is_file():
                return folder
    raise CheckpointError(
        f"{path}: no checkpoint here "
        f"(expected {WEIGHTS_FILE} and {CONFIG_FILE} in it, or in its best/ or last/)"
    )


def read_recipe(checkpoint: Path) -> Recipe:
    """The recipe stored in a checkpoint's ``config.json``."""
    config_path = checkpoint / CONFIG_FILE
    if not config_path.is_file():
        raise CheckpointError(f"{config_path}: missing (every checkpoint stores its recipe there)")
    data = _read_json(config_path)
    return recipe_from_dict(with_legacy_preset(data), str(config_path))


def with_legacy_preset(data: dict[str, Any]) -> dict[str, Any]:
    """A ``config.json`` written before presets were resolved at load, read as it was built then.

    Such files kept ``preset`` and every backbone field, preset or not; the preset filled the
    fields that were equal to their defaults, so only the others count as set.
    """
    backbone = data.get("backbone")
    if not isinstance(backbone, dict) or not backbone.get("preset"):
        return data
    return {**data, "backbone": differing_from_defaults(backbone)}


def read_metrics(checkpoint: Path) -> dict[str, Any]:
    """The checkpoint's ``metrics.json`` (empty when absent)."""
    path = checkpoint / METRICS_FILE
    return _read_json(path) if path.is_file() else {}


def _read_json(path: Path) -> dict[str, Any]:
    """A checkpoint's JSON file as a mapping; a damaged one is a CheckpointError naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def load_weights(model: torch.nn.Module, checkpoint: Path) -> None:
    """Load ``model.safetensors`` into ``model``, refusing any missing or unexpected tensor."""
    path = checkpoint / WEIGHTS_FILE
    try:
        missing, unexpected = load_model(model, str(path), strict=False)
    except SafetensorError as err:
        raise CheckpointError(f"{path}: damaged or not a safetensors file ({err})") from err
    if missing or unexpected:
        raise CheckpointError(
            f"{path}: does not match its recipe "
            f"(missing: {sorted(missing)[:5]}, unexpected: {sorted(unexpected)[:5]})"
        )


def _reason(err: Exception) -> str:
    """The gist of torch.load's error on one line (its weights-only refusals run to a page)."""
    text = str(err)
    gist = text.split("WeightsUnpickler error:", 1)[1] if "WeightsUnpickler error:" in text else text
    return " ".join(gist.split(". Check the documentation", 1)[0].split())


def load_training_state(checkpoint: Path) -> dict[str, Any]:
    """The resumable state of a ``last`` checkpoint, read without unpickling arbitrary objects."""
    path = checkpoint / STATE_FILE
    if not path.is_file():
        raise CheckpointError(f"{path}: missing; only a run's last/ checkpoint can be resumed")
    try:
        state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as err:
        raise CheckpointError(
            f"{path}: damaged, or holds objects other than tensors and plain values ({_reason(err)})"
        ) from err
    return state
