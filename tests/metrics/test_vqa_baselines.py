"""Question-only baselines: majority per type and the same-text prior, on hand-checked cases."""

from spatialnet.data.rsvqa.files import VQAQuestion
from spatialnet.metrics.vqa_baselines import blind_answers, majority_answers, type_majority


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
