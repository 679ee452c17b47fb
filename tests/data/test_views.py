import torch

from spatialnet.data.views import DIHEDRAL_VIEWS, dihedral_views


def test_square_images_give_the_eight_distinct_symmetries() -> None:
    image = torch.arange(9.0).reshape(1, 1, 3, 3)  # no symmetry of its own
    views = dihedral_views(image)
    assert len(views) == DIHEDRAL_VIEWS
    assert len({tuple(v.flatten().tolist()) for v in views}) == 8
    torch.testing.assert_close(views[0], image)  # the identity comes first
    # the set is closed under a quarter turn: turning every view permutes the views
    turned = {tuple(v.rot90(1, dims=(-2, -1)).flatten().tolist()) for v in views}
    assert turned == {tuple(v.flatten().tolist()) for v in views}


def test_non_square_images_get_their_four_flips() -> None:
    image = torch.arange(6.0).reshape(1, 2, 3)
    views = dihedral_views(image)
    assert len(views) == 4
    assert all(v.shape == image.shape for v in views)
    assert len({tuple(v.flatten().tolist()) for v in views}) == 4
