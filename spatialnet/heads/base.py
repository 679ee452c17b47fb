"""The task-head contract and the registry heads are built from.

A head is one class plus a recipe entry: it declares a config dataclass, the batch key
holding its labels, what it learns from the training data before the model is built (``fit``:
a vocabulary), how it turns backbone features into outputs, and everything the rest of
the system asks of a task: how its predictions are scored (``score``), shown to a person
(``summarize``, ``headlines``), written beside an evaluation (``write_artifacts``) and mapped
over a scene (``map_layers``). No other module switches on head types. Heads that need more
than the image (a question, target text) read it from the batch, so captioning and VQA heads
fit the same interface.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from torch import Tensor, nn

from spatialnet.backbones.output import BackboneOutput
from spatialnet.config import from_dict
from spatialnet.errors import RecipeError
from spatialnet.mapping.layers import Layer

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

    from spatialnet.metrics.bootstrap import Tally

Batch = Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class Headline:
    """A metric a reader looks for first: its key in the head's metrics, its label, how it reads."""

    key: str
    label: str
    percent: bool = True  # shown ×100
    higher_is_better: bool = True
    task: str = ""  # the head (or dataset) it was read from; set by headline_values


LOSS = Headline("loss", "loss", percent=False, higher_is_better=False)


@dataclasses.dataclass
class HeadConfig:
    """Fields every head shares; subclasses add their own."""

    type: str = ""  # registered head name
    target: str = ""  # batch key holding this head's labels (defaults to the head's name)
    weight: float = 1.0  # λ_t in the weighted multitask loss
    loss_kind: str = "classification"  # classification | regression: the uncertainty-weighting form


class TrainingText(Protocol):
    """The sentences of a training split, by batch key (what a dataset offers the fit stage)."""

    def texts(self, key: str) -> list[str]:
        """Every sentence under ``key`` (to train a vocabulary on)."""
        ...

    def reference_sets(self, key: str) -> list[list[str]]:
        """Every item's reference sentences under ``key`` (a CIDEr reward's corpus)."""
        ...


@dataclasses.dataclass(frozen=True)
class HeadFit:
    """What a head learned from the training data before the model was built (see ``TaskHead.fit``).

    ``tokenizer``: a text head's vocabulary; ``references``: the training references per image a
    CIDEr reward counts document frequencies on (SCST only).
    """

    tokenizer: PreTrainedTokenizerFast | None = None
    references: list[list[str]] | None = None


@dataclasses.dataclass
class HeadContext:
    """What a head needs to build itself: backbone sizes and what it fitted on the data.

    ``map_channels`` gives the channels of the backbone's per-pixel maps by task family.
    """

    embed_dim: int
    img_size: int
    patch_size: int
    in_chans: int
    fit: HeadFit = dataclasses.field(default_factory=HeadFit)
    map_channels: dict[str, int] = dataclasses.field(default_factory=dict)


class TaskHead(nn.Module):
    """Base class for task heads.

    ``forward`` returns the raw outputs used by ``loss`` (logits, values, maps);
    ``predict`` returns what a user sees (probabilities, decoded text); by default the same.
    """

    config_class: ClassVar[type[HeadConfig]] = HeadConfig
    # whether ``predict`` gives probabilities that flips and quarter turns of an aerial image
    # leave unchanged, so that test-time views may be averaged (scene labels)
    averages_views: ClassVar[bool] = False

    def __init__(self, config: HeadConfig, context: HeadContext) -> None:
        super().__init__()
        self.config = config
        self.context = context

    @classmethod
    def fit(cls, config: Any, data: TrainingText | None, saved: Path | None) -> HeadFit:
        """What this head learns from the training split before the model is built (default: nothing).

        ``data`` is the training split of the dataset the head learns from (None when loading);
        ``saved`` the head's folder in the checkpoint the weights come from (inference, a resumed
        or fine-tuned run): what was fitted with those weights is read from there instead.
        """
        return HeadFit()

    @classmethod
    def merge_settings(cls, settings: list[dict[str, Any]]) -> dict[str, Any]:
        """The data-derived settings of a head that several datasets train, from each one's.

        Default: the first dataset's value of each setting wins; heads whose settings combine
        (a VQA head's answer sets) say how.
        """
        merged: dict[str, Any] = {}
        for found in settings:
            merged.update({key: value for key, value in found.items() if key not in merged})
        return merged

    def transferred(
        self, state: dict[str, Tensor], saved_config: dict[str, Any], saved_folder: Path
    ) -> tuple[dict[str, Tensor], str]:
        """The head's weights from another run's checkpoint (``train.init_from``), and a note.

        ``state`` holds the saved tensors (keys relative to the head), ``saved_config`` the head's
        entry in that run's recipe and ``saved_folder`` its files there. Heads whose shapes follow
        what was fitted on the data (answers, vocabularies) map what the two share; by default the
        weights are taken as saved, and any shape that differs is an error.
        """
        return state, ""

    @property
    def target_key(self) -> str:
        """Batch key of the labels this head learns from."""
        return self.config.target

    def has_targets(self, batch: Batch) -> bool:
        """Whether ``batch`` labels this task (only such heads run during training)."""
        return self.target_key in batch

    def can_predict(self, batch: Batch) -> bool:
        """Whether ``batch`` holds the inputs this head needs besides the image (a question)."""
        return True

    def forward(self, features: BackboneOutput, batch: Batch) -> Any:  # noqa: D102
        raise NotImplementedError

    def loss(self, output: Any, batch: Batch) -> Tensor:
        """Scalar training loss of ``output`` against ``batch[self.target_key]``."""
        raise NotImplementedError

    def predict(self, features: BackboneOutput, batch: Batch) -> Any:
        """User-facing prediction (probabilities, values, text) for ``batch``."""
        return self.predicted(self.forward(features, batch), features, batch)

    def predicted(self, output: Any, features: BackboneOutput, batch: Batch) -> Any:
        """The user-facing prediction from ``forward``'s ``output`` (default: the output itself).

        Evaluation scores the very forward pass that gave the loss, so no head runs twice.
        """
        return output

    def evaluation_targets(self, batch: Batch) -> Any:
        """What predictions are scored against (default: the training labels)."""
        return batch[self.target_key]

    # -- what evaluation, the CLI, the app and maps ask of a head ----------------------------
    # the numbers quickstart's table, the app's model card and comparisons show first
    headlines: ClassVar[tuple[Headline, ...]] = ()
    # further metrics ``spatialnet evaluate`` prints after the headlines; the rest stays in the JSON
    summary_metrics: ClassVar[tuple[Headline, ...]] = (LOSS,)

    def score(self, predictions: Any, targets: Any, detailed: bool = False) -> dict[str, Any]:
        """Metrics of a split's collected ``predict`` outputs against its ``evaluation_targets``.

        ``detailed`` (evaluation, not training logs) may add per-item scores and matrices.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not say how it is scored: define score() on the head class"
        )

    def tally(self, predictions: Any, targets: Any, by: str = "") -> Tally | None:
        """Per-item statistics whose sums give this head's metrics (bootstrap intervals, paired tests).

        ``predictions`` and ``targets`` as :meth:`score` takes them; ``by`` names the item unit
        where a head offers several (a VQA head: "questions" or "images"; "" the head's default).
        None: the head's metrics are not sums of per-item statistics.
        """
        return None

    def summarize(
        self,
        output: Any,
        index: int,
        top_k: int = 5,
        question: str | None = None,
        question_set: str | None = None,
    ) -> Any:
        """Item ``index`` of a batch of ``predict`` outputs as a person reads it (default: plain numbers).

        ``question`` is the question asked with the image and ``question_set`` the conventions it was
        asked in (:mod:`spatialnet.data.question_sets`); heads that answer no questions ignore both.
        """
        item = output[index]
        if isinstance(item, Tensor):
            return item.cpu().tolist() if item.ndim else float(item)
        return item

    def write_artifacts(
        self, predictions: Any, targets: Any, metrics: dict[str, Any], stem: Path, title: str
    ) -> dict[str, str]:
        """Files written beside an evaluation's metrics (named ``<stem>_…``): metric key -> file name."""
        return {}

    def map_layers(self, name: str) -> list[Layer]:
        """The rasters a whole-scene map writes for this head (per-pixel heads; default none)."""
        return []

    def save_files(self, folder: Path) -> None:
        """Write files the head needs besides its weights (a tokenizer) into ``folder``; default none."""
        return None

    @property
    def has_files(self) -> bool:
        """Whether this head saves files of its own (then checkpoints give it a folder)."""
        return type(self).save_files is not TaskHead.save_files


HEAD_REGISTRY: dict[str, type[TaskHead]] = {}
H = TypeVar("H", bound=type[TaskHead])
# The built-in head types and the module defining each, imported when a recipe first names the
# type: a forest model then never loads the text heads' transformers.
BUILT_IN_HEADS = {
    "caption": "spatialnet.heads.caption",
    "vqa": "spatialnet.heads.vqa",
    "classification": "spatialnet.heads.classification",
    "pixel_classification": "spatialnet.heads.pixel",
    "pixel_regression": "spatialnet.heads.pixel",
}


def register_head(name: str) -> Callable[[H], H]:
    """Class decorator adding a head to the registry under ``name``."""

    def decorate(cls: H) -> H:
        if name in HEAD_REGISTRY:
            raise ValueError(f"head type '{name}' is registered twice")
        HEAD_REGISTRY[name] = cls
        return cls

    return decorate


def head_class(head_type: str) -> type[TaskHead] | None:
    """The head class registered as ``head_type`` (a built-in one is imported on first use)."""
    if head_type not in HEAD_REGISTRY and head_type in BUILT_IN_HEADS:
        importlib.import_module(BUILT_IN_HEADS[head_type])
    return HEAD_REGISTRY.get(head_type)


def registered_heads() -> dict[str, type[TaskHead]]:
    """Every registered head class by type name, the built-in ones included."""
    for module in sorted(set(BUILT_IN_HEADS.values())):
        importlib.import_module(module)
    return HEAD_REGISTRY


def head_config(name: str, spec: Mapping[str, Any], source: str = "recipe") -> tuple[type[TaskHead], Any]:
    """The head class and typed config of recipe entry ``heads.<name>``."""
    head_type = spec.get("type")
    cls = head_class(head_type) if isinstance(head_type, str) else None
    if cls is None:
        raise RecipeError(
            f"{source}: 'heads.{name}.type' is {head_type!r}; "
            f"expected one of: {', '.join(sorted(registered_heads()))}"
        )
    config = from_dict(cls.config_class, spec, source, f"heads.{name}.")
    if not config.target:
        config.target = name
    return cls, config


def build_head(name: str, spec: Mapping[str, Any], context: HeadContext, source: str = "recipe") -> TaskHead:
    """Build the head described by recipe entry ``heads.<name>``."""
    cls, config = head_config(name, spec, source)
    return cls(config, context)
