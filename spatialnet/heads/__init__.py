"""Task heads; importing this package registers every built-in head."""

from spatialnet.heads import caption, classification, pixel, vqa
from spatialnet.heads.base import (
    HEAD_REGISTRY,
    HeadConfig,
    HeadContext,
    Headline,
    TaskHead,
    build_head,
    register_head,
)

__all__ = [
    "HEAD_REGISTRY",
    "HeadConfig",
    "HeadContext",
    "Headline",
    "TaskHead",
    "build_head",
    "register_head",
    "caption",
    "classification",
    "pixel",
    "vqa",
]
