"""Hugging Face datasets as they come from elsewhere: other column names, a split column, one row
per question, labels given as names, parquet without our metadata, and the errors for what is missing."""

from __future__ import annotations

import io
import math

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from PIL import Image

from spatialnet.config import DataConfig, HFConfig, from_dict
from spatialnet.data.base import Fitted
from spatialnet.data.hf.captions import HFCaptions
from spatialnet.data.hf.vqa import HFVQA
from spatialnet.data.registry import build_dataset
from spatialnet.errors import DataError
from spatialnet.processors import ImageProcessor

PROCESSOR = ImageProcessor(8)


def png(value: int) -> bytes:
    """A 6×6 PNG of one grey level (distinct values: distinct images)."""
    buffer = io.BytesIO()
    Image.fromarray(np.full((6, 6, 3), value, dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def caption_table() -> datasets.Dataset:
    """One table, a split column, two caption columns (one string, one list), labels as names."""
    return datasets.Dataset.from_dict(
        {
            "img": [{"bytes": png(10 * i), "path": f"{i}.png"} for i in range(5)],
            "split": ["train", "train", "train", "validation", "validation"],
            "caption_a": ["a field .", "a beach .", "a road .", "a field again .", "sand ."],
            "more": [["green crops ."], [], ["asphalt ."], None, ["waves ."]],
            "scene": ["farm", "beach", "farm", "farm", "beach"],
        },
        features=datasets.Features(
            {
                "img": datasets.Image(),
                "split": datasets.Value("string"),
                "caption_a": datasets.Value("string"),
                "more": datasets.List(datasets.Value("string")),
                "scene": datasets.Value("string"),
            }
        ),
    )


CAPTION_COLUMNS = HFConfig(image="img", captions=["caption_a", "more"], label="scene")


def test_captions_from_named_columns_a_split_column_and_class_names(tmp_path):
    caption_table().save_to_disk(str(tmp_path / "single"))
    train = HFCaptions(str(tmp_path / "single"), "train", CAPTION_COLUMNS, PROCESSOR, progress=False)
    assert train.reference_sets() == [
        ["a field .", "green crops ."],
        ["a beach ."],
        ["a road .", "asphalt ."],
    ]
    assert train.labels == [1, 0, 1] and train.classes == ("beach", "farm")  # names numbered in sorted order
    assert train.image_ids == [0, 1, 2]  # no id column: the row's position in the split
    assert train.fitted_state() == {"classes": ["beach", "farm"]}
    assert train.head_settings() == {"landuse": {"num_classes": 2, "class_names": ["beach", "farm"]}}
    item = train[2]
    assert item["captions"] == "a road ." and item["references"] == ["a road .", "asphalt ."]
    assert int(item["landuse"]) == 1 and int(item["image_id"]) == 2
    # pixels: the PNG of grey 20, normalised
    assert torch.allclose(item["image"], PROCESSOR.normalize(torch.full((3, 8, 8), 20, dtype=torch.uint8)))
    val = HFCaptions(
        str(tmp_path / "single"),
        "validation",
        CAPTION_COLUMNS,
        PROCESSOR,
        classes=["beach", "farm"],
        progress=False,
    )
    assert val.labels == [1, 0] and val.reference_sets() == [["a field again ."], ["sand .", "waves ."]]


def test_a_validation_class_unseen_in_training_is_refused(tmp_path):
    caption_table().save_to_disk(str(tmp_path / "single"))
    with pytest.raises(
        DataError, match=r"classes \['beach'\] are not among the training split's: \['farm'\]"
    ):
        HFCaptions(
            str(tmp_path / "single"),
            "validation",
            CAPTION_COLUMNS,
            PROCESSOR,
            classes=["farm"],
            progress=False,
        )


def test_registry_hands_the_training_classes_to_validation(tmp_path):
    caption_table().save_to_disk(str(tmp_path / "single"))
    section = {
        "dataset": "hf_captions",
        "root": str(tmp_path / "single"),
        "image_size": 8,
        "val_split": "validation",
        "hf": {"image": "img", "captions": ["caption_a", "more"], "label": "scene"},
    }
    config = from_dict(DataConfig, section, "test", "data.")
    train = build_dataset(config, "train", train=True)
    val = build_dataset(config, "validation", train=False, fitted=Fitted.of(train))
    assert [int(val[i]["landuse"]) for i in range(2)] == [1, 0]


def test_missing_columns_are_named_with_the_columns_present(tmp_path):
    caption_table().save_to_disk(str(tmp_path / "single"))
    root = str(tmp_path / "single")
    present = "the columns are: img, split, caption_a, more, scene"
    with pytest.raises(DataError, match=rf"no column 'image' \(data.hf.image\); {present}"):
        HFCaptions(root, "train", HFConfig(captions=["caption_a"]), PROCESSOR, progress=False)
    with pytest.raises(
        DataError, match=rf"no caption column \(tried sentences, captions, caption, text.*{present}"
    ):
        HFCaptions(root, "train", HFConfig(image="img"), PROCESSOR, progress=False)
    with pytest.raises(DataError, match=rf"no column 'landuse' \(data.hf.label\); {present}"):
        HFCaptions(root, "train", HFConfig(image="img", captions=["caption_a"], label="landuse"), PROCESSOR)
    with pytest.raises(DataError, match=r"no rows with split = 'test'; the column holds: train, validation"):
        HFCaptions(root, "test", CAPTION_COLUMNS, PROCESSOR, progress=False)


def test_a_single_table_needs_a_split_column(tmp_path):
    caption_table().remove_columns("split").to_parquet(str(tmp_path / "all.parquet"))
    with pytest.raises(DataError, match="one table without splits .*data.hf.split_column"):
        HFCaptions(str(tmp_path / "all.parquet"), "train", CAPTION_COLUMNS, PROCESSOR, progress=False)


def test_a_dataset_dict_with_no_such_split_lists_its_splits(tmp_path):
    datasets.DatasetDict(train=caption_table(), test=caption_table()).save_to_disk(str(tmp_path / "dd"))
    with pytest.raises(DataError, match="no split 'val'; available splits: test, train"):
        HFCaptions(str(tmp_path / "dd"), "val", CAPTION_COLUMNS, PROCESSOR, progress=False)


def test_not_a_dataset_and_offline_hub_names_are_explained(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="not a Hugging Face dataset; expected a save_to_disk folder"):
        HFCaptions(str(tmp_path), "train", CAPTION_COLUMNS, PROCESSOR, progress=False)
    with pytest.raises(
        DataError, match="no-such-owner/no-such-set: no such file or folder, and loading it as a"
    ):
        HFCaptions("no-such-owner/no-such-set", "train", CAPTION_COLUMNS, PROCESSOR, progress=False)


def question_rows() -> dict[str, list]:
    """One row per question, images repeated as bytes, no ids, no types, counts as numbers."""
    return {
        "image": [png(0), png(0), png(0), png(99), png(99)],
        "question": [
            "Is it a rural or an urban area",
            "How many buildings are there?",
            "Is there a road at the left of a water area?",
            "Are there more roads than buildings?",
            "What is the number of roads?",
        ],
        "answer": ["urban", 42, "yes", "no", "0"],
    }


def test_vqa_from_question_rows_in_plain_parquet(tmp_path):
    """Parquet without datasets' metadata: images are raw bytes; same bytes, same image."""
    folder = tmp_path / "pq" / "data"
    folder.mkdir(parents=True)
    rows = question_rows()
    table = pa.table({**rows, "answer": [str(a) for a in rows["answer"]]})
    pq.write_table(table.slice(0, 3), folder / "train-00000-of-00002.parquet")
    pq.write_table(table.slice(3, 2), folder / "train-00001-of-00002.parquet")
    data = HFVQA(str(tmp_path / "pq"), "train", HFConfig(), PROCESSOR, progress=False)
    assert data.image_ids == [0, 1] and data.num_questions == 5
    first, second = data[0], data[1]
    assert first["question_type"] == ["rural_urban", "count", "presence"]  # inferred from the text
    assert first["answer"] == ["urban", "between 10 and 100", "yes"] and first["question_id"] == [0, 1, 2]
    assert first["count"][1] == 42.0 and math.isnan(first["count"][0])
    assert second["question_type"] == ["comp", "count"] and second["question_id"] == [3, 4]
    assert second["answer"] == ["no", "0"] and second["count"][1] == 0.0


def test_vqa_ids_and_types_from_columns_and_answers_checked(tmp_path):
    rows = {
        **question_rows(),
        "img_id": [7, 7, 7, 3, 3],
        "question_id": [10, 11, 12, 13, 14],
        "type": ["rural_urban", "count", "presence", "comp", "count"],
    }
    rows["answer"] = [str(a) for a in rows["answer"]]
    datasets.DatasetDict(test=datasets.Dataset.from_dict(rows)).save_to_disk(str(tmp_path / "dd"))
    data = HFVQA(str(tmp_path / "dd"), "test", HFConfig(), PROCESSOR, progress=False)
    assert data.image_ids == [7, 3] and [q.id for q in data.questions[1]] == [13, 14]
    rows["answer"][0] = "maybe"
    datasets.DatasetDict(test=datasets.Dataset.from_dict(rows)).save_to_disk(str(tmp_path / "bad"))
    with pytest.raises(
        DataError, match=r"\[split 'test'\] row 0, question 10: answer 'maybe' to a rural_urban"
    ):
        HFVQA(str(tmp_path / "bad"), "test", HFConfig(), PROCESSOR, progress=False)
    with pytest.raises(
        DataError, match=r"no column 'q' \(data.hf.question\); the columns are: image, question"
    ):
        HFVQA(str(tmp_path / "dd"), "test", HFConfig(question="q"), PROCESSOR, progress=False)


def test_vqa_image_rows_need_aligned_lists(tmp_path):
    rows = {
        "image": [png(1)],
        "question": [["Is there a road?", "Is there a building?"]],
        "answer": [["yes"]],
    }
    datasets.DatasetDict(train=datasets.Dataset.from_dict(rows)).save_to_disk(str(tmp_path / "dd"))
    with pytest.raises(
        DataError, match="row 0: with one row per image, the question, answer, type and id columns"
    ):
        HFVQA(str(tmp_path / "dd"), "train", HFConfig(), PROCESSOR, progress=False)
