"""The RSVQA-LR torch dataset: items per image, consistent augmentation, question sampling."""

import itertools
import math

import numpy as np
import pytest
import tifffile
import torch

from spatialnet.data.rsvqa.answers import remap_sides
from spatialnet.data.rsvqa.dataset import RSVQALR
from spatialnet.data.rsvqa.files import VQAImage, VQAQuestion, image_file, write_split
from spatialnet.data.transforms import TrainAugment
from spatialnet.errors import DataError
from spatialnet.processors import ImageProcessor

QUESTIONS = [
    ("presence", "Is there a road at the left of a water area?", "yes"),
    ("count", "How many buildings are there?", "7"),
    ("comp", "Are there more roads than forests?", "no"),
    ("rural_urban", "Is it a rural or an urban area", "urban"),
    ("count", "What is the number of roads at the top of a building?", "0"),
]


@pytest.fixture
def rsvqa_root(tmp_path):
    """A world folder holding rsvqa_lr/ with 3 train images (the last without questions) and 1 val image."""
    root = tmp_path / "world" / "rsvqa_lr"
    rng = np.random.default_rng(0)
    images, questions = [], []
    for image_id in range(3):
        path = image_file(root, image_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(path, rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
        asked = QUESTIONS if image_id < 2 else []
        ids = [image_id * 10 + i for i in range(len(asked))]
        images.append(VQAImage(image_id, path, tuple(ids)))
        questions += [
            VQAQuestion.from_raw(i, image_id, t, q, a) for i, (t, q, a) in zip(ids, asked, strict=True)
        ]
    write_split(root, "train", images, questions)
    path = image_file(root, 3)
    tifffile.imwrite(path, rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    write_split(
        root,
        "val",
        [VQAImage(3, path, (40,))],
        [VQAQuestion.from_raw(40, 3, "presence", "Is there a road?", "no")],
    )
    return root.parent


def test_items_hold_every_question_of_an_image(rsvqa_root):
    data = RSVQALR(rsvqa_root, "train", ImageProcessor(16), progress=False)
    assert len(data) == 2 and data.num_questions == 10  # image 2 has no questions: left out
    item = data[1]
    assert item["image"].shape == (3, 16, 16) and item["image"].dtype == torch.float32
    assert int(item["image_id"]) == 1
    assert item["question"] == [q for _, q, _ in QUESTIONS]
    assert item["answer"] == ["yes", "between 0 and 10", "no", "urban", "0"]
    assert item["question_type"] == [t for t, _, _ in QUESTIONS]
    assert item["question_id"] == [10, 11, 12, 13, 14]
    assert math.isnan(item["count"][0]) and item["count"][1] == 7.0 and item["count"][4] == 0.0
    assert data.texts("question")[:2] == [QUESTIONS[0][1], QUESTIONS[1][1]]
    assert len(RSVQALR(rsvqa_root / "rsvqa_lr", "val", ImageProcessor(16), progress=False)) == 1


def test_crops_are_refused_and_missing_files_named(rsvqa_root):
    with pytest.raises(DataError, match="random_resized_crop must be null for RSVQA"):
        RSVQALR(rsvqa_root, "train", augment=TrainAugment(random_resized_crop=0.5), progress=False)
    with pytest.raises(
        DataError, match=r"rsvqa_lr: missing LR_split_test_images.json, .*Zenodo record 6344334"
    ):
        RSVQALR(rsvqa_root, "test", progress=False)


def test_augmented_questions_stay_true_for_the_augmented_image(rsvqa_root):
    plain = RSVQALR(rsvqa_root, "train", ImageProcessor(32), progress=False)
    data = RSVQALR(rsvqa_root, "train", ImageProcessor(32), augment=TrainAugment(), progress=False)
    original = plain.images[0]
    seen = set()
    for epoch in range(24):
        data.set_epoch(epoch)
        item = data[0]
        matches = []
        for hflip, vflip, turns in itertools.product([False, True], [False, True], range(4)):
            image = original.flip(-1) if hflip else original
            image = image.flip(-2) if vflip else image
            image = torch.rot90(image, turns, dims=(-2, -1))
            normalised = data.processor.normalize(image)
            if torch.allclose(normalised, item["image"]):
                matches.append((hflip, vflip, turns))
        assert matches, "the augmented image is no flip/turn of the stored one"
        assert any(item["question"] == [remap_sides(q, *ops) for _, q, _ in QUESTIONS] for ops in matches)
        seen.add(item["question"][0])
    assert len(seen) == 4  # the left-of question was seen with every side over the epochs


def test_questions_per_image_samples_per_epoch(rsvqa_root):
    data = RSVQALR(
        rsvqa_root, "train", ImageProcessor(16), augment=TrainAugment(), questions_per_image=2, progress=False
    )
    data.set_epoch(0)
    first = data[1]
    assert len(first["question"]) == len(first["answer"]) == len(first["question_id"]) == 2
    assert data[1]["question_id"] == first["question_id"]  # same epoch seed ⇒ same draw
    drawn = set()
    for epoch in range(10):
        data.set_epoch(epoch)
        drawn.update(data[1]["question_id"])
    assert len(drawn) > 2
    evaluation = RSVQALR(rsvqa_root, "train", ImageProcessor(16), questions_per_image=0, progress=False)
    assert len(evaluation[1]["question"]) == 5
