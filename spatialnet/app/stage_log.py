"""Where an app request's time goes: one JSON line per answered request, when asked for.

``spatialnet app --profile FILE`` appends, per request, the endpoint, the wall-clock time it
finished and the seconds of each stage inside the app: ``decode`` (reading and checking the
upload), ``batch_wait`` (gathering a micro-batch and waiting for the model), ``batch_run`` (the
batch's preprocessing, forward pass and, for captions, beam search), ``batch_size`` and ``in_app``
(the whole function). What a client measures beyond ``in_app`` is the serving stack's: upload,
Gradio's queue, the response. ``scripts/bench_app.py`` reads the file beside its client timings.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class StageLog:
    """Appends one JSON object per request to ``path`` (thread-safe; line-buffered)."""

    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, endpoint: str, **stages: float) -> None:
        """Write one request's stage seconds (and counts) with its endpoint and finishing time."""
        line = json.dumps({"endpoint": endpoint, "finished": time.time(), **stages})
        with self._lock, self.path.open("a", encoding="utf-8") as sink:
            sink.write(line + "\n")


def read_stage_log(path: Path, since: float = 0.0, until: float = float("inf")) -> list[dict[str, Any]]:
    """The requests recorded in ``path`` that finished between ``since`` and ``until`` (wall-clock)."""
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row for row in rows if since <= row["finished"] <= until]
