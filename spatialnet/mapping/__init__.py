"""Whole-scene forest maps: a trained TAIGA model run over every pixel of a hyperspectral cube.

``grid`` decides which pixels are predicted and in which strips; ``layers`` what is written
(declared by the heads); ``rasters`` writes the ENVI outputs strip by strip; ``geotiff`` copies
them into GeoTIFFs once finished (``--format gtiff|cog``); ``resume`` records finished strips so a
stopped run picks up where it left off; ``quicklook`` draws the PNGs;
``scene`` ties them together (``spatialnet map``). The package imports nothing itself, so a head
can declare its layers without loading the mapping machinery.
"""
