"""Caption head: teacher-forced loss against its formula, and generation that learns captions."""

import pytest
import torch
import torch.nn.functional as F

from spatialnet.config import BackboneConfig, Recipe
from spatialnet.model import SpatialNet

BACKBONE = BackboneConfig(preset="tiny", img_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=2)
CAPTIONS = [
    "there is a piece of green farmland",
    "many cars are parked in the parking lot",
    "a river goes through a dense forest",
]


def build(**head: object) -> SpatialNet:
    spec = {"type": "caption", "hidden_size": 32, "layers": 2, "attention_heads": 2, "max_length": 12}
    recipe = Recipe(backbone=BACKBONE, heads={"captions": {**spec, **head}})
    torch.manual_seed(0)
    return SpatialNet.from_recipe(recipe, texts=lambda key: CAPTIONS)


def test_loss_is_next_word_cross_entropy_over_real_tokens():
    model = build(dropout=0.0)
    batch = {"image": torch.randn(3, 3, 32, 32), "captions": ["a river", "many cars are parked", "a"]}
    out = model(batch)
    head = model.head("captions")
    ids, mask = head.encode_text(batch["captions"], torch.device("cpu"))
    logits = out.outputs["captions"]
    # predict token t+1 from tokens ≤ t, only where token t+1 is real (not padding)
    terms = [
        F.cross_entropy(logits[b, t][None], ids[b, t + 1][None])
        for b in range(3)
        for t in range(ids.shape[1] - 1)
        if mask[b, t + 1]
    ]
    assert out.losses["captions"].item() == pytest.approx(torch.stack(terms).mean().item(), rel=1e-5)
    smoothed = build(dropout=0.0, label_smoothing=0.2)(batch).losses["captions"]
    assert smoothed.item() != pytest.approx(out.losses["captions"].item())


@pytest.mark.parametrize("num_beams", [1, 3])
def test_learns_to_caption_distinct_images(num_beams):
    torch.manual_seed(0)
    images = torch.randn(3, 3, 32, 32)
    model = build(dropout=0.0, num_beams=num_beams)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    batch = {"image": images, "captions": CAPTIONS}
    for _ in range(150):
        optimizer.zero_grad()
        model(batch).losses["captions"].backward()
        optimizer.step()
    model.eval()
    assert model.predict({"image": images})["captions"] == CAPTIONS


def test_generation_settings_reach_generate():
    model = build(num_beams=3, no_repeat_ngram_size=2).eval()
    features = model.backbone(torch.randn(2, 3, 32, 32))
    head = model.head("captions")
    ids = head.generate_ids(features)
    assert ids.shape[0] == 2 and ids.shape[1] <= 12
    for row in ids.tolist():
        bigrams = list(zip(row, row[1:], strict=False))
        assert len(bigrams) == len(set(bigrams))  # no 2-gram repeats
    special = {head.pad_id, head.bos_id, head.unk_id}
    assert not special & set(sum((row[1:] for row in ids.tolist()), []))  # never generated
