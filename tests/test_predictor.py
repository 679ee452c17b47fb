"""Batched prediction equals one image at a time; decoding options reach the caption head."""

from __future__ import annotations

import pytest

from spatialnet.errors import DataError
from spatialnet.predictor import Predictor


@pytest.fixture(scope="module")
def predictor(joint_run):
    return Predictor.from_run(joint_run, "cpu")


@pytest.fixture(scope="module")
def images(predictor, tiny_world):
    return [predictor.load(p) for p in sorted((tiny_world / "rsvqa_lr" / "Images_LR").iterdir())[:3]]


def test_a_batch_of_images_gets_the_predictions_of_each_image_alone(predictor, images):
    batched = predictor.predict_arrays(images, top_k=3)
    for image, together in zip(images, batched, strict=True):
        alone = predictor.predict_array(image, top_k=3)
        assert together["captions"] == alone["captions"]
        assert [c["label"] for c in together["landuse"]] == [c["label"] for c in alone["landuse"]]
        for a, b in zip(together["landuse"], alone["landuse"], strict=True):
            assert a["probability"] == pytest.approx(b["probability"], abs=1e-5)


def test_each_image_answers_its_own_question_and_tasks_limit_the_heads(predictor, images):
    questions = ["How many buildings are there?", "Is there a road?", "Is it a rural or an urban area?"]
    batched = predictor.predict_arrays(images, questions=questions, tasks={"vqa"})
    for image, question, together in zip(images, questions, batched, strict=True):
        assert set(together) == {"vqa"}
        alone = predictor.predict_array(image, question=question)["vqa"]
        assert together["vqa"]["answer"] == alone["answer"] and together["vqa"]["type"] == alone["type"]
        assert together["vqa"]["probability"] == pytest.approx(alone["probability"], abs=1e-5)
    with pytest.raises(ValueError, match="one question per image"):
        predictor.predict_arrays(images, questions=["Is there a road?", None, None])


def test_beam_width_reaches_the_caption_search(predictor, images, monkeypatch):
    head = predictor.model.head("captions")
    seen = []
    generate = head.decoder.generate

    def spy(**kwargs):
        seen.append(kwargs["generation_config"].num_beams)
        return generate(**kwargs)

    monkeypatch.setattr(head.decoder, "generate", spy)
    other = 2 if head.config.num_beams == 1 else 1
    predictor.predict_arrays(images[:1], tasks={"captions"}, num_beams=other)
    predictor.predict_arrays(images[:1], tasks={"captions"})
    assert seen == [other, head.config.num_beams]


def test_questions_are_answered_in_a_question_set_the_model_knows(predictor, images):
    assert predictor.question_sets() == ["rsvqa_lr"] and predictor.answering_heads() == ["vqa"]
    answer = predictor.predict_array(images[0], question="How many buildings are there?")["vqa"]
    assert (answer["question_set"], answer["type"]) == ("rsvqa_lr", "count")
    chosen = predictor.predict_array(images[0], question="Is there a road?", question_set="rsvqa_lr")["vqa"]
    assert chosen["question_set"] == "rsvqa_lr" and chosen["answer"] in ("yes", "no")
    with pytest.raises(DataError, match="question set 'rsivqa': this model answers in rsvqa_lr"):
        predictor.predict_array(images[0], question="Is there a road?", question_set="rsivqa")
