"""Caption head: teacher-forced loss against its formula, and generation that learns captions."""

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from spatialnet.config import BackboneConfig, Recipe
from spatialnet.heads.fitting import Sentences, fit_heads
from spatialnet.model import SpatialNet

BACKBONE = BackboneConfig(preset="tiny", img_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=2)
CAPTIONS = [
    "there is a piece of green farmland",
    "many cars are parked in the parking lot",
    "a river goes through a dense forest",
]


def build(captions: list[str] = CAPTIONS, **head: object) -> SpatialNet:
    spec = {"type": "caption", "hidden_size": 32, "layers": 2, "attention_heads": 2, "max_length": 12}
    recipe = Recipe(backbone=BACKBONE, heads={"captions": {**spec, **head}})
    torch.manual_seed(0)
    return SpatialNet.from_recipe(recipe, fits=fit_heads(recipe, {"captions": Sentences(captions)}))


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


@pytest.mark.slow
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


# SCST: short captions from a small vocabulary, so that a few samples per image already find good ones
SHORT = ["green farmland here", "cars parked here", "dense forest here"]
REFERENCES = [[caption, caption.replace(" here", "")] for caption in SHORT]


def greedy_cider(model: SpatialNet, images: torch.Tensor) -> float:
    """Mean CIDEr-D of the greedy captions on the training corpus."""
    head = model.head("captions")
    model.eval()
    with torch.no_grad():
        captions = model.predict({"image": images, "generation": {"num_beams": 1}})["captions"]
    model.train()
    return float(head.reward()(captions, [[head.normalize(r) for r in refs] for refs in REFERENCES]).mean())


def candidate_reward(model: SpatialNet, batch: dict, draws: int = 8) -> float:
    """Mean CIDEr-D of the candidates (SCST's objective), averaged over several draws."""
    head = model.head("captions")
    with torch.no_grad():
        rewards = []
        for _ in range(draws):
            model(batch)
            rewards.append(head.last_reward)
    return sum(rewards) / draws


@pytest.mark.slow
@pytest.mark.parametrize(("candidates", "baseline"), [("sample", "mean"), ("beam", "mean")])
def test_self_critical_training_raises_the_reward_of_its_captions(candidates, baseline):
    torch.manual_seed(0)
    images = torch.randn(3, 3, 32, 32)
    model = build(SHORT, dropout=0.0, objective="xe")
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(20):  # cross-entropy first, as the recipes do: SCST needs sensible candidates
        optimizer.zero_grad()
        model({"image": images, "captions": SHORT}).losses["captions"].backward()
        optimizer.step()
    head = model.head("captions")
    head.config.objective, head.config.scst_candidates, head.config.scst_baseline = (
        "scst",
        candidates,
        baseline,
    )
    head.context.fit = dataclasses.replace(head.context.fit, references=REFERENCES)
    batch = {"image": images, "captions": SHORT, "references": REFERENCES}
    before = candidate_reward(model, batch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for _ in range(30):
        optimizer.zero_grad()
        model(batch).losses["captions"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    after = candidate_reward(model, batch)
    assert after > before + 0.5, (before, after)


def test_self_critical_loss_is_the_advantage_weighted_log_likelihood():
    from spatialnet.heads.caption import Candidates

    model = build(SHORT, objective="scst", scst_samples=2)
    head = model.head("captions")
    head.context.fit = dataclasses.replace(head.context.fit, references=REFERENCES)
    captions = [SHORT[0], "cars", "dense farmland", SHORT[1]]  # two candidates for each of two images
    log_probs = torch.tensor([[-1.0, -2.0, 0.0], [-0.5, 0.0, 0.0], [-1.0, -1.0, 0.0], [-3.0, -1.0, -1.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    loss = head.loss(Candidates(captions, log_probs, mask), {"references": REFERENCES[:2]})
    rewards = head.reward()(captions, [REFERENCES[0]] * 2 + [REFERENCES[1]] * 2).reshape(2, 2)
    # mean baseline of two samples: the other one's reward
    advantage = (rewards - rewards[:, ::-1]).flatten()
    expected = -(advantage * [-3.0, -0.5, -2.0, -5.0]).sum() / 8.0  # 8 real tokens
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_greedy_baseline_is_the_greedy_captions_reward():
    from spatialnet.heads.caption import Candidates

    model = build(SHORT, objective="scst", scst_samples=2, scst_baseline="greedy")
    head = model.head("captions")
    head.context.fit = dataclasses.replace(head.context.fit, references=REFERENCES)
    captions, greedy = ["cars parked", SHORT[1]], ["cars"]
    log_probs, mask = torch.tensor([[-1.0, -1.0], [-2.0, -1.0]]), torch.ones(2, 2)
    loss = head.loss(Candidates(captions, log_probs, mask, greedy), {"references": REFERENCES[1:2]})
    rewards = head.reward()(captions, [REFERENCES[1]] * 2)
    baseline = head.reward()(greedy, [REFERENCES[1]])[0]
    expected = -((rewards - baseline) * [-2.0, -3.0]).sum() / 4.0
    assert loss.item() == pytest.approx(expected, rel=1e-5)
