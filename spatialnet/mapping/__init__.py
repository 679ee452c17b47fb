"""Whole-scene forest maps: a trained TAIGA model run over every pixel of a hyperspectral cube.

``grid`` decides which pixels are predicted and in which strips; ``rasters`` writes the ENVI
outputs strip by strip; ``resume`` records finished strips so a stopped run picks up where it
left off; ``quicklook`` draws the PNGs; ``scene`` ties them together (``spatialnet map``).
"""

from spatialnet.mapping.scene import MapSettings, MapSummary, map_scene

__all__ = ["MapSettings", "MapSummary", "map_scene"]
