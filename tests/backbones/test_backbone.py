import pytest
import torch
from safetensors.torch import save_file
from timm.models.vision_transformer import VisionTransformer

from spatialnet.backbones.vit import ViTBackbone, resolve_backbone_config
from spatialnet.config import BackboneConfig, backbone_presets, recipe_from_dict
from spatialnet.errors import RecipeError


def tiny(**kw):
    base = {"preset": "tiny", "img_size": 32, "patch_size": 8, "embed_dim": 32, "depth": 2, "num_heads": 2}
    return BackboneConfig(**{**base, **kw})


def test_paper_preset_is_the_seed_configuration():
    config = resolve_backbone_config(BackboneConfig(preset="paper"))
    assert (
        config.img_size,
        config.patch_size,
        config.embed_dim,
        config.depth,
        config.num_heads,
        config.act,
    ) == (256, 16, 512, 12, 8, "relu")
    vit = ViTBackbone(config).vit
    assert vit.patch_embed.num_patches == 256  # (256/16)², not the paper's 1024
    assert isinstance(vit.blocks[0].mlp.act, torch.nn.ReLU)
    assert vit.blocks[0].mlp.fc1.out_features == 4 * 512


def test_explicit_fields_override_preset():
    config = resolve_backbone_config(BackboneConfig(preset="tiny", embed_dim=64, img_size=48))
    assert (config.embed_dim, config.img_size) == (64, 48)
    assert config.depth == backbone_presets()["tiny"]["depth"]


def test_a_recipe_resolves_its_preset_and_every_key_it_sets_wins():
    """``act: relu`` equals the field's default, yet a recipe that writes it beside preset tiny gets it."""
    recipe = recipe_from_dict({"backbone": {"preset": "tiny", "act": "relu", "depth": 2}})
    config = recipe.backbone
    assert (config.embed_dim, config.depth, config.num_heads, config.act) == (192, 2, 3, "relu")
    assert config.preset is None  # written out: config.json lists each field as built
    vit = ViTBackbone(config).vit
    assert len(vit.blocks) == 2 and isinstance(vit.blocks[0].mlp.act, torch.nn.ReLU)
    assert vit.embed_dim == 192


@pytest.mark.parametrize("stem", ["patch", "conv"])
@pytest.mark.parametrize("in_chans", [3, 7])
def test_outputs_tokens_prefix_and_pooled(stem, in_chans):
    torch.manual_seed(0)
    backbone = ViTBackbone(tiny(stem=stem, in_chans=in_chans)).eval()
    out = backbone(torch.randn(2, in_chans, 32, 32))
    assert out.tokens.shape == (2, 16, 32) and out.prefix.shape == (2, 1, 32) and out.pooled.shape == (2, 32)
    assert out.grid == (4, 4)
    assert torch.allclose(out.pooled, out.prefix[:, 0])  # token pooling = class token


def test_wrong_band_count_is_a_clear_error():
    backbone = ViTBackbone(tiny())
    with pytest.raises(ValueError, match=r"in_chans=3.*got \(1, 5, 32, 32\)"):
        backbone(torch.randn(1, 5, 32, 32))


def test_invalid_configs_are_refused():
    with pytest.raises(RecipeError, match="multiple of"):
        ViTBackbone(tiny(img_size=30))
    with pytest.raises(RecipeError, match="act"):
        ViTBackbone(tiny(act="swish"))
    with pytest.raises(RecipeError, match="preset"):
        ViTBackbone(BackboneConfig(preset="huge"))


def test_pretrained_file_adapts_channels_and_resizes_position_embedding(tmp_path):
    torch.manual_seed(0)
    source = VisionTransformer(
        img_size=16, patch_size=8, in_chans=3, embed_dim=32, depth=2, num_heads=2, num_classes=5
    )
    path = tmp_path / "vit.safetensors"
    save_file(source.state_dict(), str(path))
    backbone = ViTBackbone(tiny(in_chans=6, pretrained=str(path)))
    vit = backbone.vit
    assert vit.pos_embed.shape == (1, 1 + 16, 32)  # 2×2 grid resized to 4×4
    assert torch.equal(vit.blocks[1].attn.qkv.weight, source.blocks[1].attn.qkv.weight)
    assert torch.equal(vit.cls_token, source.cls_token)
    # timm's adapt_input_conv repeats the RGB filters over 6 bands and rescales by 3/6
    expected = source.patch_embed.proj.weight.repeat(1, 2, 1, 1) * 0.5
    assert torch.allclose(vit.patch_embed.proj.weight, expected)


def test_missing_pretrained_file_is_a_clear_error(tmp_path):
    with pytest.raises(Exception, match="pretrained weights file not found"):
        ViTBackbone(tiny(pretrained=str(tmp_path / "nope.safetensors")))


def test_a_spatialnet_run_warm_starts_the_backbone_stem_included(tmp_path):
    from spatialnet.checkpoint import save_checkpoint
    from spatialnet.config import Recipe
    from spatialnet.model import SpatialNet

    torch.manual_seed(0)
    recipe = Recipe(backbone=tiny(stem="conv"), heads={"scene": {"type": "classification", "num_classes": 3}})
    trained = SpatialNet.from_recipe(recipe)
    save_checkpoint(tmp_path / "run" / "best", recipe, trained, {})
    torch.manual_seed(1)
    backbone = ViTBackbone(tiny(stem="conv", pretrained=str(tmp_path / "run")))
    for name, tensor in trained.backbone.vit.state_dict().items():
        assert torch.equal(backbone.vit.state_dict()[name], tensor), name
