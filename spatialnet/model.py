"""SpatialNet: one backbone (a ViT by default) carrying named task heads (seed 004, Fig. 1).

Only the heads whose labels a batch carries are run and scored during training, so
batches from different datasets contribute only the losses of the tasks they label. A batch
naming a ``modality`` goes through that stem of a shared trunk (``shared_vit``); each head is
built for the input geometry of the modality its dataset has (``Recipe.sources``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from spatialnet import checkpoint as ckpt
from spatialnet.backbones.factory import build_backbone, resolved_options
from spatialnet.backbones.output import BackboneOutput
from spatialnet.backbones.registry import Backbone, without_weight_sources
from spatialnet.config import Recipe
from spatialnet.data.views import dihedral_views
from spatialnet.devices import select_device
from spatialnet.errors import RecipeError
from spatialnet.heads import HeadContext, TaskHead, build_head
from spatialnet.heads.base import Batch, HeadFit, head_config
from spatialnet.heads.fitting import fit_heads


@dataclass
class SpatialNetOutput:
    """Raw head outputs and the per-task losses of the heads that had labels."""

    outputs: dict[str, Any] = field(default_factory=dict)
    losses: dict[str, Tensor] = field(default_factory=dict)
    features: BackboneOutput | None = None


class SpatialNet(nn.Module):
    """A backbone plus a ``ModuleDict`` of task heads."""

    def __init__(self, backbone: Backbone, heads: Mapping[str, TaskHead]) -> None:
        super().__init__()
        self.backbone = backbone
        self.heads = nn.ModuleDict(dict(heads))

    @classmethod
    def from_pretrained(cls, path: Path | str, device: str = "auto") -> SpatialNet:
        """The trained model of a run folder (its ``best/``) or a checkpoint folder, in eval mode."""
        return load_run(Path(path), device)[0]

    @classmethod
    def from_recipe(
        cls,
        recipe: Recipe,
        source: str = "recipe",
        files: Path | None = None,
        fits: Mapping[str, HeadFit] | None = None,
    ) -> SpatialNet:
        """Build the backbone and every head listed under ``heads`` in the recipe.

        ``fits`` is what each head learned from the training data (:func:`fit_heads`); without
        it, heads read theirs from the checkpoint folder ``files`` (tokenizers) or the recipe.
        """
        backbone = build_backbone(recipe.backbone, source)
        modality_of = {task: entry.modality for entry in recipe.sources().values() for task in entry.tasks}
        stems = ", ".join(repr(m) for m in backbone.modalities)
        for name in recipe.heads:  # every stem exists before any head (a vocabulary) is built
            modality = modality_of.get(name, "")
            if modality not in backbone.modalities:
                raise RecipeError(
                    f"{source}: head {name!r} reads modality {modality!r}, but the backbone has stems "
                    f"for: {stems} (backbone.options.modalities)"
                )
        if fits is None:
            fits = fit_heads(recipe, checkpoint=files, source=source)
        heads = {}
        for name, spec in recipe.heads.items():
            spec_in = backbone.input_spec(modality_of.get(name, ""))
            context = HeadContext(
                backbone.embed_dim,
                spec_in.img_size,
                spec_in.patch_size,
                spec_in.in_chans,
                fit=fits[name],
                map_channels=dict(backbone.map_channels),
            )
            heads[name] = build_head(name, spec, context, source)
        return cls(backbone, heads)

    def save_files(self, folder: Path) -> None:
        """Write each head's own files (tokenizers) into ``folder/<head name>/``."""
        for name in self.heads:
            head = self.head(name)
            if head.has_files:
                (folder / name).mkdir(parents=True, exist_ok=True)
                head.save_files(folder / name)

    def head(self, name: str) -> TaskHead:
        """The head registered under ``name``."""
        head = self.heads[name]
        assert isinstance(head, TaskHead)
        return head

    def task_heads(self) -> dict[str, TaskHead]:
        """Every head by name, in recipe order."""
        return {name: self.head(name) for name in self.heads}

    def labelled_tasks(self, batch: Batch) -> list[str]:
        """Names of the heads whose targets ``batch`` carries."""
        return [name for name in self.heads if self.head(name).has_targets(batch)]

    def encode(self, batch: Batch) -> BackboneOutput:
        """Backbone features of the batch's images, through the stem of ``batch["modality"]`` if named."""
        return self.backbone.encode(batch["image"], batch.get("modality", ""))

    def forward(self, batch: Batch, tasks: Iterable[str] | None = None) -> SpatialNetOutput:
        """Run the backbone once, then the heads in ``tasks`` (default: labelled ones) and their losses."""
        names = list(tasks) if tasks is not None else self.labelled_tasks(batch)
        features = self.encode(batch)
        result = SpatialNetOutput(features=features)
        for name in names:
            head = self.head(name)
            result.outputs[name] = head(features, batch)
            if head.has_targets(batch):
                result.losses[name] = head.loss(result.outputs[name], batch)
        return result

    def predict(self, batch: Batch, tasks: Iterable[str] | None = None) -> dict[str, Any]:
        """User-facing predictions (probabilities, values, text) of ``tasks``.

        By default every head that has its inputs: a VQA head runs only when the batch has questions.
        """
        features = self.encode(batch)
        names = (
            list(tasks) if tasks is not None else [n for n in self.heads if self.head(n).can_predict(batch)]
        )
        return {name: self.head(name).predict(features, batch) for name in names}

    def predict_views(self, batch: Batch, tasks: Iterable[str]) -> dict[str, Tensor]:
        """Predictions of the view-averaging heads among ``tasks`` (scene labels), test-time augmented.

        Each is the mean over the 8 flips and quarter turns of the images.
        """
        names = [name for name in tasks if self.head(name).averages_views]
        if not names:
            return {}
        views = dihedral_views(batch["image"])
        sums: dict[str, Tensor] = {}
        for view in views:
            for name, value in self.predict({**batch, "image": view}, names).items():
                sums[name] = sums[name] + value if name in sums else value
        return {name: total / len(views) for name, total in sums.items()}

    def last_shared_parameter(self) -> Tensor:
        """The parameter GradNorm measures per-task gradient norms on."""
        return self.backbone.last_shared_parameter()


def load_run(path: Path, device: str = "auto") -> tuple[SpatialNet, Recipe, dict[str, Any], Path]:
    """A trained model from a run or checkpoint folder: (model in eval mode, recipe, metrics, folder).

    What its datasets fitted (input processors, states) is ``checkpoint.read_fitted(folder, recipe)``.
    """
    folder = ckpt.resolve_checkpoint(Path(path))
    recipe = ckpt.read_recipe(folder)
    recipe.backbone = without_weight_sources(recipe.backbone)  # the checkpoint holds the weights
    model = SpatialNet.from_recipe(recipe, str(folder / ckpt.CONFIG_FILE), files=folder)
    ckpt.load_weights(model, folder)
    model.to(select_device(device)).eval()
    return model, recipe, ckpt.read_metrics(folder), folder


def resolved_recipe(recipe: Recipe, source: str = "recipe") -> Recipe:
    """The recipe with every head field and backbone option written out exactly as the model builds them.

    What a run stores as ``config.json``: a setting that restates a default and one left out then
    read the same, and the file shows every value the model was built with.
    """
    heads = {
        name: dataclasses.asdict(head_config(name, spec, source)[1]) for name, spec in recipe.heads.items()
    }
    backbone = dataclasses.replace(recipe.backbone, options=resolved_options(recipe.backbone, source))
    return dataclasses.replace(recipe, backbone=backbone, heads=heads)
