"""``spatialnet score-rsivqa``: accuracies, floors, intervals by photo and errors, on hand-checked files."""

import json
from pathlib import Path

import numpy as np
import pytest

from spatialnet.cli.main import main
from spatialnet.data.rsivqa.files import read_split
from spatialnet.metrics import figures
from spatialnet.metrics.figures import top_confusion
from spatialnet.metrics.vqa_baselines import BLIND, MAJORITY, blind_answers

# UCM-captions records: photo N has imgid N - 1; 1, 2 and 6 train, 3 and 4 val, 5 test.
SPLITS = {1: "train", 2: "train", 3: "val", 4: "val", 5: "test", 6: "train"}
THEME = "What is the theme of this picture?"
TREES = "Does this picture contain trees?"
PLANE = "Does this picture contain an airplane?"
CARS = "How many cars in the picture?"
WHERE = "What is the location of the trees in this picture?"
LINES = [  # line k is question k
    f"1.tif:{THEME}farmland",
    f"1.tif:{TREES}yes",
    f"1.tif:{CARS}two",
    f"1.tif:{WHERE}top left corner",
    f"2.tif:{THEME}farmland",
    f"2.tif:{TREES}no",
    f"2.tif:{PLANE}no",
    f"2.tif:{CARS}two",
    f"6.tif:{TREES}yes",
    f"6.tif:{PLANE}no",
    "6.tif:Does this picture contain a pond?no",
    f"3.tif:{THEME}harbor",  # 11: the val questions, 11-19
    f"3.tif:{TREES}yes",
    f"3.tif:{CARS}three",
    f"3.tif:{WHERE}top left corner",
    f"4.tif:{THEME}farmland",
    f"4.tif:{PLANE}no",
    f"4.tif:{TREES}yes",
    f"4.tif:{CARS}Two",
    f"4.tif:{WHERE}i cannot see it",
    f"5.tif:{THEME}forest",  # a test photo
    f"99.tif:{THEME}river",  # a photo the folder does not hold: skipped
]
# theme 2/2, presence 2/3 (12 wrong), count 2/2 ("Two" = "two"), location 1/2 (14 wrong)
OURS = {
    11: "harbor",
    12: "no",
    13: "three",
    14: "center",
    15: "Farmland ",
    16: "no",
    17: "yes",
    18: "two",
    19: "I cannot  see it",
}
# Train majority: theme farmland, presence "no" (4 of 6), count "two", location "top left corner".
# Blind (same text): trees "yes" (2 of 3), airplane "no"; the other texts answer as their type.
EXPECTED = {
    "ours": {"theme": 1, "presence": 2 / 3, "count": 1, "location": 0.5, "OA": 7 / 9},
    MAJORITY: {"theme": 0.5, "presence": 1 / 3, "count": 0.5, "location": 0.5, "OA": 4 / 9},
    BLIND: {"theme": 0.5, "presence": 1.0, "count": 0.5, "location": 0.5, "OA": 6 / 9},
}


def _folder(root: Path, lines: list[str] = LINES) -> tuple[Path, Path]:
    ucm = root / "ucm_captions"
    ucm.mkdir(parents=True)
    records = [
        {"filename": f"{n}.jpg", "imgid": n - 1, "split": split, "sentences": [{"raw": "A photo ."}]}
        for n, split in SPLITS.items()
    ]
    (ucm / "dataset.json").write_text(json.dumps({"images": records, "dataset": "UCM"}), encoding="utf-8")
    questions = root / "ucm_res.txt"
    questions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return questions, ucm


def _predictions(path: Path, answers: dict[int, str]) -> Path:
    path.write_text(json.dumps([{"question_id": i, "answer": a} for i, a in answers.items()]))
    return path


def _argv(questions: Path, ucm: Path, predictions: Path, out: Path) -> list[str]:
    files = ["--questions", str(questions), "--images", str(ucm)]
    return ["score-rsivqa", *files, "--predictions", str(predictions), "--out", str(out)]


def test_accuracies_and_floors_by_hand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions, ucm = _folder(tmp_path)
    out = tmp_path / "scores.json"
    assert main(_argv(questions, ucm, _predictions(tmp_path / "p.json", OURS), out)) == 0
    printed = capsys.readouterr().out
    assert "ucm_res.txt, val split: 9 questions on 2 photos" in printed
    assert "majority" in printed and "blind" in printed and "learnt from" in printed
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["question_set"] == "rsivqa" and document["split"] == "val"
    assert document["counts"] == {"theme": 2, "presence": 3, "count": 2, "location": 2}
    assert document["num_questions"] == 9 and document["num_images"] == 2
    scored = {"ours": document["metrics"]} | {k: v["metrics"] for k, v in document["baselines"].items()}
    for name, expected in EXPECTED.items():
        types = [expected[t] for t in ("theme", "presence", "count", "location")]
        assert scored[name] == pytest.approx({**expected, "AA": sum(types) / 4}), name
    assert Path(document["confusion_png"]).is_file()
    assert "bootstrap" not in document and "compare" not in document


def test_intervals_draw_photos_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions, ucm = _folder(tmp_path)
    out = tmp_path / "scores.json"
    train = [q for qs in read_split([questions], ucm / "dataset.json", "train").questions for q in qs]
    val = [q for qs in read_split([questions], ucm / "dataset.json", "val").questions for q in qs]
    blind = _predictions(tmp_path / "blind.json", blind_answers(train, val))
    argv = _argv(questions, ucm, _predictions(tmp_path / "p.json", OURS), out)
    assert main([*argv, "--bootstrap", "200", "--compare", str(blind)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert (
        "resampled 200 times: the 2 images, each with all its questions (9 questions, 4.5 per image)"
        in printed
    )
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["resample"] == "images"
    assert document["bootstrap"]["method"] == "percentile bootstrap over images"
    assert document["compare"]["interval"] == "paired percentile bootstrap over images"
    assert document["compare"]["metrics"]["OA"]["difference"] == pytest.approx(1 / 9)
    assert main([*argv, "--bootstrap", "200", "--resample", "questions"]) == 0
    assert "these intervals are optimistic" in " ".join(capsys.readouterr().out.split())
    assert json.loads(out.read_text())["bootstrap"]["method"] == "percentile bootstrap over questions"


def test_a_malformed_line_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [*LINES[:2], "3.tif What is the theme of this picture", *LINES[2:]]
    questions, ucm = _folder(tmp_path, lines)
    out = tmp_path / "s.json"
    assert main(_argv(questions, ucm, _predictions(tmp_path / "p.json", OURS), out)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"spatialnet score-rsivqa: error: {questions}:3: ")
    assert "expected 'N.tif:QUESTION?ANSWER'" in err


def test_missing_and_extra_ids_are_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions, ucm = _folder(tmp_path)
    fewer = {i: a for i, a in OURS.items() if i not in (12, 19)} | {20: "forest"}
    out = tmp_path / "s.json"
    assert main(_argv(questions, ucm, _predictions(tmp_path / "p.json", fewer), out)) == 2
    assert (
        f"{tmp_path / 'p.json'}: question ids must match the 9 questions exactly; missing 2 ids [12, 19]; "
        "extra 1 id [20]" in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--train-split", "val"], "--train-split is 'val' like --split"),
        (["--split", "nope"], "no image has split 'nope' (found: test, train, val)"),
        (["--images", "{root}"], "{root}/dataset.json: missing; expected the UCM-captions folder"),
    ],
)
def test_wrong_options_say_what_was_expected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: list[str], message: str
) -> None:
    questions, ucm = _folder(tmp_path)
    argv = _argv(questions, ucm, _predictions(tmp_path / "p.json", OURS), tmp_path / "s.json")
    assert main([*argv, *(c.format(root=tmp_path) for c in change)]) == 2
    assert message.format(root=tmp_path) in capsys.readouterr().err


def test_top_confusion_keeps_the_frequent_answers_and_merges_the_rest() -> None:
    names = ["a", "b", "c", "d", "never"]
    matrix = np.array(
        [
            [5, 1, 0, 0, 0],  # a: 6 times true
            [2, 2, 0, 1, 0],  # b: 5
            [0, 0, 1, 1, 0],  # c: 2
            [0, 1, 0, 0, 0],  # d: 1
            [0, 0, 0, 0, 0],
        ]
    )
    shown, labels, merged = top_confusion(matrix, names, top=2)
    assert labels == ["a", "b", "other (2)"] and merged == 2
    np.testing.assert_array_equal(shown, [[5, 1, 0], [2, 2, 1], [0, 1, 2]])
    assert shown.sum() == matrix.sum()
    shown, labels, merged = top_confusion(matrix, names, top=3)  # merging one answer shows nothing more
    assert labels == ["a", "b", "c", "d"] and merged == 0 and shown.sum() == matrix.sum()


def test_the_real_rsivqa_val_floors(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    questions, ucm = shared_data / "rsivqa_ucm" / "ucm_res.txt", shared_data / "ucm_captions"
    if not (questions.is_file() and (ucm / "dataset.json").is_file()):
        pytest.skip(f"real RSIVQA-UCM data absent ({questions}, {ucm / 'dataset.json'})")
    train = [q for qs in read_split([questions], ucm / "dataset.json", "train").questions for q in qs]
    val = [q for qs in read_split([questions], ucm / "dataset.json", "val").questions for q in qs]
    assert (len(train), len(val)) == (2295, 245)
    drawn: list[str] = []
    panels = figures.save_confusion_panels

    def recorded(parts, *args, **kwargs):  # type: ignore[no-untyped-def]
        drawn.extend(name for name, *_ in parts)
        return panels(parts, *args, **kwargs)

    monkeypatch.setattr(figures, "save_confusion_panels", recorded)
    out = tmp_path / "blind.json"
    blind = _predictions(tmp_path / "blind_answers.json", blind_answers(train, val))
    assert main([*_argv(questions, ucm, blind, out), "--bootstrap", "100"]) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    percent = {k: round(100 * v, 2) for k, v in document["metrics"].items()}
    expected = {
        "theme": 18.37,
        "presence": 89.80,
        "count": 18.37,
        "location": 44.90,
        "AA": 42.86,
        "OA": 52.24,
    }
    assert percent == expected
    assert document["baselines"][BLIND]["metrics"] == document["metrics"]
    assert document["counts"] == {"theme": 49, "presence": 98, "count": 49, "location": 49}
    assert len(document["answers"]) > 30 and drawn == ["theme", "presence", "count", "location"]
    assert "the 49 images, each with all its questions" in " ".join(capsys.readouterr().out.split())
