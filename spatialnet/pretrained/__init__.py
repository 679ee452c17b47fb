"""Models that ship inside the package, and how a name, a folder or a hub id becomes a checkpoint.

A bundled model is a checkpoint folder under this package (``config.json``, half-precision
``model.safetensors``, fitted processors, tokenizers, a Hugging Face model card ``README.md`` and
``reference_predictions.json``): what a person gets from ``pip install`` with no training. Every
command that takes a run or checkpoint also takes a bundled name or, when online (or cached), a
Hugging Face hub id holding the same files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from spatialnet.errors import CheckpointError

BUNDLED_DIR = Path(__file__).parent
DEFAULT_MODEL = "spatialnet-vit-real-cpu"
WEIGHTS_FILE = "model.safetensors"  # checkpoint.WEIGHTS_FILE (checkpoint imports this module)
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class BundledModel:
    """One shipped model: its name and folder (card, weights, tokenizers)."""

    name: str
    folder: Path

    @property
    def card(self) -> Path:  # noqa: D102
        return self.folder / "README.md"

    @property
    def size_mb(self) -> float:
        """Every file of the folder, in MB (10^6 bytes): what the package carries for it."""
        return sum(f.stat().st_size for f in self.folder.rglob("*") if f.is_file()) / 1e6


def bundled_models() -> list[BundledModel]:
    """The models shipped in the package, by name."""
    return [
        BundledModel(folder.name, folder)
        for folder in sorted(BUNDLED_DIR.iterdir())
        if folder.is_dir() and (folder / WEIGHTS_FILE).is_file()
    ]


def bundled_folder(name: str) -> Path | None:
    """The folder of the bundled model called ``name``, or None."""
    return next((model.folder for model in bundled_models() if model.name == name), None)


def locate(name_or_path: str | Path) -> Path:
    """The folder of a local run/checkpoint, a bundled model's name, or a Hugging Face hub id.

    A folder that exists wins; then a bundled name; then ``owner/name`` from the hub (its local cache
    when ``HF_HUB_OFFLINE=1``). Anything else comes back as given, for the caller to say what it lacks.
    """
    path = Path(name_or_path).expanduser()
    if path.exists():
        return path
    text = str(name_or_path)
    bundled = bundled_folder(text)
    if bundled is not None:
        return bundled
    if HUB_ID.match(text) and not text.startswith("."):
        return _from_hub(text)
    return path


def _names() -> str:
    return ", ".join(model.name for model in bundled_models()) or "none installed"


def _from_hub(repo_id: str) -> Path:
    """A hub repository's files through huggingface_hub's cache (offline: the cache alone)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id))
    except LocalEntryNotFoundError as err:
        raise CheckpointError(
            f"{repo_id}: no such folder or bundled model ({_names()}), and no copy of a Hugging Face hub "
            "repository of that name in the cache (offline: HF_HUB_OFFLINE=1, or no connection)"
        ) from err
    except (HfHubHTTPError, OSError, ValueError) as err:
        raise CheckpointError(
            f"{repo_id}: no such folder or bundled model ({_names()}), nor a Hugging Face hub repository "
            f"({type(err).__name__})"
        ) from err
