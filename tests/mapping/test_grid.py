"""The map grid: which pixels are predicted, the strips and chunks, and the output's map info."""

import numpy as np
import pytest

from spatialnet.errors import DataError
from spatialnet.mapping.grid import MapGrid, Region

MAP_INFO = ["UTM", "1.000", "1.000", "392000.000", "6855000.000", "1.0", "1.0", "35", "North", "WGS-84"]


def test_every_pixel_at_stride_one_and_windows_inside_the_cube():
    grid = MapGrid(40, 30, window=5, stride=1, region=Region.whole(40, 30))
    assert grid.shape == (40, 30)
    rows, cols = grid.centre_rows(0, 40), grid.centre_cols(0, 30)
    assert rows.tolist() == list(range(40)) and cols.tolist() == list(range(30))
    inside = grid.inside(rows, cols)
    assert inside.sum() == (40 - 4) * (30 - 4)  # two pixels of margin on each side for a 5-px window
    assert not inside[1].any() and inside[2, 2] and not inside[2, 28]


def test_strided_centres_sit_in_their_blocks_and_the_last_is_clipped():
    grid = MapGrid(100, 100, window=5, stride=4, region=Region(10, 20, 10, 9))
    assert grid.shape == (3, 3)
    assert grid.centre_rows(0, 3).tolist() == [12, 16, 19]  # 10 + 2, 10 + 6, then clipped to row 19
    assert grid.centre_cols(0, 3).tolist() == [22, 26, 28]


def test_strips_and_chunks_cover_the_output_once():
    grid = MapGrid(1000, 700, window=17, stride=3, region=Region.whole(1000, 700))
    rows = [r for first, end in grid.strips for r in range(first, end)]
    cols = [c for first, end in grid.chunks() for c in range(first, end)]
    assert rows == list(range(grid.shape[0])) and cols == list(range(grid.shape[1]))


def test_map_info_keeps_the_ground_position_of_the_region_corner():
    grid = MapGrid(100, 100, window=5, stride=4, region=Region(8, 12, 40, 40))
    info = grid.map_info(MAP_INFO)
    tie_x, tie_y, size_x, size_y = (float(info[i]) for i in (1, 2, 5, 6))
    assert (size_x, size_y) == (4.0, 4.0)
    # The output's upper-left corner (1, 1) is the cube's pixel corner (13, 9): 12 m east, 8 m south.
    easting = float(info[3]) + (1 - tie_x) * size_x
    northing = float(info[4]) - (1 - tie_y) * size_y
    assert easting == pytest.approx(392000 + 12) and northing == pytest.approx(6855000 - 8)
    assert info[7:] == MAP_INFO[7:]
    assert grid.map_info(None) is None and grid.map_info(["Arbitrary"]) is None


@pytest.mark.parametrize(
    ("region", "message"),
    [((0, 0, 0, 5), "HEIGHT WIDTH"), ((90, 0, 20, 5), "outside the cube"), ((-1, 0, 5, 5), "ROW COL")],
)
def test_bad_regions_are_refused(region, message):
    with pytest.raises(DataError, match=message):
        Region(*region).checked(100, 100, "cube.hdr")


def test_bad_stride_is_refused():
    with pytest.raises(DataError, match="--stride 0"):
        MapGrid(10, 10, window=3, stride=0, region=Region.whole(10, 10))
    assert np.all(MapGrid(10, 10, 3, 1, Region.whole(10, 10)).inside(np.arange(1, 9), np.arange(1, 9)))
