import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from spatialnet.cli.main import main
from spatialnet.data.rsvqa.answers import LR_ANSWERS
from spatialnet.data.rsvqa.files import (
    VQAImage,
    VQAQuestion,
    image_file,
    read_qa_text,
    read_questions_and_answers,
    write_questions,
    write_split,
)
from spatialnet.errors import DataError
from spatialnet.metrics.vqa import read_vqa_predictions, save_vqa_confusion, score_vqa

# Nine questions; the comments give each prediction's fate.
HAND_QUESTIONS = {
    1: ("count", "0"),
    2: ("count", "5"),  # a raw count: binned to "between 0 and 10"
    3: ("count", "between 10 and 100"),
    4: ("presence", "yes"),
    5: ("presence", "no"),
    6: ("comp", "yes"),
    7: ("comp", "no"),
    8: ("comp", "no"),
    9: ("rural_urban", "rural"),
}
HAND_PREDICTIONS = {
    1: "0",  # right
    2: "7",  # right once binned
    3: "0",  # wrong
    4: "yes",  # right
    5: "Yes",  # wrong (normalised to "yes")
    6: "yes",  # right
    7: "no",  # right
    8: "maybe",  # wrong, out of vocabulary
    9: "urban",  # wrong
}


def _at(answer: str) -> int:
    return LR_ANSWERS.index(answer)


def test_hand_computed_accuracies() -> None:
    scores = score_vqa(HAND_QUESTIONS, HAND_PREDICTIONS)
    assert scores.accuracy == pytest.approx(
        {"count": 2 / 3, "presence": 1 / 2, "comp": 2 / 3, "rural_urban": 0.0}
    )
    assert scores.AA == pytest.approx((2 / 3 + 1 / 2 + 2 / 3 + 0) / 4)  # 11/24
    assert scores.OA == pytest.approx(5 / 9)
    assert scores.mean3 == pytest.approx((1 / 2 + 2 / 3 + 0) / 3)  # 7/18
    assert scores.counts == {"count": 3, "presence": 2, "comp": 3, "rural_urban": 1}
    assert scores.correct == {"count": 2, "presence": 1, "comp": 2, "rural_urban": 0}
    assert scores.out_of_vocabulary == 1 and scores.num_questions == 9
    assert scores.AA_types == ("count", "presence", "comp", "rural_urban")
    expected = [[0] * 9 for _ in range(9)]
    for truth, guess, n in [
        ("0", "0", 1),
        ("between 0 and 10", "between 0 and 10", 1),
        ("between 10 and 100", "0", 1),
        ("yes", "yes", 2),
        ("no", "yes", 1),
        ("no", "no", 1),
        ("rural", "urban", 1),
    ]:
        expected[_at(truth)][_at(guess)] = n
    assert scores.confusion == expected  # 8 cells: the out-of-vocabulary answer is in none
    assert scores.confusion_by_type["presence"][_at("no")][_at("yes")] == 1
    assert scores.confusion_by_type["comp"][_at("no")][_at("yes")] == 0
    assert set(scores.metrics) == {"count", "presence", "comp", "rural_urban", "AA", "OA", "mean3"}


def test_list_inputs_give_the_same_scores() -> None:
    questions = [
        VQAQuestion.from_raw(i, 0, kind, f"question {i}?", answer)
        for i, (kind, answer) in HAND_QUESTIONS.items()
    ]
    rows = [{"question_id": i, "answer": a} for i, a in reversed(HAND_PREDICTIONS.items())]
    assert score_vqa(questions, rows) == score_vqa(HAND_QUESTIONS, HAND_PREDICTIONS)


def test_aa_and_mean3_average_the_types_present() -> None:
    questions = {1: ("presence", "yes"), 2: ("presence", "no"), 3: ("comp", "yes"), 4: ("count", "12")}
    scores = score_vqa(questions, {1: "yes", 2: "yes", 3: "yes", 4: "between 10 and 100"})
    assert scores.AA_types == ("count", "presence", "comp")
    assert scores.AA == pytest.approx((1 + 1 / 2 + 1) / 3)
    assert scores.mean3 == pytest.approx((1 / 2 + 1) / 2)
    assert "rural_urban" not in scores.accuracy and "rural_urban" not in scores.confusion_by_type
    only_count = score_vqa({1: ("count", "0")}, {1: "3"})
    assert only_count.mean3 is None and "mean3" not in only_count.metrics
    assert only_count.AA == only_count.OA == 0.0


@pytest.mark.parametrize(
    ("predictions", "pattern"),
    [
        ({1: "yes"}, r"missing 8 ids \[2, 3, 4, 5, 6, 7, 8, 9\]$"),
        ({**HAND_PREDICTIONS, 10: "yes", 12: "no"}, r"extra 2 ids \[10, 12\]$"),
        (
            [{"question_id": i, "answer": a} for i, a in HAND_PREDICTIONS.items()]
            + [{"question_id": 4, "answer": "no"}],
            r"duplicated 1 id \[4\]$",
        ),
        ({}, "no predictions"),
        ({**HAND_PREDICTIONS, 3: 0}, r"question 3: 'answer' must be a string, got 0"),
        ([{"question_id": "1", "answer": "yes"}], r"row 0: 'question_id' must be an integer, got '1'"),
        ([{"question_id": 1, "answer": "a"}, {"question_id": True, "answer": "a"}], "row 1: 'question_id'"),
        (["yes"], "row 0: expected an object"),
        ("yes", "expected a mapping question_id -> answer or a list"),
    ],
)
def test_prediction_errors(predictions: Any, pattern: str) -> None:
    with pytest.raises(DataError, match=rf"^preds\.json: .*{pattern}"):
        score_vqa(HAND_QUESTIONS, predictions, source="preds.json")


def test_mismatch_lists_are_truncated_with_counts() -> None:
    questions = {i: ("presence", "yes") for i in range(30)}
    predictions = {i: "yes" for i in range(5)} | {100: "no"}
    with pytest.raises(
        DataError,
        match=r"must match the 30 questions exactly; "
        r"missing 25 ids \[5, 6, 7, 8, 9, 10, 11, 12, 13, 14, \.\.\.\]; extra 1 id \[100\]$",
    ):
        score_vqa(questions, predictions)


@pytest.mark.parametrize(
    ("questions", "pattern"),
    [
        ({}, "no questions to score"),
        ({1: ("colour", "red")}, "question 1 has type 'colour'"),
        ({1: ("presence", "maybe")}, "question 1 has answer 'maybe'"),
        ({"1": ("presence", "yes")}, "question id '1' is not an integer"),
        ({1: "yes"}, r"question 1: expected \(type, answer\)"),
    ],
)
def test_question_errors(questions: Any, pattern: str) -> None:
    with pytest.raises(DataError, match=f"^questions: {pattern}"):
        score_vqa(questions, {1: "yes"})


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (None, "no such file"),
        (b"", "invalid JSON at line 1"),
        (b"[]", "the predictions list is empty"),
        (b'[{"question_id": 1, "answer": "yes"}', "invalid JSON at line 1"),
        (b'\xff[{"question_id": 1}]', r"not UTF-8 text \(byte 0xff at offset 0\)"),
        (b'{"question_id": 1, "answer": "yes"}', "expected a JSON list"),
        (
            b'[{"question_id": 1, "answer": "yes"}, {"answer": "no"}]',
            "row 1: 'question_id' must be an integer",
        ),
        (b'[{"question_id": 1, "answer": 3}]', "row 0: 'answer' must be a string"),
    ],
)
def test_read_predictions_errors(tmp_path: Path, content: bytes | None, pattern: str) -> None:
    path = tmp_path / "preds.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=f"^{path}: {pattern}"):
        read_vqa_predictions(path)


def test_confusion_png(tmp_path: Path) -> None:
    path = save_vqa_confusion(score_vqa(HAND_QUESTIONS, HAND_PREDICTIONS), tmp_path / "c.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _split(root: Path) -> dict[str, Path]:
    questions = [
        VQAQuestion.from_raw(i, 2 if i < 5 else 4, kind, f"question {i}?", answer)
        for i, (kind, answer) in HAND_QUESTIONS.items()
    ]
    images = [
        VQAImage(i, image_file(root, i), tuple(q.id for q in questions if q.image_id == i)) for i in (2, 4)
    ]
    return write_split(root, "test", images, questions)


def test_cli_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _split(tmp_path / "rsvqa_lr")
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps([{"question_id": i, "answer": a} for i, a in HAND_PREDICTIONS.items()]))
    out = tmp_path / "scores" / "scores.json"
    argv = ["score-vqa", "--questions", str(files["questions"]), "--answers", str(files["answers"])]
    assert main([*argv, "--predictions", str(preds), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "AA" in printed and "45.83" in printed and "55.56" in printed  # 11/24 and 5/9, ×100
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["metrics"] == pytest.approx(
        {"count": 2 / 3, "presence": 0.5, "comp": 2 / 3, "rural_urban": 0.0, "AA": 11 / 24, "OA": 5 / 9,
         "mean3": 7 / 18}
    )  # fmt: skip
    assert document["answers"] == list(LR_ANSWERS) and len(document["confusion"]) == 9
    assert document["out_of_vocabulary"] == 1 and document["num_questions"] == 9
    png = out.with_name("scores_confusion.png")
    assert document["confusion_png"] == str(png) and png.read_bytes()[:4] == b"\x89PNG"
    other = tmp_path / "figs" / "answers.png"
    assert main([*argv, "--predictions", str(preds), "--out", str(out), "--confusion", str(other)]) == 0
    assert other.is_file()


def test_cli_bad_predictions_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _split(tmp_path)
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps([{"question_id": 1, "answer": "0"}]))
    argv = ["score-vqa", "--questions", str(files["questions"]), "--answers", str(files["answers"])]
    assert main([*argv, "--predictions", str(preds), "--out", str(tmp_path / "s.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(
        f"spatialnet score-vqa: error: {preds}: question ids must match the 9 questions exactly"
    )
    assert not (tmp_path / "s.json").exists()


# -- real data ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_test(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The real test answers plus an official-format questions file built from questions_text/test_qa.json."""
    answers = shared_data / "rsvqa_lr" / "LR_split_test_answers.json"
    qa_text = shared_data / "rsvqa_lr" / "questions_text" / "test_qa.json"
    if not (answers.is_file() and qa_text.is_file()):
        pytest.skip(f"../shared/data absent: {answers} or {qa_text} not found (real RSVQA-LR test files)")
    folder = tmp_path_factory.mktemp("rsvqa_real")
    questions = folder / "LR_split_test_questions.json"
    rows = read_qa_text(qa_text)
    write_questions(
        questions,
        [VQAQuestion.from_raw(r.question_id, r.image_id, r.type, r.question, r.answer) for r in rows],
    )
    return {"questions": questions, "answers": answers, "qa_text": qa_text}


def test_real_qa_text_agrees_with_official_answers(real_test: dict[str, Path]) -> None:
    joined = read_questions_and_answers(real_test["questions"], real_test["answers"])
    derivative = {r.question_id: r.answer for r in read_qa_text(real_test["qa_text"])}
    assert len(joined) == 10_004
    assert {q.id: q.answer for q in joined} == derivative
    assert Counter(q.type for q in joined) == {
        "comp": 4002,
        "presence": 2955,
        "count": 2947,
        "rural_urban": 100,
    }
    assert sum(q.count is not None for q in joined) == 2947  # official counts are raw numbers


def test_real_oracle_scores_one(real_test: dict[str, Path]) -> None:
    questions = read_questions_and_answers(real_test["questions"], real_test["answers"])
    oracle = {q.id: q.raw_answer for q in questions}  # raw counts: binned by the metric
    scores = score_vqa(questions, oracle)
    assert scores.metrics == {
        name: 1.0 for name in ("count", "presence", "comp", "rural_urban", "AA", "OA", "mean3")
    }
    assert sum(map(sum, scores.confusion)) == 10_004


def test_real_majority_baseline_matches_plain_counting(
    real_test: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = {"count": "0", "presence": "yes", "comp": "yes", "rural_urban": "rural"}
    # Independent of the package: types from the derivative file, truths from the official file.
    types = {row["question_id"]: row["type"] for row in json.loads(real_test["qa_text"].read_text())}
    raw = {
        row["id"]: row["answer"]
        for row in json.loads(real_test["answers"].read_text())["answers"]
        if row["active"]
    }
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for question_id, kind in types.items():
        totals[kind] += 1
        hits[kind] += raw[question_id] == baseline[kind]  # "0" is its own bin; yes/no/rural stored as is
    expected = {kind: hits[kind] / totals[kind] for kind in totals}

    preds = tmp_path / "baseline.json"
    preds.write_text(json.dumps([{"question_id": i, "answer": baseline[kind]} for i, kind in types.items()]))
    out = tmp_path / "scores.json"
    argv = ["score-vqa", "--questions", str(real_test["questions"]), "--answers", str(real_test["answers"])]
    assert main([*argv, "--predictions", str(preds), "--out", str(out)]) == 0
    print(capsys.readouterr().out)
    metrics = json.loads(out.read_text())["metrics"]
    assert {k: metrics[k] for k in expected} == pytest.approx(expected, abs=1e-12)
    assert metrics["OA"] == pytest.approx(sum(hits.values()) / sum(totals.values()))
    assert metrics["AA"] == pytest.approx(sum(expected.values()) / 4)
