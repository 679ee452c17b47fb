"""The VQA head: both fusions learn image-dependent answers; count regression answers count questions."""

import math

import pytest
import torch

from spatialnet.config import BackboneConfig, Recipe
from spatialnet.data.rsvqa.answers import COUNT_BINS
from spatialnet.errors import DataError, RecipeError
from spatialnet.heads.fitting import Sentences, fit_heads
from spatialnet.model import SpatialNet

BACKBONE = BackboneConfig(preset="tiny", img_size=16, patch_size=8, embed_dim=32, depth=1, num_heads=2)
QUESTIONS = ["Is there a water area?", "How many buildings are there?"]


def _model(**head):
    spec = {"type": "vqa", "target": "answer", "hidden_size": 32, "layers": 1, "attention_heads": 2}
    spec.update(fusion_layers=1, dropout=0.0, **head)
    recipe = Recipe(backbone=BACKBONE, heads={"vqa": spec})
    return SpatialNet.from_recipe(recipe, fits=fit_heads(recipe, {"vqa": Sentences(QUESTIONS)}))


def _batch():
    """Bright images have water and 3 buildings; dark ones neither. Same questions for both."""
    images = torch.cat([torch.full((4, 3, 16, 16), 1.0), torch.full((4, 3, 16, 16), -1.0)])
    images += 0.1 * torch.randn(images.shape, generator=torch.Generator().manual_seed(0))
    bright = [True] * 4 + [False] * 4
    return {
        "image": images,
        "question": [list(QUESTIONS) for _ in bright],
        "answer": [["yes", "between 0 and 10"] if b else ["no", "0"] for b in bright],
        "count": [[math.nan, 3.0] if b else [math.nan, 0.0] for b in bright],
        "question_type": [["presence", "count"] for _ in bright],
    }


def _fit(model, batch, steps):
    """Full-batch Adam steps on the VQA loss."""
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        loss = model(batch).losses["vqa"]
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()


@pytest.mark.slow
@pytest.mark.parametrize("fusion", ["cross_attention", "product"])
def test_answers_depend_on_the_image(fusion):
    torch.manual_seed(0)
    model = _model(fusion=fusion)
    batch = _batch()
    _fit(model, batch, steps=80)
    model.eval()
    with torch.no_grad():
        probabilities = model.predict(batch)["vqa"]
    head = model.head("vqa")
    answers = [head.answers[i] for i in probabilities.argmax(dim=1).tolist()]
    expected = [a for answers_of_image in batch["answer"] for a in answers_of_image]
    assert answers == expected  # the same question gets opposite answers on bright and dark images


@pytest.mark.slow
def test_count_regression_answers_count_questions_in_official_bins():
    torch.manual_seed(0)
    model = _model(count_weight=1.0, count_answer="regression")
    batch = _batch()
    _fit(model, batch, steps=120)
    model.eval()
    with torch.no_grad():
        output = model(batch).outputs["vqa"]
        probabilities = model.predict(batch)["vqa"]
    counts = torch.expm1(output.log_count[1::2])
    assert torch.allclose(counts[:4], torch.full((4,), 3.0), atol=0.5)
    assert torch.allclose(counts[4:], torch.zeros(4), atol=0.5)
    head = model.head("vqa")
    count_rows = probabilities[1::2]
    assert set(count_rows.max(dim=1).values.tolist()) == {1.0}  # answered by the regression, one-hot
    assert [head.answers[i] for i in count_rows.argmax(dim=1).tolist()] == ["between 0 and 10"] * 4 + [
        "0"
    ] * 4


def test_a_batch_without_questions_skips_the_head_at_prediction():
    model = _model().eval()
    with torch.no_grad():
        assert model.predict({"image": torch.zeros(1, 3, 16, 16)}) == {}


@pytest.mark.parametrize(
    ("head", "message"),
    [
        ({"fusion": "concat"}, "'fusion' is 'concat'; expected 'cross_attention' or 'product'"),
        ({"answers": ["yes", "yes"]}, "'answers' must be a non-empty list without repeats"),
        ({"count_answer": "regression"}, "count_answer 'regression' needs count_weight > 0"),
        ({"hidden_size": 30}, "hidden_size 30 must be divisible by attention_heads 4"),
    ],
)
def test_bad_recipes_are_refused(head, message):
    with pytest.raises(RecipeError, match=message):
        _model(**{"attention_heads": 4, **head} if "hidden_size" in head else head)


def test_unknown_answers_in_training_data_are_named():
    model = _model()
    batch = {**_batch(), "answer": [["maybe", "0"]] + [["no", "0"]] * 7}
    with pytest.raises(DataError, match=r"answers \['maybe'\] are not in the head's answer list"):
        model(batch)


def test_answers_fit_the_question_type():
    """A model trained to say "yes" to everything still answers a count question with a count bin."""
    torch.manual_seed(0)
    questions = ["How many buildings are there?", "Is it a rural or an urban area?", "Is there a road?"]
    batch = {"image": torch.zeros(3, 3, 16, 16), "question": [[q] for q in questions]}
    for restrict, expected in ((True, ["between 0 and 10", "rural", "yes"]), (False, ["yes"] * 3)):
        model = _model(restrict_answers=restrict).eval()
        head = model.head("vqa")
        with torch.no_grad():  # a classifier biased towards "yes", then "between 0 and 10", then "rural"
            final = head.classifier[-1]
            final.weight.zero_()
            final.bias.copy_(torch.tensor([5.0, 0.0, 1.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0]))
            probabilities = model.predict(batch)["vqa"]
        assert [head.answers[i] for i in probabilities.argmax(dim=1).tolist()] == expected
        if restrict:  # answers outside the type get probability 0; the allowed ones share all of it
            count_bins = [head.answer_index[a] for a in COUNT_BINS]
            assert float(probabilities[0, head.answer_index["yes"]]) == 0.0
            assert float(probabilities[0].sum()) == pytest.approx(1.0)
            assert float(
                probabilities[1, [head.answer_index["rural"], head.answer_index["urban"]]].sum()
            ) == (pytest.approx(1.0))
            assert float(probabilities[0, count_bins].sum()) == pytest.approx(1.0)
