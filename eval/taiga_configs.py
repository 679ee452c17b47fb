"""The rows of the TAIGA tables as configs of the main recipe (ablation switches, class-imbalance
losses, single-task heads) and the paper's row each one stands beside.
"""

from __future__ import annotations

from taiga_losses import VARIANTS
from taiga_runs import Config

from spatialnet.config import load_recipe
from spatialnet.data.taiga import CATEGORICAL_NAMES

# backbone type -> (our row label, the paper's row in Tables IV and VII)
MODEL_ROWS: dict[str, tuple[str, str | None]] = {
    "seed000": ("Seed 000 CNN", "Proposed"),
    "pham": ("Pham 3D-CNN", "Pham Model"),
    "unet": ("U-Net", "U-Net"),
    "vit": ("SpatialNet ViT", None),
}
# ablation row: (letters switched on, the paper's row); R residual, D atrous, A attention,
# M multitask loss (the recipe's balancing, else fixed weights), C channel pooling (Eq. 6 doubling)
ABLATION: dict[str, tuple[str, str]] = {
    "Baseline": ("", "Baseline"),
    "Baseline + R": ("R", "Baseline + R"),
    "Baseline + RD": ("RD", "Baseline + RD"),
    "Baseline + RDA": ("RDA", "Baseline + RDA"),
    "Baseline + RDAM": ("RDAM", "Baseline + RDAM"),
    "Baseline + DAC": ("DAC", "Baseline + DAC"),
    "Baseline + RDAMC (full)": ("RDAMC", "Proposed"),
}
SWITCHES = {"R": "use_residual", "D": "use_atrous", "A": "use_attention", "C": "use_channel_doubling"}
LOSS_ROWS: dict[str, str | None] = {
    "cross-entropy": None,
    "weighted cross-entropy": "Cost-Sensitive",
    "focal": "Focal Loss without class weights",
    "focal + class weights": "Focal Loss with class weights",
}
FAMILY_OF_TYPE = {"pixel_classification": "classification", "pixel_regression": "regression"}


def ablation_config(main: str, letters: str) -> Config:
    """The main recipe with the switches of ``letters`` on and the others off."""
    settings = [
        f"backbone.options.{switch}={str(letter in letters).lower()}" for letter, switch in SWITCHES.items()
    ]
    if "M" not in letters:
        settings.append("loss.balancing=fixed")
    return Config(main, tuple(settings))


def loss_config(main: str, variant: str) -> Config:
    """The main recipe with every categorical head's loss and class weighting of ``variant``."""
    loss, weighting = VARIANTS[variant]
    settings = [f"heads.{n}.loss={loss}" for n in CATEGORICAL_NAMES]
    settings += [f"heads.{n}.class_weighting={weighting}" for n in CATEGORICAL_NAMES]
    return Config(main, tuple(settings))


def single_task_configs(main: str, epochs: int) -> dict[str, Config]:
    """One config per head of the main recipe: that head alone (and only its decoder, for seed000)."""
    recipe = load_recipe(main)
    configs = {}
    for name, spec in recipe.heads.items():
        # one head: validation reports no "overall/" aggregate, so select on the head's own loss
        settings = [f"train.epochs={epochs}", f"train.select_metric={name}/loss", "train.select_mode=min"]
        if recipe.backbone.type == "seed000":
            family = spec.get("family", FAMILY_OF_TYPE.get(spec["type"], "classification"))
            settings.append(f"backbone.options.families=[{family}]")
        configs[name] = Config(main, tuple(settings), heads=(name,))
    return configs


def model_label(recipe_name: str) -> tuple[str, str | None]:
    """Our row label and the paper's row for a recipe, by its backbone type."""
    kind = load_recipe(recipe_name).backbone.type
    label, paper = MODEL_ROWS.get(kind, (kind, None))
    return f"{label} (`{recipe_name}`)", paper
