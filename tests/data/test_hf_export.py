"""`spatialnet export`: UCM-captions and RSVQA-LR as Hugging Face datasets, round-tripped exactly.

Exported files are reloaded two ways: raw (``datasets.load_from_disk`` / parquet against the
original dataset.json, split files and image bytes) and through the ``hf_*`` readers, whose items
must equal the UCM-captions and RSVQA-LR readers' item for item.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import datasets
import pytest
import torch

from spatialnet.cli.main import main
from spatialnet.config import HFConfig
from spatialnet.data.hf.captions import HFCaptions
from spatialnet.data.hf.export import export, rsvqa_dataset
from spatialnet.data.hf.vqa import HFVQA
from spatialnet.data.rsvqa.dataset import RSVQALR
from spatialnet.data.rsvqa.files import read_split
from spatialnet.data.ucm.classes import UCM_CLASSES
from spatialnet.data.ucm.dataset import UCMCaptions
from spatialnet.errors import DataError
from spatialnet.processors import ImageProcessor

SPLITS = ("train", "val", "test")


def same_items(a, b) -> None:
    """Two datasets give equal items: tensors exactly, lists and strings exactly, NaN counts alike."""
    assert len(a) == len(b)
    for i in range(len(a)):
        x, y = a[i], b[i]
        assert list(x) == list(y)
        for key in x:
            if isinstance(x[key], torch.Tensor):
                assert torch.equal(x[key], y[key]), (i, key)
            elif key == "count":
                assert torch.equal(torch.tensor(x[key]).nan_to_num(-1), torch.tensor(y[key]).nan_to_num(-1))
            else:
                assert x[key] == y[key], (i, key)


def test_ucm_export_round_trips_ids_sentences_splits_files_and_bytes(hf_world, tiny_world):
    original = json.loads((tiny_world / "ucm_captions" / "dataset.json").read_text())["images"]
    scenes = [json.loads(line) for line in (tiny_world / "scenes.jsonl").read_text().splitlines()]
    label_of = {row["filename"]: row["landuse_index"] for row in scenes}
    loaded = datasets.load_from_disk(str(hf_world / "ucm_captions"))
    assert isinstance(loaded, datasets.DatasetDict) and list(loaded) == ["train", "test", "val"]
    assert loaded["train"].features["label"].names == list(UCM_CLASSES)
    rows = {
        split: list(table.cast_column("image", datasets.Image(decode=False)))
        for split, table in loaded.items()
    }
    for split in SPLITS:
        records = [r for r in original if r["split"] == split]
        assert [row["filename"] for row in rows[split]] == [r["filename"] for r in records]
        for row, record in zip(rows[split], records, strict=True):
            assert row["imgid"] == record["imgid"] and row["sentids"] == record["sentids"]
            assert row["sentences"] == [s["raw"] for s in record["sentences"]]
            assert row["tokens"] == [s["tokens"] for s in record["sentences"]]
            assert row["label"] == label_of[record["filename"]]
            assert row["image"]["path"] == record["filename"]
            assert (
                row["image"]["bytes"]
                == (tiny_world / "ucm_captions" / "imgs" / record["filename"]).read_bytes()
            )


@pytest.mark.parametrize("fmt", ["disk", "parquet"])
def test_hf_readers_give_the_items_of_the_original_readers(fmt, hf_world, tiny_world, tmp_path):
    root = hf_world
    if fmt == "parquet":
        root = tmp_path / "parquet"
        export(tiny_world, root, "parquet", progress=False)
        assert sorted(p.name for p in (root / "rsvqa_lr").iterdir()) == [
            "test.parquet",
            "train.parquet",
            "val.parquet",
        ]
    processor = ImageProcessor(24)
    for split in SPLITS:
        ucm = UCMCaptions(tiny_world, split, processor, progress=False, with_captions=True)
        same_items(ucm, HFCaptions(str(root / "ucm_captions"), split, HFConfig(), processor, progress=False))
        rsvqa = RSVQALR(tiny_world, split, processor, progress=False)
        same_items(rsvqa, HFVQA(str(root / "rsvqa_lr"), split, HFConfig(), processor, progress=False))


def test_rsvqa_export_keeps_raw_answers_and_tile_bytes(hf_world, tiny_world):
    loaded = datasets.load_from_disk(str(hf_world / "rsvqa_lr"))
    split = read_split(tiny_world / "rsvqa_lr", "val")
    table = loaded["val"].cast_column("image", datasets.Image(decode=False))
    asked = {image.id for image in split.images}
    assert sorted(table["image_id"]) == sorted(asked)
    by_id = {q.id: q for q in split.questions}
    for row in table:
        assert (
            row["image"]["bytes"]
            == (tiny_world / "rsvqa_lr" / "Images_LR" / f"{row['image_id']}.tif").read_bytes()
        )
        for qid, text, kind, answer in zip(
            row["question_id"], row["question"], row["question_type"], row["answer"], strict=True
        ):
            q = by_id.pop(qid)
            assert (q.image_id, q.question, q.type, q.raw_answer) == (row["image_id"], text, kind, answer)
    assert not by_id


def test_questions_without_tiles_are_skipped_and_counted(tiny_world, tmp_path):
    folder = tmp_path / "rsvqa_lr"
    shutil.copytree(tiny_world / "rsvqa_lr", folder)
    split = read_split(folder, "test")
    gone = split.images[:2]
    for image in gone:
        image.path.unlink()
    expected_skipped = sum(q.image_id in {i.id for i in gone} for q in split.questions)
    dataset, counts = rsvqa_dataset(folder)
    assert counts["test"].absent_images == 2 and counts["test"].skipped_questions == expected_skipped > 0
    assert counts["test"].questions == len(split.questions) - expected_skipped
    assert sorted(dataset["test"]["image_id"]) == sorted(i.id for i in split.images[2:])
    with pytest.raises(DataError, match=r"Images_LR: 2 of \d+ 'test' tiles missing"):
        rsvqa_dataset(folder, require_images=True)


def test_a_split_without_tiles_is_written_empty_and_reads_back(tiny_world, tmp_path):
    folder = tmp_path / "rsvqa_lr"
    shutil.copytree(tiny_world / "rsvqa_lr", folder)
    for image in read_split(folder, "val").images:
        image.path.unlink()
    export(folder, tmp_path / "out", "disk", progress=False)
    loaded = datasets.load_from_disk(str(tmp_path / "out"))
    assert len(loaded["val"]) == 0 and loaded["val"].column_names == loaded["train"].column_names
    with pytest.raises(DataError, match=r"out \[split 'val'\]: no questions"):
        HFVQA(str(tmp_path / "out"), "val", HFConfig(), ImageProcessor(8), progress=False)


def test_questions_text_stands_in_for_absent_question_files(tiny_world, tmp_path):
    """The derivative questions_text/<split>_qa.json (binned answers) when the official files are absent."""
    folder = tmp_path / "rsvqa_lr"
    shutil.copytree(tiny_world / "rsvqa_lr", folder)
    split = read_split(folder, "val")
    (folder / "questions_text").mkdir()
    rows = [
        {
            "question_id": q.id,
            "question": q.question,
            "type": q.type,
            "answer": q.answer,
            "image": f"{q.image_id}.tif",
        }
        for q in split.questions
    ]
    (folder / "questions_text" / "val_qa.json").write_text(json.dumps(rows))
    for kind in ("questions", "answers"):
        (folder / f"LR_split_val_{kind}.json").unlink()
    dataset, counts = rsvqa_dataset(folder)
    assert counts["val"].questions == len(split.questions)
    assert [a for row in dataset["val"]["answer"] for a in row] == [q.answer for q in split.questions]


def test_cli_export_prints_counts_and_refuses_a_used_folder(tiny_world, tmp_path, capsys):
    out = tmp_path / "ucm"
    assert main(["export", str(tiny_world / "ucm_captions"), "--out", str(out), "--no-progress"]) == 0
    assert "wrote ucm_captions to" in capsys.readouterr().out and (out / "dataset_dict.json").is_file()
    assert main(["export", str(tiny_world / "ucm_captions"), "--out", str(out), "--no-progress"]) == 2
    assert "exists and is not an empty folder" in capsys.readouterr().err
    assert main(["export", str(tmp_path), "--out", str(tmp_path / "x"), "--no-progress"]) == 2
    assert "nothing to export" in capsys.readouterr().err


def test_labels_none_leaves_the_label_column_out(tiny_world, tmp_path):
    export(tiny_world / "ucm_captions", tmp_path / "out", "disk", labels="none", progress=False)
    loaded = datasets.load_from_disk(str(tmp_path / "out"))
    assert "label" not in loaded["train"].column_names
    data = HFCaptions(str(tmp_path / "out"), "val", HFConfig(), ImageProcessor(16), progress=False)
    assert "landuse" not in data[0] and data.head_settings() == {}


REAL_UCM = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ucm_captions"


@pytest.mark.slow
@pytest.mark.skipif(not REAL_UCM.is_dir(), reason="real UCM-captions not in ../shared/data")
def test_real_ucm_captions_round_trip(tmp_path):
    """The real dataset.json and its JPEGs survive export byte for byte (1,890 images here)."""
    export(REAL_UCM, tmp_path / "ucm", "disk", progress=False)
    original = json.loads((REAL_UCM / "dataset.json").read_text())["images"]
    loaded = datasets.load_from_disk(str(tmp_path / "ucm"))
    seen = 0
    for split, table in loaded.items():
        records = [r for r in original if r["split"] == split]
        for row, record in zip(
            table.cast_column("image", datasets.Image(decode=False)), records, strict=True
        ):
            assert (row["filename"], row["imgid"], row["sentids"]) == (
                record["filename"],
                record["imgid"],
                record["sentids"],
            )
            assert row["sentences"] == [s["raw"] for s in record["sentences"]]
            assert row["tokens"] == [s["tokens"] for s in record["sentences"]]
            assert row["label"] == (int(Path(record["filename"]).stem) - 1) // 100
            assert row["image"]["bytes"] == (REAL_UCM / "imgs" / record["filename"]).read_bytes()
            seen += 1
    assert seen == len(original)
