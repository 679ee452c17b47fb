"""Typed recipes: YAML files turned into dataclasses, with dotted CLI overrides.

Every hyperparameter lives in a dataclass field with its default and meaning, so a
recipe key that does not exist, or a value of the wrong type, is refused with the
recipe file and the dotted key in the message (the HF ``PretrainedConfig`` habit).
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

from spatialnet.errors import RecipeError

T = TypeVar("T")


@dataclasses.dataclass
class BackboneConfig:
    """Backbone hyperparameters; ``preset`` fills the ViT fields a recipe does not set.

    Recipes resolve the preset when they are read (:func:`with_preset`); a config built in
    Python with a preset gets it at build time, for the fields left at their defaults.

    ``type`` picks a registered backbone (spatialnet.backbones.registry): ``vit`` (timm
    ``VisionTransformer``, the fields below) or a hyperspectral forest network (``seed000``,
    ``pham``), whose own settings go under ``options`` and are checked by that network's dataclass.
    Every type reads ``img_size`` (the input window) and ``in_chans`` (bands).
    """

    type: str = "vit"
    options: dict[str, Any] = dataclasses.field(default_factory=dict)  # settings of non-ViT types
    preset: str | None = None  # name in spatialnet/backbones/presets.yaml (tiny, small, paper)
    img_size: int = 256
    patch_size: int = 16
    in_chans: int = 3  # 3 for RGB tiles, ~110 for hyperspectral windows
    embed_dim: int = 512
    depth: int = 12
    num_heads: int = 8
    mlp_ratio: float = 4.0  # a standard ViT FFN is 4·D wide (the seed's D×D FFN is a typo)
    act: str = "relu"  # FFN activation: relu (seed 004) or gelu
    drop_rate: float = 0.0
    drop_path: float = 0.0
    # patch: one linear patch embedding; conv: strided 3×3 conv stem (better from scratch);
    # cnn: a hybrid ViT, tokens from the feature map of the timm CNN ``cnn`` (patch_size = its stride)
    stem: str = "patch"
    cnn: str = "tf_efficientnet_lite0"  # stem cnn: a timm model name
    cnn_weights: str | None = None  # stem cnn: None (random) | packaged | timm | a local weights file
    cnn_stage: int | None = None  # stem cnn: None = the whole trunk; N = cut after feature stage N
    class_token: bool = True
    global_pool: str = "token"  # pooled vector: class token ("token") or mean of patch tokens ("avg")
    pretrained: str | None = (
        None  # local .safetensors/.pth file or a timm model name (needs the weights cached)
    )


@dataclasses.dataclass
class AugmentConfig:
    """Training-time image augmentation (applied to the image only, never to labels' meaning)."""

    hflip: bool = True
    vflip: bool = True
    rot90: bool = True  # aerial views have no canonical "up"
    random_resized_crop: float | None = None  # minimum area fraction kept, e.g. 0.5; None disables
    color_jitter: float = 0.0  # brightness/contrast/saturation strength


@dataclasses.dataclass
class HFConfig:
    """Where a Hugging Face dataset keeps what (``data.dataset``: hf_captions, hf_landuse, hf_vqa).

    ``data.root`` is then a ``save_to_disk`` folder, a parquet file or folder (a file per split,
    ``<split>.parquet`` or ``<split>-00000-of-00002.parquet``, at the top or under ``data/``) or,
    online, a hub name (``load_dataset(root)``). A column left at None takes the conventional
    name when the table has one (the names ``spatialnet export`` writes); a named column must exist.
    """

    config_name: str | None = None  # hub only: the dataset configuration, load_dataset(root, config_name)
    # the column naming each row's split; None: the DatasetDict's (or parquet files') splits, or a
    # column "split" of a single table
    split_column: str | None = None
    image: str = "image"  # an Image column (encoded bytes, decoded like the file), raw bytes or file paths
    # string or list-of-strings columns, pooled per image; []: the first of sentences, captions, caption, text
    captions: list[str] = dataclasses.field(default_factory=list)
    label: str | None = None  # scene class (ClassLabel, integers or names); None: "label" when present
    image_id: str | None = None  # None: "imgid" or "image_id" when present, else the row's position
    question: str = "question"  # a string per row (one question) or a list of strings (all of an image's)
    answer: str = "answer"  # RSVQA-LR answers: yes/no, rural/urban, raw counts or count bins
    question_type: str | None = None  # None: "question_type" or "type" when present, else from the text
    question_id: str | None = None  # None: "question_id" when present, else the question's position


@dataclasses.dataclass
class DataConfig:
    """Which dataset to read, where from, and how images are prepared."""

    dataset: str = "ucm_landuse"  # name in the dataset registry
    # dataset folder (quickstart points it at the synthetic world); hf_* datasets: also parquet or a hub name
    root: str | None = None
    image_size: int = 256  # images are resized to this square size
    mean: list[float] = dataclasses.field(default_factory=lambda: [0.5, 0.5, 0.5])
    std: list[float] = dataclasses.field(default_factory=lambda: [0.25, 0.25, 0.25])
    train_split: str = "train"
    val_split: str = "val"
    test_split: str = "test"
    augment: AugmentConfig = dataclasses.field(default_factory=AugmentConfig)
    num_workers: int = 0
    # VQA datasets: questions drawn per image each training epoch (0 = all; evaluation uses all)
    questions_per_image: int = 0
    # rsivqa: the UCM-captions folder holding the photos and splits (default: ucm_captions/ beside
    # root), the question files read for every split, and files added to the training split only
    images: str | None = None
    question_files: list[str] = dataclasses.field(default_factory=lambda: ["ucm_res.txt"])
    train_question_files: list[str] = dataclasses.field(default_factory=list)
    # TAIGA: image_size is the (odd) window P; bands default to 0-109 (None)
    bands: list[int] | None = None
    dense_targets: bool = False  # train on every labelled pixel of the window, not only its centre
    input_norm: str = "standardise"  # standardise | minmax, per band with train-centre statistics
    block: int = 13  # side of the split's blocks (one sample centre per block)
    hf: HFConfig = dataclasses.field(default_factory=HFConfig)  # hf_* datasets: the table's columns


@dataclasses.dataclass
class LossConfig:
    """How per-task losses are combined (see spatialnet.losses.balancing)."""

    balancing: str = "fixed"  # fixed (Σ λ_t L_t), uncertainty (Kendall 2018) or gradnorm (Chen 2018)
    gradnorm_alpha: float = 1.5
    gradnorm_lr: float = 0.025  # learning rate of the GradNorm task weights
    l2_penalty: float = 0.0  # seed 004's λ_reg·½Σθ², separate from the optimiser's weight decay


@dataclasses.dataclass
class ScheduleConfig:
    """Learning-rate schedule: linear warm-up then cosine, plateau or constant."""

    type: str = "cosine"  # cosine | plateau | constant
    warmup_epochs: float = 0.0
    warmup_start_factor: float = 0.1  # lr at step 0 = lr × this factor
    min_lr_factor: float = 0.01  # cosine floor = lr × this factor
    plateau_patience: int = 5
    plateau_factor: float = 0.5


@dataclasses.dataclass
class DistillConfig:
    """Single-task teachers for a joint model's classifying heads (spatialnet.training.distillation)."""

    teachers: dict[str, str] = dataclasses.field(default_factory=dict)  # head name -> run folder
    weight: float = 0.5  # the teacher's share w of the head's loss: (1 - w) labels + w teacher
    temperature: float = 2.0  # T that softens both sides' logits


@dataclasses.dataclass
class TrainConfig:
    """Optimisation, validation cadence and checkpoint selection."""

    epochs: int = 50
    batch_size: int = 32  # global batch: divided over processes in distributed runs
    eval_batch_size: int = 64
    optimizer: str = "adamw"  # adamw | adam | sgd
    lr: float = 1.0e-4
    weight_decay: float = 0.05
    grad_clip: float | None = 1.0
    schedule: ScheduleConfig = dataclasses.field(default_factory=ScheduleConfig)
    val_every: int = 1  # validate every N epochs (and always after the last)
    select_metric: str = "accuracy"  # validation metric that picks the best checkpoint
    select_mode: str = "max"  # max | min
    # joint recipes: the selection value is Σ weight × metric over these validation metrics
    # (a negative weight for a lower-is-better metric); empty: select_metric alone
    select_weights: dict[str, float] = dataclasses.field(default_factory=dict)
    # joint recipes: which dataset each training batch comes from (spatialnet.training.mixing)
    mix: str = "proportional"  # proportional (datasets.*.proportion) | temperature (∝ size^(1/T))
    mix_temperature: float = 2.0
    steps_per_epoch: int | None = None  # joint recipes: default Σ over datasets of their batches
    # per-part settings by parameter-name pattern (fnmatch; the first matching pattern wins), e.g.
    # "backbone.*embed.backbone.*" = the CNN of a hybrid ViT (stem cnn), single or shared trunk
    lr_scale: dict[str, float] = dataclasses.field(default_factory=dict)  # pattern -> lr multiplier
    freeze_epochs: dict[str, int] = dataclasses.field(default_factory=dict)  # pattern -> epochs frozen
    # start from all weights (and text vocabularies) of a run or checkpoint with the same model,
    # e.g. a self-critical stage after cross-entropy training; a resumed run ignores it
    init_from: str | None = None
    distill: DistillConfig = dataclasses.field(default_factory=DistillConfig)
    device: str = "auto"  # auto (cuda when present) | cpu | cuda
    threads: int | None = None  # torch intra-op threads on CPU; None keeps torch's default


@dataclasses.dataclass
class SourceConfig:
    """One dataset of a joint recipe: where its batches come from and which heads they train.

    Every batch comes from one dataset, goes through the backbone stem of its ``modality`` and
    contributes the losses of its ``tasks`` only.
    """

    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    tasks: list[str] = dataclasses.field(default_factory=list)  # names under ``heads``
    modality: str = ""  # backbone stem (backbone.options.modalities); "" for one-stem backbones
    proportion: float = 1.0  # share of training batches with train.mix: proportional
    batch_size: int | None = None  # global batch of this dataset; default train.batch_size


@dataclasses.dataclass
class Recipe:
    """A whole training recipe: the content of one ``spatialnet/recipes/*.yaml`` file.

    A single-dataset recipe names its dataset under ``data``; a joint recipe lists several under
    ``datasets`` (``data.root`` then serves as the root of datasets that set none).
    :meth:`sources` gives both the same shape.
    """

    name: str = "unnamed"
    seed: int = 0
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    datasets: dict[str, SourceConfig] = dataclasses.field(default_factory=dict)  # joint recipes
    backbone: BackboneConfig = dataclasses.field(default_factory=BackboneConfig)
    heads: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # name -> head config
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

    @property
    def is_joint(self) -> bool:
        """Whether batches come from several datasets (``datasets``) rather than ``data``."""
        return bool(self.datasets)

    def sources(self) -> dict[str, SourceConfig]:
        """The datasets batches come from, by name: ``datasets``, or ``data`` under its dataset name."""
        if self.datasets:  # a dataset without its own root reads from data.root (the world folder)
            return {
                name: entry
                if entry.data.root is not None or self.data.root is None
                else dataclasses.replace(entry, data=dataclasses.replace(entry.data, root=self.data.root))
                for name, entry in self.datasets.items()
            }
        return {self.data.dataset: SourceConfig(data=self.data, tasks=list(self.heads))}

    def source_reading(self, dataset: str) -> tuple[str, SourceConfig]:
        """Name and entry of the (first) dataset of the recipe whose ``data.dataset`` is ``dataset``."""
        for name, entry in self.sources().items():
            if entry.data.dataset == dataset:
                return name, entry
        found = ", ".join(entry.data.dataset for entry in self.sources().values())
        raise RecipeError(f"recipe {self.name!r} reads no {dataset!r} dataset (it reads: {found})")

    def single_source(self, name: str, steps_per_epoch: int | None = None) -> Recipe:
        """The joint recipe cut down to dataset ``name``: its heads, its modality's stem, its batches.

        The single-task counterpart of a joint run: the same architecture and settings, trained
        on one dataset (``steps_per_epoch`` of its batches, e.g. as many as it had in the joint
        run); selection keeps the ``select_weights`` terms that dataset reports.
        """
        if name not in self.datasets:
            raise RecipeError(f"'datasets' has no {name!r}; expected one of: {', '.join(self.datasets)}")
        entry = self.datasets[name]
        heads = {task: spec for task, spec in self.heads.items() if task in entry.tasks}
        options = dict(self.backbone.options)
        if "modalities" in options:
            options["modalities"] = {m: v for m, v in options["modalities"].items() if m == entry.modality}
        prefixes = tuple(f"{key}/" for key in (*heads, name))
        weights = {k: w for k, w in self.train.select_weights.items() if k.startswith(prefixes)}
        kept = options.get("modalities", {})
        parts = {k: v for k, v in self.train.freeze_epochs.items() if _applies(k, heads, kept)}
        scales = {k: v for k, v in self.train.lr_scale.items() if _applies(k, heads, kept)}
        return dataclasses.replace(
            self,
            name=f"{self.name}:{name}",
            datasets={name: dataclasses.replace(entry, proportion=1.0)},
            heads=heads,
            backbone=dataclasses.replace(self.backbone, options=options),
            train=dataclasses.replace(
                self.train,
                steps_per_epoch=steps_per_epoch,
                select_weights=weights,
                freeze_epochs=parts,
                lr_scale=scales,
            ),
        )

    def trainers_of(self, head: str) -> list[str]:
        """The datasets whose batches train ``head`` (several for a head shared across datasets)."""
        return [name for name, entry in self.sources().items() if head in entry.tasks]

    def check_sources(self, source: str = "recipe") -> None:
        """Refuse joint recipes whose datasets and heads do not fit together.

        Every head must be trained by a dataset; a head that several datasets train (one VQA head
        for RSVQA-LR and RSIVQA) must read one modality, and its name not collide with theirs.
        """
        if not self.datasets:
            return
        owner: dict[str, str] = {}
        for name, entry in self.datasets.items():
            if not entry.tasks:
                raise RecipeError(f"{source}: 'datasets.{name}.tasks' is empty; list the heads it labels")
            for task in entry.tasks:
                if task not in self.heads:
                    raise RecipeError(
                        f"{source}: 'datasets.{name}.tasks' names {task!r}, which is not under 'heads' "
                        f"({', '.join(self.heads)})"
                    )
                first = owner.setdefault(task, name)
                if self.datasets[first].modality != entry.modality:
                    raise RecipeError(
                        f"{source}: head {task!r} is listed by datasets {first!r} (modality "
                        f"{self.datasets[first].modality!r}) and {name!r} (modality {entry.modality!r}); "
                        "a head shared by datasets reads one modality"
                    )
            if name in self.heads:
                raise RecipeError(f"{source}: dataset name {name!r} is also a head name; rename one")
        orphans = [h for h in self.heads if h not in owner]
        if orphans:
            raise RecipeError(f"{source}: heads {orphans} are not listed by any 'datasets.*.tasks'")


def from_dict(cls: type[T], data: Mapping[str, Any], source: str = "recipe", prefix: str = "") -> T:
    """Build dataclass ``cls`` from ``data``, refusing unknown keys and wrongly typed values."""
    if not isinstance(data, Mapping):
        raise RecipeError(f"{source}: '{prefix or '<top>'}' must be a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        key = f"{prefix}{unknown[0]}"
        raise RecipeError(f"{source}: unknown key '{key}'; expected one of: {', '.join(sorted(fields))}")
    kwargs = {name: _coerce(hints[name], value, source, f"{prefix}{name}") for name, value in data.items()}
    return cls(**kwargs)


_FLOAT = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def _coerce(hint: Any, value: Any, source: str, key: str) -> Any:
    """Check ``value`` against the annotation ``hint`` (recursing into dataclasses)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return from_dict(hint, value, source, f"{key}.")
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(arg, value, source, key)
            except RecipeError as err:
                errors.append(str(err))
        raise RecipeError(errors[0])
    if hint is Any:
        return value
    if origin is list:
        if not isinstance(value, Sequence) or isinstance(value, str):
            raise RecipeError(f"{source}: '{key}' must be a list, got {value!r}")
        return [_coerce(args[0], v, source, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise RecipeError(f"{source}: '{key}' must be a mapping, got {value!r}")
        return {k: _coerce(args[1], v, source, f"{key}.{k}") for k, v in value.items()}
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str) and _FLOAT.match(value):
        return float(value)  # YAML 1.1 reads "1e-3" (no dot) as a string
    if hint in (int, float, str, bool) and not (
        isinstance(value, hint) and not (hint is int and isinstance(value, bool))
    ):
        raise RecipeError(f"{source}: '{key}' must be {hint.__name__}, got {value!r}")
    return value


def apply_overrides(data: dict[str, Any], overrides: Sequence[str], source: str = "--set") -> dict[str, Any]:
    """Apply ``a.b.c=value`` overrides (value parsed as YAML) to a nested recipe dict."""
    for item in overrides:
        if "=" not in item:
            raise RecipeError(f"{source}: override '{item}' must look like key.path=value")
        key, raw = item.split("=", 1)
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise RecipeError(f"{source}: '{key}' goes through '{part}', which is not a mapping")
            node = child
        node[parts[-1]] = yaml.safe_load(raw)
    return data


def to_dict(recipe: Recipe) -> dict[str, Any]:
    """Plain-dict form of a recipe, as written to ``config.json``."""
    return dataclasses.asdict(recipe)


def backbone_presets() -> dict[str, dict[str, Any]]:
    """The named ViT presets shipped in ``spatialnet/backbones/presets.yaml``."""
    text = (Path(__file__).resolve().parent / "backbones" / "presets.yaml").read_text(encoding="utf-8")
    presets: dict[str, dict[str, Any]] = yaml.safe_load(text)
    return presets


def differing_from_defaults(backbone: Mapping[str, Any]) -> dict[str, Any]:
    """The backbone fields whose values differ from :class:`BackboneConfig`'s defaults.

    Before presets were resolved at load, these were the fields that counted as set: a preset
    filled every field still equal to its default (old ``config.json`` files, configs built in Python).
    """
    defaults = dataclasses.asdict(BackboneConfig())
    return {key: value for key, value in backbone.items() if key not in defaults or value != defaults[key]}


def with_preset(backbone: Mapping[str, Any], source: str = "recipe") -> dict[str, Any]:
    """The backbone section with its ``preset`` written out: every key the recipe sets wins.

    The preset is then cleared, so the resolved recipe (``config.json``) lists each field as built.
    """
    name = backbone.get("preset")
    if name is None:
        return dict(backbone)
    presets = backbone_presets()
    if name not in presets:
        raise RecipeError(f"{source}: 'backbone.preset' is {name!r}; expected one of: {', '.join(presets)}")
    return {**presets[name], **backbone, "preset": None}


def recipe_from_dict(data: Mapping[str, Any], source: str = "recipe") -> Recipe:
    """Validate a nested dict as a :class:`Recipe`, its backbone preset resolved."""
    if isinstance(data.get("backbone"), Mapping):
        data = {**data, "backbone": with_preset(data["backbone"], source)}
    recipe = from_dict(Recipe, data, source)
    check_limits(recipe, source)
    recipe.check_sources(source)
    return recipe


# Keys whose value must lie in a range, as (lowest, whether the lowest itself is allowed, highest);
# None (where a key allows it) always passes. A value out of range would train nothing, or diverge.
LIMITS: dict[str, tuple[float, bool, float]] = {
    "seed": (0, True, math.inf),
    "train.epochs": (1, True, math.inf),
    "train.batch_size": (1, True, math.inf),
    "train.eval_batch_size": (1, True, math.inf),
    "train.lr": (0, False, math.inf),
    "train.weight_decay": (0, True, math.inf),
    "train.grad_clip": (0, False, math.inf),
    "train.val_every": (1, True, math.inf),
    "train.mix_temperature": (0, False, math.inf),
    "train.steps_per_epoch": (1, True, math.inf),
    "train.threads": (1, True, math.inf),
    "train.schedule.warmup_epochs": (0, True, math.inf),
    "train.schedule.warmup_start_factor": (0, False, 1),
    "train.schedule.min_lr_factor": (0, True, 1),
    "train.schedule.plateau_patience": (0, True, math.inf),
    "train.schedule.plateau_factor": (0, False, 1),
    "train.distill.weight": (0, True, 1),
    "train.distill.temperature": (0, False, math.inf),
    "loss.gradnorm_alpha": (0, True, math.inf),
    "loss.gradnorm_lr": (0, False, math.inf),
    "loss.l2_penalty": (0, True, math.inf),
    "data.image_size": (1, True, math.inf),
}
SOURCE_LIMITS: dict[str, tuple[float, bool, float]] = {  # per dataset of a joint recipe
    "proportion": (0, False, math.inf),
    "batch_size": (1, True, math.inf),
    "data.image_size": (1, True, math.inf),
}


def check_limits(recipe: Recipe, source: str = "recipe") -> None:
    """Refuse values that cannot train (``train.epochs: -3``, a zero batch or rate), naming the key."""
    checks = [(key, _dotted(recipe, key), limit) for key, limit in LIMITS.items()]
    for name, entry in recipe.datasets.items():
        checks += [
            (f"datasets.{name}.{key}", _dotted(entry, key), limit) for key, limit in SOURCE_LIMITS.items()
        ]
    for key, value, (lowest, inclusive, highest) in checks:
        if value is None or ((value >= lowest if inclusive else value > lowest) and value <= highest):
            continue
        bound = f"{'≥' if inclusive else '>'} {lowest:g}" + (
            f" and ≤ {highest:g}" if highest < math.inf else ""
        )
        kind = "an integer" if isinstance(value, int) else "a number"
        raise RecipeError(f"{source}: '{key}' is {value!r}; expected {kind} {bound}")
    for part, field in (("lr_scale", recipe.train.lr_scale), ("freeze_epochs", recipe.train.freeze_epochs)):
        for pattern, value in field.items():
            if value < 0:
                raise RecipeError(f"{source}: 'train.{part}.{pattern}' is {value!r}; expected a value ≥ 0")


PATH_KEYS = ("root", "init_from")  # last parts of the keys that hold a file or folder


def recipe_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """``'key: BEFORE → AFTER'`` for every dotted key two recipe dicts disagree on.

    Paths are compared resolved: ``../shared/data/x`` and the same folder spelled absolute agree.
    """
    old, new = _flat(before), _flat(after)
    changes = []
    for key in [*old, *(key for key in new if key not in old)]:
        was, now = old.get(key, "(absent)"), new.get(key, "(absent)")
        if was == now or (key.rsplit(".", 1)[-1] in PATH_KEYS and _same_path(was, now)):
            continue
        changes.append(f"{key}: {was!r} → {now!r}")
    return changes


def _flat(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping) and value:
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _same_path(first: Any, second: Any) -> bool:
    if not (isinstance(first, str) and isinstance(second, str)):
        return False
    return Path(first).expanduser().resolve() == Path(second).expanduser().resolve()


def _dotted(obj: Any, key: str) -> Any:
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj


def recipes_dir() -> Path:
    """The recipes shipped inside the package (``spatialnet/recipes/``), found from any directory."""
    return Path(__file__).resolve().parent / "recipes"


def recipe_names() -> list[str]:
    """Names of the shipped recipes (their ``parts/`` are pieces for ``base:``, not recipes)."""
    return sorted(path.stem for path in recipes_dir().glob("*.yaml"))


def resolve_recipe_path(name_or_path: str, beside: Path | None = None) -> Path:
    """A recipe path as given, else a name in the folder ``beside`` (for ``base:``) or the shipped recipes."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    folders = [beside] if beside is not None else []
    for folder in (*folders, recipes_dir()):
        for candidate in (folder / name_or_path, folder / f"{name_or_path}.yaml"):
            if candidate.is_file():
                return candidate
    raise RecipeError(
        f"{name_or_path}: recipe not found (a YAML path, or a shipped recipe: {', '.join(recipe_names())})"
    )


def merged(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``: mappings merge key by key, any other value of ``top`` replaces.

    Keys keep ``top``'s order, then come those only ``base`` has (head order decides the order
    in which heads are built, hence their initial weights).
    """
    out: dict[str, Any] = {}
    for key, value in top.items():
        below = base.get(key)
        if isinstance(below, Mapping) and isinstance(value, Mapping):
            out[key] = merged(below, value)
        else:
            out[key] = value
    out.update((key, value) for key, value in base.items() if key not in top)
    return out


def read_recipe_file(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A recipe file as a dict, its ``base:`` recipes (a name or a list, earliest first) merged under it."""
    if path.resolve() in seen:
        chain = " -> ".join(str(p) for p in (*seen, path.resolve()))
        raise RecipeError(f"{path}: 'base' recipes form a cycle ({chain})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise RecipeError(f"{path}: not valid YAML ({err})") from err
    if not isinstance(data, dict):
        raise RecipeError(f"{path}: a recipe must be a mapping at the top level")
    bases = data.pop("base", None) or []
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise RecipeError(f"{path}: 'base' must be a recipe name or a list of names, got {bases!r}")
    combined: dict[str, Any] = {}
    for name in bases:
        base_path = resolve_recipe_path(name, beside=path.parent)
        combined = merged(combined, read_recipe_file(base_path, (*seen, path.resolve())))
    return merged(combined, data)


def load_recipe(name_or_path: str, overrides: Sequence[str] = ()) -> Recipe:
    """Read a recipe YAML (with its ``base:`` recipes), apply dotted overrides and validate every key."""
    path = resolve_recipe_path(name_or_path)
    data = read_recipe_file(path)
    apply_overrides(data, overrides)
    return recipe_from_dict(data, str(path))


def _applies(pattern: str, heads: Mapping[str, Any], modalities: Mapping[str, Any]) -> bool:
    """Whether a ``train.freeze_epochs``/``lr_scale`` pattern can still match once a joint recipe is cut.

    Patterns into a head or a modality stem the cut removed go, and so do patterns into a hybrid
    CNN stem (``…embed.backbone…``) when no kept modality has one.
    """
    if pattern.startswith("heads."):
        return pattern.split(".")[1] in heads or not pattern.split(".")[1].isidentifier()
    if pattern.startswith("backbone.stems."):
        return pattern.split(".")[2] in modalities or not pattern.split(".")[2].isidentifier()
    if "embed.backbone" in pattern and modalities:
        return any(options.get("stem") == "cnn" for options in modalities.values())
    return True
