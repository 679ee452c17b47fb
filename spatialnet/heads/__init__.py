"""Task heads: the contract (``base``) and the built-in heads, each imported when first named."""

from spatialnet.heads.base import (
    BUILT_IN_HEADS,
    HEAD_REGISTRY,
    HeadConfig,
    HeadContext,
    Headline,
    TaskHead,
    build_head,
    head_class,
    register_head,
    registered_heads,
)

__all__ = [
    "BUILT_IN_HEADS",
    "HEAD_REGISTRY",
    "HeadConfig",
    "HeadContext",
    "Headline",
    "TaskHead",
    "build_head",
    "head_class",
    "register_head",
    "registered_heads",
]
