"""Question-only baselines: majority per type and the same-text prior, on hand-checked cases."""

import pytest

from spatialnet.data.rsvqa.files import VQAQuestion
from spatialnet.errors import DataError
from spatialnet.metrics.vqa_baselines import (
    BLIND,
    MAJORITY,
    baseline_answers,
    blind_answers,
    majority_answers,
    type_majority,
)


def _questions(rows):
    return [VQAQuestion.from_raw(i, 0, kind, text, answer) for i, (kind, text, answer) in enumerate(rows)]


TRAIN = _questions(
    [
        ("presence", "Is there a road?", "yes"),
        ("presence", "Is there a road?", "yes"),
        ("presence", "Is there a road?", "no"),
        ("presence", "Is there a small road?", "no"),
        ("presence", "Is there a forest?", "no"),
        ("count", "How many roads are there?", "3"),
        ("count", "How many roads are there?", "7"),  # same bin as 3
        ("count", "How many roads are there?", "0"),
        ("count", "How many forests are there?", "0"),
        ("count", "How many forests are there?", "0"),
        ("rural_urban", "Is it a rural or an urban area", "urban"),
    ]
)
TEST = _questions(
    [
        ("presence", "is there a ROAD", "no"),  # same text (case/punctuation ignored): "yes"
        ("presence", "Is a road present?", "no"),  # unseen text: type majority "no"
        ("count", "How many roads are there?", "5"),  # text prior "between 0 and 10"
        ("count", "How many cars are there?", "0"),  # type majority: "0" (3 of 5)
        ("rural_urban", "Is it a rural or an urban area", "rural"),
    ]
)


def test_type_majority_breaks_ties_alphabetically():
    assert type_majority(TRAIN) == {"presence": "no", "count": "0", "rural_urban": "urban"}
    tie = _questions([("comp", "Are there more roads than forests?", a) for a in ("yes", "no")])
    assert type_majority(tie) == {"comp": "no"}


def test_majority_answers_follow_the_type():
    assert majority_answers(TRAIN, TEST) == {0: "no", 1: "no", 2: "0", 3: "0", 4: "urban"}


def test_blind_answers_use_the_same_question_text_first():
    assert blind_answers(TRAIN, TEST) == {0: "yes", 1: "no", 2: "between 0 and 10", 3: "0", 4: "urban"}


def test_a_type_the_training_split_never_asks_gets_the_overall_majority():
    # TRAIN answers "no" 3 times, "0" 3 times, "yes" and "between 0 and 10" twice: the tie goes to "0"
    unseen = _questions([("comp", "Are there more roads than forests?", "yes")])
    assert majority_answers(TRAIN, unseen) == {0: "0"}
    assert majority_answers(TRAIN[:5], unseen) == {0: "no"}  # presence questions only: 3 "no", 2 "yes"
    with pytest.raises(DataError, match="the training split has no questions"):
        majority_answers([], unseen)


def test_baseline_answers_names_both_floors():
    both = baseline_answers(TRAIN, TEST)
    assert list(both) == [MAJORITY, BLIND] == ["majority per type", "blind (same question text)"]
    assert both[MAJORITY] == majority_answers(TRAIN, TEST) and both[BLIND] == blind_answers(TRAIN, TEST)


def test_floors_of_rsivqa_answers_in_words():
    rows = [
        ("count", "How many cars in the picture?", "two"),
        ("count", "How many cars in the picture?", "two"),
        ("count", "How many trees in the picture?", "zero"),
        ("location", "What is the location of the trees in this picture?", "top left corner"),
    ]
    train = [VQAQuestion(i, 0, kind, text, answer, answer) for i, (kind, text, answer) in enumerate(rows)]
    asked = [
        VQAQuestion(10, 1, "count", "How many trees in the picture?", "one", "one"),
        VQAQuestion(11, 1, "count", "How many planes in the picture?", "zero", "zero"),
        VQAQuestion(
            12, 1, "location", "What is the location of the cars in this picture?", "center", "center"
        ),
    ]
    assert blind_answers(train, asked) == {10: "zero", 11: "two", 12: "top left corner"}
