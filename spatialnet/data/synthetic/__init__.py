"""Procedural synthetic remote-sensing world: aerial-style scenes with exact scene graphs and captions."""

from spatialnet.data.synthetic.world import SynthSummary, synthesize

__all__ = ["SynthSummary", "synthesize"]
