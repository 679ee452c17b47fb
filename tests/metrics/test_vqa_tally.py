"""Per-question statistics of the RSVQA accuracies: exact on the split and on every resample."""

import json
from pathlib import Path

import numpy as np
import pytest

from spatialnet.cli.main import main
from spatialnet.data.rsvqa.files import VQAImage, VQAQuestion, image_file, write_split
from spatialnet.errors import DataError
from spatialnet.metrics.bootstrap import bootstrap, paired_test
from spatialnet.metrics.vqa import score_vqa
from spatialnet.metrics.vqa_tally import vqa_tally

# 40 questions of three types (none of rural_urban), answers that cycle.
TYPES = ("count", "presence", "comp")
ANSWERS = {"count": ("0", "between 10 and 100"), "presence": ("yes", "no"), "comp": ("no", "yes")}
QUESTIONS = {i: (TYPES[i % 3], ANSWERS[TYPES[i % 3]][i % 2]) for i in range(1, 41)}
RIGHT = {i: answer for i, (_, answer) in QUESTIONS.items()}
HALF = {i: answer if i % 4 else "maybe" for i, answer in RIGHT.items()}  # every fourth wrong


def test_split_estimates_equal_score_vqa() -> None:
    tally = vqa_tally(QUESTIONS, HALF)
    assert tally.metrics() == pytest.approx(score_vqa(QUESTIONS, HALF).metrics, abs=1e-12)
    assert list(tally.metrics()) == list(score_vqa(QUESTIONS, HALF).metrics)  # no rural_urban, same order


def test_a_resample_is_scored_as_score_vqa_scores_that_sample() -> None:
    tally = vqa_tally(QUESTIONS, HALF)
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(tally.ids), size=len(tally.ids))
    weights = np.bincount(picks, minlength=len(tally.ids)).astype(float)
    resampled = {k: tally.ids[p] for k, p in enumerate(picks)}  # fresh ids for repeated questions
    expected = score_vqa(
        {k: QUESTIONS[i] for k, i in resampled.items()}, {k: HALF[i] for k, i in resampled.items()}
    )
    values = tally.score((weights @ tally.rows)[None])
    assert {name: float(v[0]) for name, v in values.items() if name in expected.metrics} == pytest.approx(
        expected.metrics, abs=1e-12
    )


def test_identical_and_better_systems() -> None:
    half = vqa_tally(QUESTIONS, HALF)
    same = paired_test(half, vqa_tally(QUESTIONS, dict(HALF), source="b.json"), resamples=200)
    assert all(d.difference == 0 and d.p_value == 1 for d in same.differences.values())
    better = paired_test(vqa_tally(QUESTIONS, RIGHT), half, resamples=500, seed=1).differences
    assert better["OA"].difference == pytest.approx(10 / 40)
    assert better["OA"].p_value < 0.05 and better["OA"].low > 0


def test_intervals_cover_the_estimates() -> None:
    intervals = bootstrap(vqa_tally(QUESTIONS, HALF), resamples=300, seed=0).intervals
    assert set(intervals) == {"count", "presence", "comp", "AA", "OA", "mean3"}
    for interval in intervals.values():
        assert interval.low <= interval.estimate <= interval.high


def test_other_ids_are_refused() -> None:
    shifted = {i + 1: answer for i, answer in HALF.items()}
    with pytest.raises(DataError, match=r"^b\.json: question ids must match the 40 questions exactly"):
        vqa_tally(QUESTIONS, shifted, source="b.json")


def _files(root: Path) -> dict[str, Path]:
    questions = [VQAQuestion.from_raw(i, 1 + i % 2, kind, f"q {i}?", a) for i, (kind, a) in QUESTIONS.items()]
    images = [
        VQAImage(n, image_file(root, n), tuple(q.id for q in questions if q.image_id == n)) for n in (1, 2)
    ]
    return write_split(root, "test", images, questions)


def _write(path: Path, answers: dict[int, str]) -> Path:
    path.write_text(json.dumps([{"question_id": i, "answer": a} for i, a in answers.items()]))
    return path


def test_cli_bootstrap_and_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _files(tmp_path / "rsvqa_lr")
    right, half = _write(tmp_path / "right.json", RIGHT), _write(tmp_path / "half.json", HALF)
    out = tmp_path / "scores.json"
    argv = ["score-vqa", "--questions", str(files["questions"]), "--answers", str(files["answers"])]
    options = ["--bootstrap", "200", "--compare", str(half), "--seed", "3"]
    assert main([*argv, "--predictions", str(right), "--out", str(out), *options]) == 0
    printed = capsys.readouterr().out
    assert "95% interval" in printed and "by questions" in printed and "paired test" in printed
    assert "resampled 200 times: the 40 questions" in printed
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["bootstrap"]["resamples"] == 200 and document["bootstrap"]["seed"] == 3
    assert document["bootstrap"]["intervals"]["OA"]["estimate"] == 1.0
    assert document["compare"]["first"] == str(right) and document["compare"]["second"] == str(half)
    assert document["compare"]["metrics"]["OA"]["difference"] == pytest.approx(0.25)
    assert document["compare"]["metrics"]["OA"]["p_value"] < 0.05
    assert main([*argv, "--predictions", str(right), "--out", str(out), *options]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == document  # seeded: same figures


def test_cli_compare_with_other_questions_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _files(tmp_path / "rsvqa_lr")
    right = _write(tmp_path / "right.json", RIGHT)
    fewer = _write(tmp_path / "fewer.json", {i: a for i, a in RIGHT.items() if i != 40})
    argv = ["score-vqa", "--questions", str(files["questions"]), "--answers", str(files["answers"])]
    out = tmp_path / "s.json"
    assert main([*argv, "--predictions", str(right), "--out", str(out), "--compare", str(fewer)]) == 2
    assert capsys.readouterr().err.startswith(
        f"spatialnet score-vqa: error: {fewer}: question ids must match the 40 questions exactly; "
        "missing 1 id [40]"
    )


# -- resampling images: an image's questions move together -------------------------------------------
def _on_images(image_of: dict[int, int]) -> list[VQAQuestion]:
    return [
        VQAQuestion.from_raw(i, image_of[i], kind, f"q {i}?", answer)
        for i, (kind, answer) in QUESTIONS.items()
    ]


def test_a_tally_by_images_sums_each_images_questions() -> None:
    questions = _on_images({i: 7 + i % 3 for i in QUESTIONS})  # images 7, 8, 9
    by_question = vqa_tally(questions, HALF)
    by_image = vqa_tally(questions, HALF, by="images")
    assert by_image.ids == (7, 8, 9) and by_image.unit == "images"
    for row, image in zip(by_image.rows, by_image.ids, strict=True):
        members = [k for k, i in enumerate(by_question.ids) if 7 + i % 3 == image]
        np.testing.assert_array_equal(row, by_question.rows[members].sum(axis=0))
    expected = score_vqa(questions, HALF).metrics
    assert by_image.metrics() == pytest.approx(expected, abs=1e-12)
    assert bootstrap(by_image, resamples=50).intervals["OA"].estimate == pytest.approx(expected["OA"])


def test_image_of_gives_the_images_of_a_mapping() -> None:
    image_of = {i: i % 4 for i in QUESTIONS}
    assert np.array_equal(
        vqa_tally(QUESTIONS, HALF, by="images", image_of=image_of).rows,
        vqa_tally(_on_images(image_of), HALF, by="images").rows,
    )
    with pytest.raises(DataError, match="resampling images needs each question's image"):
        vqa_tally(QUESTIONS, HALF, by="images")
    partial = {i: 0 for i in range(1, 39)}
    with pytest.raises(DataError, match=r"^image_of: no image for 2 ids \[39, 40\] of the 40 questions$"):
        vqa_tally(QUESTIONS, HALF, by="images", image_of=partial)
    with pytest.raises(DataError, match="resampling unit 'tiles'; expected one of questions, images"):
        vqa_tally(QUESTIONS, HALF, by="tiles")  # type: ignore[arg-type]


def test_one_question_per_image_gives_the_intervals_of_questions() -> None:
    questions = _on_images({i: 100 + i for i in QUESTIONS})  # image ids in the order of question ids
    by_question, by_image = vqa_tally(questions, HALF), vqa_tally(questions, HALF, by="images")
    assert bootstrap(by_question, 300, seed=4).intervals == bootstrap(by_image, 300, seed=4).intervals
    right = (vqa_tally(questions, RIGHT), vqa_tally(questions, RIGHT, by="images"))
    assert (
        paired_test(right[0], by_question, 200, seed=1).differences
        == paired_test(right[1], by_image, 200, seed=1).differences
    )


def test_questions_of_one_image_widen_the_interval() -> None:
    # 10 images of 10 questions: an image's questions are all right or all wrong (5 images each).
    truth = {i: ("presence", "yes") for i in range(100)}
    answers = {i: "yes" if (i // 10) % 2 else "no" for i in range(100)}
    image_of = {i: i // 10 for i in range(100)}
    by_question = bootstrap(vqa_tally(truth, answers), 500, seed=0).intervals["OA"]
    by_image = bootstrap(vqa_tally(truth, answers, by="images", image_of=image_of), 500, seed=0).intervals[
        "OA"
    ]
    assert by_question.estimate == by_image.estimate == 0.5
    assert by_image.high - by_image.low > 2 * (by_question.high - by_question.low)
    # an image's draw carries its 10 questions: every resampled OA is a whole number of images / 10
    tally = vqa_tally(truth, answers, by="images", image_of=image_of)
    weights = np.random.default_rng(0).multinomial(10, [0.1] * 10, size=200).astype(float)
    oa = tally.score(weights @ tally.rows)["OA"]
    np.testing.assert_allclose(oa * 10, np.round(oa * 10), atol=1e-12)


def test_cli_resamples_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _files(tmp_path / "rsvqa_lr")  # 40 questions on images 1 and 2
    half = _write(tmp_path / "half.json", HALF)
    argv = ["score-vqa", "--questions", str(files["questions"]), "--answers", str(files["answers"])]
    out = tmp_path / "scores.json"
    assert main([*argv, "--predictions", str(half), "--out", str(out), "--bootstrap", "100"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "resampled 100 times: the 40 questions, one by one; they are about 2 images" in printed
    assert "these intervals are optimistic (too narrow)" in printed
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["resample"] == "questions" and document["bootstrap"]["method"].endswith("over questions")
    options = ["--bootstrap", "100", "--resample", "images"]
    assert main([*argv, "--predictions", str(half), "--out", str(out), *options]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert (
        "resampled 100 times: the 2 images, each with all its questions (40 questions, 20.0 per image)"
        in printed
    )
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["bootstrap"]["method"] == "percentile bootstrap over images"
    assert document["num_images"] == 2 and document["metrics"]["OA"] == 0.75
