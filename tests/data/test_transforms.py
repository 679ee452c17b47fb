import pytest
import torch

from spatialnet.config import AugmentConfig
from spatialnet.data.transforms import TrainAugment
from spatialnet.errors import DataError

# 2×2 single-channel image  [[1, 2], [3, 4]]
TINY = torch.tensor([[[1, 2], [3, 4]]], dtype=torch.uint8)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_flips_and_rot90_do_what_they_say() -> None:
    hflip = TrainAugment(hflip=True, vflip=False, rot90=False)
    vflip = TrainAugment(hflip=False, vflip=True, rot90=False)
    seen_h = {tuple(hflip(TINY, _gen(s)).flatten().tolist()) for s in range(40)}
    seen_v = {tuple(vflip(TINY, _gen(s)).flatten().tolist()) for s in range(40)}
    assert seen_h == {(1, 2, 3, 4), (2, 1, 4, 3)}
    assert seen_v == {(1, 2, 3, 4), (3, 4, 1, 2)}
    rot = TrainAugment(hflip=False, vflip=False, rot90=True)
    seen_r = {tuple(rot(TINY, _gen(s)).flatten().tolist()) for s in range(60)}
    # the four rotations of [[1,2],[3,4]] (counter-clockwise k = 0..3)
    assert seen_r == {(1, 2, 3, 4), (2, 4, 1, 3), (4, 3, 2, 1), (3, 1, 4, 2)}


def test_same_seed_same_output_and_dtype_kept() -> None:
    config = AugmentConfig(random_resized_crop=0.5, color_jitter=0.3)
    augment = TrainAugment.from_config(config)
    image = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8, generator=_gen(0))
    a = augment(image, _gen(123))
    b = augment(image, _gen(123))
    assert a.dtype == torch.uint8 and a.shape == image.shape
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    outs = {augment(image, _gen(s)).sum().item() for s in range(5)}
    assert len(outs) > 1  # different seeds differ


def test_resized_crop_keeps_size_and_disabled_is_identity() -> None:
    image = torch.randint(0, 256, (3, 20, 24), dtype=torch.uint8, generator=_gen(1))
    crop = TrainAugment(hflip=False, vflip=False, rot90=False, random_resized_crop=0.3)
    assert crop(image, _gen(5)).shape == (3, 20, 24)
    identity = TrainAugment(hflip=False, vflip=False, rot90=False)
    torch.testing.assert_close(identity(image, _gen(5)), image, rtol=0, atol=0)


def test_bad_config_refused() -> None:
    with pytest.raises(DataError, match="random_resized_crop"):
        TrainAugment(random_resized_crop=1.5)
