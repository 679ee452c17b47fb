"""ViT backbone on timm's ``VisionTransformer`` (Dosovitskiy et al. 2021; seed 004's encoder).

The factory turns a :class:`~spatialnet.config.BackboneConfig` into a timm model and
exposes patch tokens, prefix tokens and the pooled vector to the task heads. Attention,
blocks and patch embedding are timm's; the optional ``conv`` stem is timm's ``ConvStem``
(early convolutions, Xiao et al. 2021), which makes from-scratch training on small data
converge much better than one linear patch projection; the ``cnn`` stem makes it the ViT
paper's hybrid over a pretrained CNN (:mod:`spatialnet.backbones.cnn_stem`).
"""

from __future__ import annotations

import dataclasses
import math
from functools import partial
from pathlib import Path
from typing import Any, cast

import timm
from timm.layers.hybrid_embed import HybridEmbed
from timm.layers.pos_embed import resample_abs_pos_embed
from timm.models._manipulate import adapt_input_conv
from timm.models.vision_transformer import VisionTransformer, checkpoint_filter_fn
from timm.models.vision_transformer_hybrid import ConvStem
from torch import Tensor, nn

from spatialnet.backbones.cnn_stem import cnn_stem_embed
from spatialnet.backbones.output import BackboneOutput
from spatialnet.backbones.registry import Backbone, NoOptions, register_backbone
from spatialnet.backbones.weight_files import read_weights_file
from spatialnet.config import BackboneConfig, differing_from_defaults, from_dict, with_preset
from spatialnet.errors import CheckpointError, RecipeError
from spatialnet.pretrained import bundled_folder

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "gelu": nn.GELU}


def resolve_backbone_config(config: BackboneConfig, source: str = "recipe") -> BackboneConfig:
    """A config built in Python with a ``preset``: its fields left at their defaults take the preset's.

    Recipes arrive resolved (:func:`spatialnet.config.with_preset`), with ``preset`` cleared.
    """
    if config.preset is None:
        return config
    explicit = differing_from_defaults(dataclasses.asdict(config))
    return from_dict(BackboneConfig, with_preset(explicit, source), source, "backbone.")


def conv_stem_embed(config: BackboneConfig) -> Any:
    """A ``HybridEmbed`` whose backbone is a stack of stride-2 3×3 convs reaching stride P."""
    depth = int(math.log2(config.patch_size))
    if 2**depth != config.patch_size or depth < 1:
        raise RecipeError(f"backbone.stem 'conv' needs a power-of-two patch_size, got {config.patch_size}")
    channels = tuple(config.embed_dim // 2 ** (depth - 1 - i) for i in range(depth))
    stem = ConvStem(in_chans=config.in_chans, depth=depth, channels=channels, stride=(2,) * depth)
    return partial(HybridEmbed, backbone=stem)


def build_vit(config: BackboneConfig) -> VisionTransformer:
    """A headless timm ``VisionTransformer`` for ``config`` (preset already resolved)."""
    if config.act not in ACTIVATIONS:
        raise RecipeError(f"'backbone.act' is {config.act!r}; expected one of: {', '.join(ACTIVATIONS)}")
    if config.img_size % config.patch_size:
        raise RecipeError(
            f"'backbone.img_size' {config.img_size} must be a multiple of "
            f"'backbone.patch_size' {config.patch_size}"
        )
    if config.embed_dim % config.num_heads:
        raise RecipeError(
            f"'backbone.embed_dim' {config.embed_dim} must be divisible by num_heads {config.num_heads}"
        )
    kwargs: dict[str, Any] = {"patch_size": config.patch_size}
    if config.stem == "conv":  # the conv stem reaches stride P itself; timm then embeds 1×1 "patches"
        kwargs.update(embed_layer=conv_stem_embed(config), patch_size=1)
    elif config.stem == "cnn":  # hybrid: the CNN reaches stride P; its feature cells are the patches
        embed = cnn_stem_embed(
            config.cnn, config.cnn_weights, config.cnn_stage, config.in_chans, config.patch_size, "backbone"
        )
        kwargs.update(embed_layer=embed, patch_size=1)
    elif config.stem != "patch":
        raise RecipeError(f"'backbone.stem' is {config.stem!r}; expected 'patch', 'conv' or 'cnn'")
    if config.global_pool not in ("token", "avg"):
        raise RecipeError(f"'backbone.global_pool' is {config.global_pool!r}; expected 'token' or 'avg'")
    if config.global_pool == "token" and not config.class_token:
        raise RecipeError("'backbone.global_pool' 'token' needs 'backbone.class_token: true'")
    return VisionTransformer(
        img_size=config.img_size,
        in_chans=config.in_chans,
        num_classes=0,
        global_pool=cast(Any, config.global_pool),  # validated above
        embed_dim=config.embed_dim,
        depth=config.depth,
        num_heads=config.num_heads,
        mlp_ratio=config.mlp_ratio,
        class_token=config.class_token,
        drop_rate=config.drop_rate,
        drop_path_rate=config.drop_path,
        act_layer=ACTIVATIONS[config.act],
        **kwargs,
    )


class ViTBackbone(Backbone):
    """timm ViT that returns :class:`BackboneOutput` instead of logits."""

    def __init__(self, config: BackboneConfig) -> None:
        super().__init__()
        self.config = resolve_backbone_config(config)
        self.map_channels = {}
        self.vit = build_vit(self.config)
        self.num_prefix_tokens = self.vit.num_prefix_tokens
        self.grid = (self.config.img_size // self.config.patch_size,) * 2
        if self.config.pretrained:
            load_pretrained(self, self.config.pretrained)

    @property
    def embed_dim(self) -> int:  # type: ignore[override]
        """Token width D."""
        return self.config.embed_dim

    def check_input(self, images: Tensor) -> None:
        """Refuse images whose band count or size the backbone was not built for."""
        expected = (self.config.in_chans, self.config.img_size, self.config.img_size)
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(
                f"backbone expects images of shape (B, {expected[0]}, {expected[1]}, {expected[2]}) "
                f"(in_chans={expected[0]}, img_size={expected[1]}), got {tuple(images.shape)}"
            )

    def forward(self, images: Tensor) -> BackboneOutput:  # noqa: D102
        self.check_input(images)
        x = self.vit.forward_features(images)
        pooled = self.vit.forward_head(x, pre_logits=True)
        return BackboneOutput(
            tokens=x[:, self.num_prefix_tokens :],
            prefix=x[:, : self.num_prefix_tokens],
            pooled=pooled,
            grid=self.grid,
            patch_size=self.config.patch_size,
        )

    def last_shared_parameter(self) -> Tensor:
        """The last block's FFN output weight: the 'last shared layer' GradNorm measures gradients on."""
        last_block: Any = self.vit.blocks[-1]
        weight = last_block.mlp.fc2.weight
        assert isinstance(weight, Tensor)
        return weight


@register_backbone("vit")
def vit_backbone(config: BackboneConfig, options: NoOptions) -> ViTBackbone:
    """The default backbone: a timm ViT built from the ``backbone`` fields."""
    return ViTBackbone(config)


def read_state_dict(source: str) -> dict[str, Tensor]:
    """Weights from a file (.safetensors, tensors-only .pth/.bin), a run or bundled model, or a timm name."""
    path = Path(source).expanduser()
    bundled = None if path.exists() else bundled_folder(source)
    path = bundled if bundled is not None else path
    if path.is_dir():  # a SpatialNet run or checkpoint folder: its model.safetensors
        found = [c / "model.safetensors" for c in (path, path / "best", path / "last")]
        path = next((f for f in found if f.is_file()), path / "model.safetensors")
    if path.suffix in (".safetensors", ".pth", ".pt", ".bin") or path.exists():
        return read_weights_file(path, "backbone.pretrained")
    try:
        model = timm.create_model(source, pretrained=True, num_classes=0)
    except Exception as err:  # timm raises RuntimeError/OSError/HF errors when offline
        raise CheckpointError(
            f"backbone.pretrained {source!r}: not a local file and timm could not load it "
            f"(offline, or weights not in the local cache: {type(err).__name__})"
        ) from err
    return dict(model.state_dict())


def load_pretrained(backbone: ViTBackbone, source: str) -> list[str]:
    """Load ViT weights, adapting the patch embedding to ``in_chans`` and resizing position embeddings.

    Returns the backbone keys that the weights did not provide (e.g. a conv stem).
    """
    model = backbone.vit
    raw = read_state_dict(source)
    own_prefix = "backbone.vit."
    if any(k.startswith(own_prefix) for k in raw):
        # a SpatialNet checkpoint (model.safetensors): the same architecture, stem included
        state = {k.removeprefix(own_prefix): v for k, v in raw.items() if k.startswith(own_prefix)}
        return _load_matching(backbone, state)
    state = {k.removeprefix("module.").removeprefix("vit."): v for k, v in raw.items()}
    proj_key = "patch_embed.proj.weight"
    if backbone.config.stem == "patch" and proj_key in state:
        weight = state[proj_key]
        if weight.shape[1] != backbone.config.in_chans:
            state[proj_key] = adapt_input_conv(backbone.config.in_chans, weight)
    else:
        state = {k: v for k, v in state.items() if not k.startswith("patch_embed.")}
    return _load_matching(backbone, checkpoint_filter_fn(state, model))


def _load_matching(backbone: ViTBackbone, state: dict[str, Tensor]) -> list[str]:
    """Load the tensors whose names and shapes fit (position embeddings resized); return the rest."""
    model = backbone.vit
    pos_embed = model.pos_embed
    if "pos_embed" in state and pos_embed is not None and state["pos_embed"].shape != pos_embed.shape:
        state["pos_embed"] = resample_abs_pos_embed(
            state["pos_embed"], new_size=list(backbone.grid), num_prefix_tokens=model.num_prefix_tokens
        )
    own = model.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(usable, strict=False)
    return sorted(set(own) - set(usable))
