"""SpatialNet-ViT: one transformer trunk shared by every modality (seed 004, Fig. 1 + design card).

Each modality (RGB tiles, hyperspectral windows, …) has its own patch embedding ("stem": linear
patches, a conv stem, or a pretrained CNN's feature map as in the hybrid ViT) and its own learned
position embedding; the tokens then go through the same timm ``Block`` stack and
final norm, so land-use, captions, answers and forest variables are all read from one trunk.
Pooling is the mean of the patch tokens (no class token: the token grid is what dense heads read).
A stem takes any image size that is a multiple of its patch size (datasets of one modality may
differ, e.g. 96 px captions and 128 px VQA tiles); position embeddings are then resampled from
the nominal grid, as timm's ``dynamic_img_size``.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any, cast

import torch
from timm.layers.patch_embed import PatchEmbed
from timm.layers.pos_embed import resample_abs_pos_embed
from timm.layers.weight_init import trunc_normal_
from timm.models._manipulate import adapt_input_conv, named_apply
from timm.models.vision_transformer import Block, init_weights_vit_timm
from torch import Tensor, nn

from spatialnet.backbones.cnn_stem import cnn_stem_embed
from spatialnet.backbones.output import BackboneOutput
from spatialnet.backbones.registry import Backbone, InputSpec, register_backbone
from spatialnet.backbones.vit import ACTIVATIONS, conv_stem_embed, read_state_dict, resolve_backbone_config
from spatialnet.config import BackboneConfig
from spatialnet.errors import RecipeError


@dataclasses.dataclass
class ModalityOptions:
    """The input of one modality: bands, square size, patch size and stem."""

    in_chans: int = 3
    img_size: int = 256
    patch_size: int = 16
    stem: str = "patch"  # patch: linear patch embedding; conv: strided 3×3 convs; cnn: a timm CNN's map
    cnn: str = "tf_efficientnet_lite0"  # stem cnn: timm model (hybrid ViT, see backbones.cnn_stem)
    cnn_weights: str | None = None  # stem cnn: None (random) | packaged | timm | a local weights file
    cnn_stage: int | None = None  # stem cnn: None = the whole trunk; N = cut after feature stage N


@dataclasses.dataclass
class SharedViTOptions:
    """``backbone.options`` of the ``shared_vit`` type: the modalities the trunk reads."""

    modalities: dict[str, ModalityOptions] = dataclasses.field(
        default_factory=lambda: {"rgb": ModalityOptions()}
    )


class ModalityStem(nn.Module):
    """Patch embedding and position embedding of one modality: image → (B, N, D) tokens."""

    def __init__(self, name: str, options: ModalityOptions, trunk: BackboneConfig) -> None:
        super().__init__()
        if options.img_size % options.patch_size:
            raise RecipeError(
                f"'backbone.options.modalities.{name}': img_size {options.img_size} must be a multiple "
                f"of patch_size {options.patch_size}"
            )
        self.name = name
        self.options = options
        if options.stem == "conv":
            config = dataclasses.replace(trunk, in_chans=options.in_chans, patch_size=options.patch_size)
            self.embed = conv_stem_embed(config)(
                img_size=options.img_size, patch_size=1, in_chans=options.in_chans, embed_dim=trunk.embed_dim
            )
        elif options.stem == "cnn":
            self.embed = cnn_stem_embed(
                options.cnn,
                options.cnn_weights,
                options.cnn_stage,
                options.in_chans,
                options.patch_size,
                f"backbone.options.modalities.{name}",
            )(img_size=options.img_size, patch_size=1, in_chans=options.in_chans, embed_dim=trunk.embed_dim)
        elif options.stem == "patch":
            self.embed = PatchEmbed(
                options.img_size, options.patch_size, options.in_chans, trunk.embed_dim, strict_img_size=False
            )
        else:
            raise RecipeError(
                f"'backbone.options.modalities.{name}.stem' is {options.stem!r}; "
                "expected 'patch', 'conv' or 'cnn'"
            )
        self.grid = (options.img_size // options.patch_size,) * 2
        self.pos_embed = nn.Parameter(torch.zeros(1, self.grid[0] * self.grid[1], trunk.embed_dim))
        trunc_normal_(self.pos_embed, std=0.02)

    def grid_of(self, images: Tensor) -> tuple[int, int]:
        """The token grid of ``images`` (any multiple of the patch size, with this stem's bands)."""
        patch, bands = self.options.patch_size, self.options.in_chans
        if images.ndim != 4 or images.shape[1] != bands or images.shape[2] % patch or images.shape[3] % patch:
            raise ValueError(
                f"the {self.name!r} stem expects images of shape (B, {bands}, H, W) with H and W multiples "
                f"of {patch} (nominal {self.options.img_size}), got {tuple(images.shape)}"
            )
        return images.shape[2] // patch, images.shape[3] // patch

    def forward(self, images: Tensor) -> Tensor:
        """Tokens plus position embeddings (resampled bilinearly when the grid is not the nominal one)."""
        grid = self.grid_of(images)
        tokens: Tensor = self.embed(images)
        if grid == self.grid:
            return tokens + self.pos_embed
        return tokens + resample_abs_pos_embed(
            self.pos_embed, list(grid), list(self.grid), num_prefix_tokens=0
        )


class SharedViT(Backbone):
    """Modality stems in front of one timm transformer trunk."""

    def __init__(self, config: BackboneConfig, options: SharedViTOptions) -> None:
        super().__init__()
        self.config = resolve_backbone_config(config)
        if not options.modalities:
            raise RecipeError("'backbone.options.modalities' is empty; list at least one modality")
        if self.config.act not in ACTIVATIONS:
            raise RecipeError(
                f"'backbone.act' is {self.config.act!r}; expected one of: {', '.join(ACTIVATIONS)}"
            )
        if self.config.embed_dim % self.config.num_heads:
            raise RecipeError(
                f"'backbone.embed_dim' {self.config.embed_dim} must be divisible by num_heads "
                f"{self.config.num_heads}"
            )
        self.map_channels = {}
        self.modalities = tuple(options.modalities)
        self.stems = nn.ModuleDict(
            {n: ModalityStem(n, o, self.config) for n, o in options.modalities.items()}
        )
        self.pos_drop = nn.Dropout(self.config.drop_rate)
        rates = torch.linspace(0, self.config.drop_path, self.config.depth).tolist()
        norm_layer = partial(nn.LayerNorm, eps=1e-6)
        self.blocks = nn.Sequential(
            *[
                Block(
                    dim=self.config.embed_dim,
                    num_heads=self.config.num_heads,
                    mlp_ratio=self.config.mlp_ratio,
                    qkv_bias=True,
                    drop_path=rate,
                    norm_layer=cast(Any, norm_layer),  # timm's own default: LayerNorm(eps=1e-6)
                    act_layer=ACTIVATIONS[self.config.act],
                )
                for rate in rates
            ]
        )
        self.norm = norm_layer(self.config.embed_dim)
        for block in self.blocks:
            named_apply(init_weights_vit_timm, block)
        if self.config.pretrained:
            load_trunk_weights(self, self.config.pretrained)

    @property
    def embed_dim(self) -> int:  # type: ignore[override]
        """Token width D, shared by every modality."""
        return self.config.embed_dim

    def input_spec(self, modality: str = "") -> InputSpec:
        """Size, patch and bands of ``modality``'s images."""
        options = self._stem(modality).options
        return InputSpec(options.img_size, options.patch_size, options.in_chans)

    def _stem(self, modality: str) -> ModalityStem:
        if modality not in self.stems:
            raise ValueError(
                f"modality {modality!r} has no stem; this backbone reads: {', '.join(self.stems)}"
            )
        stem = self.stems[modality]
        assert isinstance(stem, ModalityStem)
        return stem

    def forward(self, images: Tensor, modality: str = "") -> BackboneOutput:  # noqa: D102
        stem = self._stem(modality)
        grid = stem.grid_of(images)
        tokens = self.norm(self.blocks(self.pos_drop(stem(images))))
        return BackboneOutput(
            tokens=tokens,
            prefix=tokens.new_zeros((tokens.shape[0], 0, tokens.shape[2])),
            pooled=tokens.mean(dim=1),
            grid=grid,
            patch_size=stem.options.patch_size,
        )

    def encode(self, images: Tensor, modality: str = "") -> BackboneOutput:  # noqa: D102
        output: BackboneOutput = self(images, modality)
        return output

    def last_shared_parameter(self) -> Tensor:
        """The last trunk block's FFN output weight (GradNorm's W): shared by every task."""
        last: Any = self.blocks[-1]
        weight = last.mlp.fc2.weight
        assert isinstance(weight, Tensor)
        return weight


@register_backbone("shared_vit", SharedViTOptions)
def shared_vit_backbone(config: BackboneConfig, options: SharedViTOptions) -> SharedViT:
    """SpatialNet-ViT: modality stems and one shared trunk."""
    return SharedViT(config, options)


def load_trunk_weights(backbone: SharedViT, source: str) -> list[str]:
    """Start from ViT weights (a file, a SpatialNet run or a cached timm name); returns keys left as built.

    The trunk (``blocks``, ``norm``) loads where shapes match; each ``patch`` stem takes the patch
    projection adapted to its band count and the position embedding resampled to its grid.
    """
    raw = read_state_dict(source)
    if any(k.startswith("backbone.") for k in raw):  # a SpatialNet checkpoint
        raw = {k.removeprefix("backbone."): v for k, v in raw.items() if k.startswith("backbone.")}
        raw = {k.removeprefix("vit."): v for k, v in raw.items()}
    state = {k.removeprefix("module."): v for k, v in raw.items()}
    own = backbone.state_dict()
    for name, stem in backbone.stems.items():
        assert isinstance(stem, ModalityStem)
        proj, pos = "patch_embed.proj.weight", "pos_embed"
        if stem.options.stem == "patch" and proj in state:
            weight = state[proj]
            if weight.shape[-1] == stem.options.patch_size:
                state[f"stems.{name}.embed.proj.weight"] = adapt_input_conv(stem.options.in_chans, weight)
                if "patch_embed.proj.bias" in state:
                    state[f"stems.{name}.embed.proj.bias"] = state["patch_embed.proj.bias"]
        if pos in state:
            prefix = state[pos].shape[1] - round(state[pos].shape[1] ** 0.5) ** 2
            state[f"stems.{name}.pos_embed"] = resample_abs_pos_embed(
                state[pos], new_size=list(stem.grid), num_prefix_tokens=prefix
            )[:, prefix:]
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not usable:
        raise RecipeError(f"backbone.pretrained {source!r}: no tensor fits the shared trunk")
    backbone.load_state_dict(usable, strict=False)
    return sorted(set(own) - set(usable))
