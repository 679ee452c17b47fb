import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
import torch
from matplotlib.figure import Figure
from PIL import Image

from spatialnet.config import AugmentConfig, DataConfig
from spatialnet.data.registry import build_dataset, registered
from spatialnet.data.transforms import TrainAugment
from spatialnet.data.ucm.dataset import UCM_CLASSES, UCMCaptions, label_from_filename
from spatialnet.errors import DataError
from spatialnet.processors import ImageProcessor

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ucm_captions"

# (filename, split, imgid); labels by the filename rule: 1→0, 101→1, 250→2, 2100→20, 5→0, 1500→14
RECORDS = [
    ("1.jpg", "train", 0),
    ("101.png", "train", 100),
    ("250.jpg", "train", 249),
    ("2100.tif", "train", 2099),
    ("5.jpg", "val", 4),
    ("1500.png", "val", 1499),
]


def _write_world(root: Path, records: list[tuple[str, str, int]] = RECORDS, seed: int = 0) -> Path:
    """A tiny UCM-captions folder: dataset.json + odd-sized images in three formats."""
    folder = root / "ucm_captions"
    (folder / "imgs").mkdir(parents=True)
    rng = np.random.default_rng(seed)
    images: list[dict[str, Any]] = []
    for filename, split, imgid in records:
        pixels = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
        path = folder / "imgs" / filename
        if path.suffix == ".tif":
            tifffile.imwrite(path, pixels, photometric="rgb")
        else:
            Image.fromarray(pixels).save(path)
        sentences = [{"raw": f"caption {k} of {filename} .", "tokens": [], "imgid": imgid} for k in range(5)]
        images.append({"filename": filename, "imgid": imgid, "split": split, "sentences": sentences})
    (folder / "dataset.json").write_text(json.dumps({"images": images, "dataset": "UCM"}))
    return folder


def _ucm(root: Path, split: str = "train", **kwargs: Any) -> UCMCaptions:
    return UCMCaptions(root, split=split, processor=ImageProcessor(16), progress=False, **kwargs)


def test_reads_split_with_filename_labels(tmp_path: Path) -> None:
    folder = _write_world(tmp_path)
    for root in (tmp_path, folder):  # world root or the ucm_captions folder itself
        data = _ucm(root)
        assert len(data) == 4 and data.label_source == "filename"
        assert data.filenames == ["1.jpg", "101.png", "250.jpg", "2100.tif"]
        assert data.labels == [0, 1, 2, 20]
        assert data.images.shape == (4, 3, 16, 16) and data.images.dtype == torch.uint8
    val = _ucm(tmp_path, "val")
    assert val.labels == [0, 14] and val.image_ids == [4, 1499]
    item = val[1]
    assert item["image"].dtype == torch.float32 and item["image"].shape == (3, 16, 16)
    assert item["landuse"].dtype == torch.int64 and item["landuse"].item() == 14
    assert item["image_id"].item() == 1499
    assert val.captions(1)[0] == "caption 0 of 1500.png ."
    assert len(val.captions(1)) == 5


def test_image_is_normalised_stored_pixels(tmp_path: Path) -> None:
    _write_world(tmp_path)
    data = _ucm(tmp_path)  # ImageProcessor defaults: mean 0.5, std 0.25
    expected = (data.images[2].float() / 255 - 0.5) / 0.25
    torch.testing.assert_close(data[2]["image"], expected)


def test_scenes_jsonl_overrides_filename_rule(tmp_path: Path) -> None:
    _write_world(tmp_path)
    rows = [
        {"filename": name, "image_id": imgid, "split": split, "landuse": UCM_CLASSES[7], "landuse_index": 7}
        for name, split, imgid in RECORDS
    ]
    rows[1] |= {"landuse": "river", "landuse_index": 16}
    (tmp_path / "scenes.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    data = _ucm(tmp_path)
    assert data.label_source == "scenes" and data.labels == [7, 16, 7, 7]
    assert _ucm(tmp_path, label_source="filename").labels == [0, 1, 2, 20]


def test_scenes_jsonl_errors(tmp_path: Path) -> None:
    _write_world(tmp_path)
    with pytest.raises(DataError, match="scenes.jsonl: not found"):
        _ucm(tmp_path, label_source="scenes")
    (tmp_path / "scenes.jsonl").write_text(json.dumps({"filename": "1.jpg", "landuse_index": 0}) + "\n")
    with pytest.raises(DataError, match="no row with filename '101.png'"):
        _ucm(tmp_path)
    (tmp_path / "scenes.jsonl").write_text(json.dumps({"filename": "1.jpg", "landuse_index": 21}) + "\n")
    with pytest.raises(DataError, match=r"scenes.jsonl:1: 'landuse_index' must be an integer in 0..20"):
        _ucm(tmp_path)


def test_filename_rule_errors_name_the_file() -> None:
    assert label_from_filename("2001.tif") == 20
    assert label_from_filename("100.jpg") == 0 and label_from_filename("101.jpg") == 1
    for bad in ("0.jpg", "2101.jpg", "tile_a.jpg"):
        with pytest.raises(DataError, match=f"'{bad}'"):
            label_from_filename(bad)


def test_missing_images_are_listed(tmp_path: Path) -> None:
    folder = _write_world(tmp_path)
    (folder / "imgs" / "101.png").unlink()
    (folder / "imgs" / "2100.tif").unlink()
    with pytest.raises(DataError) as info:
        _ucm(tmp_path)
    message = str(info.value)
    assert "2 of 4 'train' images" in message and "101.png, 2100.tif" in message
    assert "RSICD_optimal" in message and "spatialnet synth" in message
    _ucm(tmp_path, "val")  # the other split is complete


def test_missing_annotation_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="missing annotation file .*dataset.json.*RSICD_optimal"):
        _ucm(tmp_path)
    folder = _write_world(tmp_path / "w")
    (folder / "imgs" / "1.jpg").unlink()
    for p in (folder / "imgs").iterdir():
        p.unlink()
    (folder / "imgs").rmdir()
    with pytest.raises(DataError, match="missing image folder"):
        _ucm(folder)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "invalid JSON"),
        (json.dumps({"dataset": "UCM"}), "'images' list"),
        (json.dumps({"images": [{"split": "train", "imgid": 0}]}), r"images\[0\] has no 'filename'"),
        (json.dumps({"images": [{"filename": "1.jpg", "imgid": 0}]}), r"images\[0\] has no 'split'"),
    ],
)
def test_malformed_dataset_json(tmp_path: Path, content: str, match: str) -> None:
    folder = _write_world(tmp_path)
    (folder / "dataset.json").write_text(content)
    with pytest.raises(DataError, match=match) as info:
        _ucm(tmp_path)
    assert "dataset.json" in str(info.value)


def test_unknown_split_lists_available(tmp_path: Path) -> None:
    _write_world(tmp_path)
    with pytest.raises(DataError, match="no images in split 'test'; available splits: train, val"):
        _ucm(tmp_path, "test")


def test_augmentation_reproducible_per_epoch_seed(tmp_path: Path) -> None:
    _write_world(tmp_path)
    data = _ucm(tmp_path, augment=TrainAugment(color_jitter=0.2))
    data.set_epoch(3)
    first = [data[i]["image"] for i in range(len(data))]
    reversed_order = [data[i]["image"] for i in reversed(range(len(data)))][::-1]
    for a, b in zip(first, reversed_order, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)  # independent of sampling order
    data.set_epoch(4)
    assert any(not torch.equal(a, data[i]["image"]) for i, a in enumerate(first))


def test_plot_returns_figure(tmp_path: Path) -> None:
    _write_world(tmp_path)
    figure = _ucm(tmp_path).plot(1)
    assert isinstance(figure, Figure)
    assert "airplane" in figure.axes[0].get_title()


def test_registry_builds_ucm(tmp_path: Path) -> None:
    _write_world(tmp_path)
    assert "ucm_landuse" in registered()
    config = DataConfig(root=str(tmp_path), image_size=16, augment=AugmentConfig(rot90=True))
    train = build_dataset(config, "train", train=True)
    assert isinstance(train, UCMCaptions) and isinstance(train.augment, TrainAugment)
    val = build_dataset(config, config.val_split, train=False)
    assert isinstance(val, UCMCaptions) and val.augment is None and len(val) == 2
    with pytest.raises(DataError, match="data.root is not set"):
        build_dataset(DataConfig(), "train", train=False)
    with pytest.raises(DataError, match="unknown dataset 'nope'; known: .*ucm_landuse"):
        build_dataset(DataConfig(dataset="nope", root=str(tmp_path)), "train", train=False)


def test_real_val_split() -> None:
    if not (REAL / "dataset.json").is_file():
        pytest.skip("../shared/data/ucm_captions absent: real-data test needs it")
    data = UCMCaptions(REAL, split="val", processor=ImageProcessor(32), progress=False)
    assert len(data) == 210 and data.label_source == "filename"
    # The official val split is not stratified: 10 per class except airplane, harbor and
    # intersection (9 each) and denseresidential (13).
    expected = [10] * 21
    expected[1] = expected[10] = expected[11] = 9
    expected[6] = 13
    assert np.bincount(data.labels, minlength=21).tolist() == expected
    for name, label in zip(data.filenames, data.labels, strict=True):
        assert label == (int(Path(name).stem) - 1) // 100
    assert data.images.shape == (210, 3, 32, 32)
    assert all(len(data.captions(i)) == 5 for i in range(len(data)))
