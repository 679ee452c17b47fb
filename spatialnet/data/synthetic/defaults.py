"""The synthetic world's default sizes (no imports: the CLI shows them without loading generators)."""

from __future__ import annotations

# The embedded default (synth, quickstart): 1536 x 1536 px of 64 px stands gives ~460 stands,
# ~74 of them holdout: enough stands that a model must learn forest structure rather than
# memorise stands, and test metrics average over many (~30 s, 740 MB at 128 bands).
DEFAULT_FOREST_SIZE = 1536
DEFAULT_QUESTIONS_PER_IMAGE = 20  # RSVQA-LR questions written per synthetic tile
