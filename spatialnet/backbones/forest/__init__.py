"""Hyperspectral forest-mapping backbones: the seed-000 multitask CNN, the TAIGA (Pham) 3D-CNN, a U-Net.

Each module registers its network as a ``backbone.type`` when imported: ``seed000``
(:mod:`.seed000`, with the blocks of :mod:`.blocks`), ``pham`` (:mod:`.pham`) and ``unet``
(:mod:`.unet`, on a timm encoder). :mod:`spatialnet.backbones.factory` imports the one a recipe names.
"""
