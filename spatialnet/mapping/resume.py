"""What lets a stopped map resume: the settings it was started with and which strips are finished.

``map.json`` records the settings (model weights' hash, cube, stride, region, geometry) and, once
done, a summary; ``strips.done`` holds one byte per strip, set (and fsync-ed) only after the
strip's rasters are fsync-ed. A strip cut short by a kill is not marked and is computed again,
and every strip is computed from the same windows in the same batches, so a resumed map is
byte-identical to an uninterrupted one. A GeoTIFF map is copied from its finished ENVI strips,
then ``geotiffs_written`` is set and the strips are removed: a kill during the copy copies again,
from the same strips, to the same bytes. Re-running with other settings is refused rather than
mixing two maps in one folder.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spatialnet.errors import DataError
from spatialnet.files import fsync_file, write_json

MANIFEST = "map.json"
DONE_FILE = "strips.done"


class MapProgress:
    """The manifest and the per-strip done flags of one output folder."""

    def __init__(self, folder: Path, strips: int) -> None:
        self.folder = folder
        self.strips = strips

    @classmethod
    def start(cls, folder: Path, settings: Mapping[str, Any], strips: int, overwrite: bool) -> MapProgress:
        """Open the folder's progress for these ``settings``: new, resumed, or (``overwrite``) restarted.

        Raises DataError when the folder holds other files, or a map with other settings.
        """
        manifest = folder / MANIFEST
        if manifest.is_file():
            try:
                previous = json.loads(manifest.read_text(encoding="utf-8"))
                old_settings = previous["settings"]
            except (ValueError, KeyError, TypeError):
                raise DataError(f"{manifest}: not a spatialnet map manifest; use another --out") from None
            if overwrite:
                cls._remove(folder, previous)
            elif old_settings != json.loads(json.dumps(settings)):
                changed = sorted(
                    k for k in {*old_settings, *settings} if old_settings.get(k) != settings.get(k)
                )
                raise DataError(
                    f"{folder}: holds a map made with other settings ({', '.join(changed)} differ); "
                    "pass --overwrite to replace it or choose another --out"
                )
            else:
                progress = cls(folder, strips)
                if (folder / DONE_FILE).stat().st_size != strips:
                    raise DataError(f"{folder / DONE_FILE}: expected {strips} bytes (one per strip)")
                return progress
        elif folder.exists() and any(folder.iterdir()):
            raise DataError(
                f"{folder}: not empty and not a spatialnet map folder; choose an empty or new --out"
            )
        folder.mkdir(parents=True, exist_ok=True)
        (folder / DONE_FILE).write_bytes(bytes(strips))
        write_json(manifest, {"settings": dict(settings), "complete": False})
        return cls(folder, strips)

    @staticmethod
    def _remove(folder: Path, previous: Mapping[str, Any]) -> None:
        """Delete the files an earlier map wrote (only those it lists), so a new one starts clean.

        Subfolders the listed files leave empty go too (a GeoTIFF map's ENVI strips).
        """
        paths = [folder / name for name in [*previous.get("files", []), DONE_FILE, MANIFEST]]
        for path in paths:
            path.unlink(missing_ok=True)
        for parent in sorted({path.parent for path in paths} - {folder}, reverse=True):
            with contextlib.suppress(OSError):  # not empty: holds files the map did not list
                parent.rmdir()

    def done(self) -> list[bool]:
        """Which strips are finished."""
        return [b != 0 for b in (self.folder / DONE_FILE).read_bytes()]

    def mark_done(self, strip: int) -> None:
        """Record ``strip`` as finished (durably: after this returns, a kill cannot undo it)."""
        fd = os.open(self.folder / DONE_FILE, os.O_RDWR)
        try:
            os.pwrite(fd, b"\x01", strip)
            os.fsync(fd)
        finally:
            os.close(fd)

    def record_files(self, files: list[str]) -> None:
        """List the files this map writes in the manifest (so --overwrite removes exactly those)."""
        self._update({"files": files})

    def geotiffs_written(self) -> bool:
        """Whether the GeoTIFFs were copied from the finished strips (and the strips may be gone)."""
        return bool(self._manifest().get("geotiffs_written", False))

    def mark_geotiffs_written(self) -> None:
        """Record (durably) that every GeoTIFF is written and fsync-ed, so the strips can be removed."""
        self._update({"geotiffs_written": True})
        fsync_file(self.folder / MANIFEST)

    def finish(self, summary: Mapping[str, Any]) -> None:
        """Mark the map complete and store its summary."""
        self._update({"complete": True, "summary": dict(summary)})

    def _manifest(self) -> dict[str, Any]:
        manifest: dict[str, Any] = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
        return manifest

    def _update(self, fields: Mapping[str, Any]) -> None:
        manifest = self._manifest()
        manifest.update(fields)
        write_json(self.folder / MANIFEST, manifest)
