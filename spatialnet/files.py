"""JSON files written whole or not at all: readers never see half a file."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def json_bytes(data: Any) -> bytes:
    """``data`` as the UTF-8 JSON text spatialnet stores (indented, keys sorted)."""
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


def write_json(path: Path, data: Any) -> None:
    """Write JSON through a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(json_bytes(data))
    os.replace(tmp, path)


def fsync_file(path: Path) -> None:
    """Flush ``path``'s data to disk (after this returns, a power cut cannot lose it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_metrics(path: Path, metrics: dict[str, Any]) -> None:
    """Write a metrics report (numpy and torch scalars become plain floats), folders made as needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, json.loads(json.dumps(metrics, default=float)))


def file_digest(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, read in chunks (names exactly which weights or inputs a result was made from)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
