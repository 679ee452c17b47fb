"""One VQA head across datasets: answers restricted per question set, settings merged, weights
transferred to a head that learned other answers and words."""

import math
from pathlib import Path

import pytest
import torch

from spatialnet.config import BackboneConfig, Recipe
from spatialnet.data.rsvqa.answers import ANSWERS_BY_TYPE, LR_ANSWERS
from spatialnet.errors import RecipeError
from spatialnet.heads.fitting import Sentences, fit_heads
from spatialnet.heads.vqa import VQAHead
from spatialnet.model import SpatialNet
from spatialnet.text.tokenizer import extended_tokenizer, train_word_tokenizer
from tests.helpers import tiny_vqa_spec

BACKBONE = BackboneConfig(preset="tiny", img_size=16, patch_size=8, embed_dim=32, depth=1, num_heads=2)
RSVQA_SETS = {kind: list(answers) for kind, answers in ANSWERS_BY_TYPE.items()}
RSIVQA_SETS = {
    "theme": ["harbor", "overpass"],
    "presence": ["yes", "no"],
    "count": ["zero", "one", "two"],
    "location": ["center", "top left corner", "i cannot see it"],
}
BOTH = {"rsvqa_lr": RSVQA_SETS, "rsivqa": RSIVQA_SETS}
UNION = list(dict.fromkeys([*LR_ANSWERS, *(a for answers in RSIVQA_SETS.values() for a in answers)]))
QUESTIONS = ["How many cars in the picture?", "What is the theme of this picture?", "Is there a road?"]


def _model(questions=QUESTIONS, **head):
    spec = {**_spec(), "answers": UNION, "answer_sets": BOTH, **head}
    recipe = Recipe(backbone=BACKBONE, heads={"vqa": spec})
    return SpatialNet.from_recipe(recipe, fits=fit_heads(recipe, {"vqa": Sentences(questions)}))


def _answers(model, batch):
    head = model.head("vqa")
    with torch.no_grad():
        probabilities = model.predict(batch)["vqa"]
    return [head.answers[i] for i in probabilities.argmax(dim=1).tolist()], probabilities


def test_each_question_is_answered_within_its_set_and_type():
    """The same count question is answered in words for RSIVQA and with a bin for RSVQA-LR."""
    model = _model().eval()
    head = model.head("vqa")
    with torch.no_grad():  # a classifier that prefers "yes", then "two", then "between 10 and 100"
        final = head.classifier[-1]
        final.weight.zero_()
        final.bias.zero_()
        for answer, logit in (("yes", 9.0), ("two", 5.0), ("between 10 and 100", 3.0), ("overpass", 1.0)):
            final.bias[head.answer_index[answer]] = logit
    question = "How many cars in the picture?"
    batch = {
        "image": torch.zeros(2, 3, 16, 16),
        "question": [[question, "What is the theme of this picture?"], [question]],
        "question_set": ["rsivqa", "rsvqa_lr"],
    }
    answers, probabilities = _answers(model, batch)
    assert answers == ["two", "overpass", "between 10 and 100"]
    allowed = {(0, "rsivqa", "count"), (1, "rsivqa", "theme"), (2, "rsvqa_lr", "count")}
    for row, name, kind in allowed:
        inside = [head.answer_index[a] for a in BOTH[name][kind]]
        assert float(probabilities[row, inside].sum()) == pytest.approx(1.0)
    # the question types come from each set's own rules when the batch does not give them
    assert head.question_types(batch) == ["count", "theme", "count"]


def test_a_question_without_a_set_is_answered_in_the_default_set():
    model = _model().eval()
    batch = {"image": torch.zeros(1, 3, 16, 16), "question": [["How many cars in the picture?"]]}
    head = model.head("vqa")
    assert head.default_set == "rsivqa"  # alphabetical unless the recipe names one
    assert _model(default_question_set="rsvqa_lr").head("vqa").default_set == "rsvqa_lr"
    answers, _ = _answers(model, batch)
    assert answers[0] in RSIVQA_SETS["count"]
    with torch.no_grad():
        summary = head.summarize(model.predict(batch)["vqa"], 0, question="How many cars in the picture?")
    assert (summary["type"], summary["question_set"]) == ("count", "rsivqa")
    with pytest.raises(RecipeError, match="'default_question_set' is 'nope'; expected one of its answer"):
        _model(default_question_set="nope")


def test_scores_are_per_question_set():
    model = _model().eval()
    head = model.head("vqa")
    targets = [
        {"question_id": 1, "type": "count", "answer": "two", "question_set": "rsivqa", "image_id": 0},
        {"question_id": 2, "type": "theme", "answer": "harbor", "question_set": "rsivqa", "image_id": 0},
    ]
    probabilities = torch.zeros(2, len(head.answers))
    probabilities[0, head.answer_index["two"]] = 1.0
    probabilities[1, head.answer_index["overpass"]] = 1.0
    scores = head.score(probabilities, targets)
    assert (scores["count"], scores["theme"], scores["AA"], scores["OA"]) == (1.0, 0.0, 0.5, 0.5)
    assert "mean3" not in scores  # RSVQA's own average
    mixed = [*targets, {**targets[0], "question_id": 3, "question_set": "rsvqa_lr", "answer": "0"}]
    with pytest.raises(Exception, match="several question sets"):
        head.score(torch.cat([probabilities, probabilities[:1]]), mixed)


def test_settings_of_two_datasets_merge():
    rsvqa = {"answer_sets": {"rsvqa_lr": RSVQA_SETS}, "answers": list(LR_ANSWERS)}
    rsivqa = {"answer_sets": {"rsivqa": RSIVQA_SETS}, "answers": [a for v in RSIVQA_SETS.values() for a in v]}
    merged = VQAHead.merge_settings([rsvqa, rsivqa])
    assert merged["answer_sets"] == BOTH
    assert merged["answers"] == UNION  # yes/no once


def test_unknown_answers_count_wrong_in_evaluation_but_fail_training():
    model = _model()
    batch = {
        "image": torch.zeros(1, 3, 16, 16),
        "question": [["How many cars in the picture?", "Is there a road?"]],
        "answer": [["forty", "yes"]],
        "question_set": ["rsivqa"],
    }
    with pytest.raises(Exception, match=r"answers \['forty'\] are not in the head's answer list"):
        model(batch)
    model.eval()
    with torch.no_grad():
        loss = model(batch).losses["vqa"]
    assert math.isfinite(float(loss))


def test_extended_vocabulary_keeps_every_old_id():
    old = train_word_tokenizer(["Is there a road?", "How many roads are there?"])
    new = extended_tokenizer(old, ["Is there a small heath?", "Is there a heath?", "Is there a road?"])
    vocabulary, old_vocabulary = new.get_vocab(), old.get_vocab()
    assert {w: vocabulary[w] for w in old_vocabulary} == old_vocabulary
    assert vocabulary["heath"] == len(old_vocabulary) and vocabulary["small"] == len(old_vocabulary) + 1
    assert new("Is there a heath?")["input_ids"][-2] == vocabulary["heath"]
    assert extended_tokenizer(old, ["Is there a road?"]) is old  # nothing new: the same tokenizer
    assert "rare" not in extended_tokenizer(old, ["a rare word"], min_frequency=2).get_vocab()


def test_a_head_trained_on_other_answers_keeps_what_both_share(tmp_path: Path):
    """Fine-tuning an RSVQA head on RSIVQA: shared answers and words keep their rows, the rest is new."""
    torch.manual_seed(0)
    rsvqa_questions = ["Is there a road?", "How many buildings are there?"]
    source = _model(rsvqa_questions, answers=list(LR_ANSWERS), answer_sets={"rsvqa_lr": RSVQA_SETS})
    head = source.head("vqa")
    head.save_files(tmp_path)
    saved_state = {k: v.clone() for k, v in head.state_dict().items()}
    saved_config = {"answers": list(LR_ANSWERS)}

    fits = VQAHead.fit(_model().head("vqa").config, Sentences(QUESTIONS), tmp_path)
    recipe = Recipe(backbone=BACKBONE, heads={"vqa": {**_spec(), "answers": UNION, "answer_sets": BOTH}})
    target = SpatialNet.from_recipe(recipe, fits={"vqa": fits}).head("vqa")
    state, note = target.transferred(saved_state, saved_config, tmp_path)
    target.load_state_dict(state)

    rows, old_rows = target.classifier[-1].weight, saved_state["classifier.4.weight"]
    for answer in LR_ANSWERS:
        assert torch.equal(rows[target.answer_index[answer]], old_rows[LR_ANSWERS.index(answer)])
    embeddings = target.encoder.embeddings.word_embeddings.weight
    old_vocabulary = head.tokenizer.get_vocab()
    for word, index in old_vocabulary.items():
        assert torch.equal(embeddings[target.tokenizer.get_vocab()[word]], saved_state[_WORDS][index])
    assert target.tokenizer.get_vocab()["theme"] >= len(old_vocabulary)  # a new word, appended
    kept = "kept 9 of 9 answers (yes, no, rural, urban, 0, between 0 and 10, …)"
    assert note.startswith(f"{kept}, added 8 (harbor")
    assert note.endswith(f"kept {len(old_vocabulary)} words, added 8 (picture, the, cars, in, of, theme, …)")


_WORDS = "encoder.embeddings.word_embeddings.weight"


def _spec():
    return tiny_vqa_spec(dropout=0.0)


def test_balanced_types_weigh_each_question_by_its_type_count():
    """With balance_types the loss is Σ CE_q / n_type(q) over Σ 1 / n_type(q): each type as in AA."""
    counts = {"rsivqa": {"theme": 10, "presence": 40, "count": 20, "location": 5}}
    model = _model(balance_types=True, type_counts=counts, label_smoothing=0.0)
    questions = [
        "What is the theme of this picture?",
        "Does this picture contain trees?",
        "How many cars in the picture?",
    ]
    batch = {
        "image": torch.zeros(1, 3, 16, 16),
        "question": [questions],
        "answer": [["harbor", "yes", "two"]],
        "question_set": ["rsivqa"],
    }
    head = model.head("vqa")
    assert head.question_weights(batch).tolist() == pytest.approx([0.1, 0.025, 0.05])
    model.eval()
    with torch.no_grad():
        output = model(batch)
        logits = output.outputs["vqa"].logits
        each = torch.nn.functional.cross_entropy(
            logits, torch.tensor([head.answer_index[a] for a in ("harbor", "yes", "two")]), reduction="none"
        )
        weights = torch.tensor([0.1, 0.025, 0.05])
        assert float(output.losses["vqa"]) == pytest.approx(float((weights * each).sum() / weights.sum()))
    plain = _model(label_smoothing=0.0).head("vqa")
    assert plain.question_weights(batch).tolist() == [1.0, 1.0, 1.0]
    needs = "balance_types needs the training count of 'count' questions of 'rsivqa'"
    with pytest.raises(RecipeError, match=needs):
        _model(balance_types=True).head("vqa").question_weights(batch)
