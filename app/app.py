"""Deployable entry of the SpatialNet app (a Space or a server runs this file).

    SPATIALNET_CHECKPOINT=runs/quickstart/model python app/app.py

Reads the checkpoint from ``SPATIALNET_CHECKPOINT``; host and port from ``SPATIALNET_HOST``
(default 127.0.0.1) and ``SPATIALNET_PORT`` (default 7860).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from spatialnet.app.build import launch

if __name__ == "__main__":
    checkpoint = os.environ.get("SPATIALNET_CHECKPOINT")
    if not checkpoint:
        sys.exit("set SPATIALNET_CHECKPOINT to a trained run, e.g. runs/quickstart/model")
    launch(
        Path(checkpoint),
        os.environ.get("SPATIALNET_HOST", "127.0.0.1"),
        int(os.environ.get("SPATIALNET_PORT", "7860")),
    )
