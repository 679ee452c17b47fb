"""What each tab of the app does, as plain functions of typed inputs (testable without a browser).

Every input is checked the way ``spatialnet predict`` checks it (the same image loader with its
decompression-bomb limit, the same question check), and failures become one readable message.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spatialnet.errors import SpatialNetError
from spatialnet.mapping.scene import MapSettings, map_scene
from spatialnet.predictor import Predictor

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # refused before decoding: no aerial tile needs more


class TaskError(Exception):
    """An input the app refuses, with the message shown to the person."""


@dataclass
class AppTasks:
    """The loaded model and the functions behind the Caption, Ask and About tabs."""

    predictor: Predictor

    def _checked_image(self, path: str | None) -> Path:
        if not path:
            raise TaskError("Upload an image first (PNG, JPEG or TIFF).")
        file = Path(path)
        if not file.is_file():
            raise TaskError("The upload did not arrive; please upload the image again.")
        if file.stat().st_size > MAX_UPLOAD_BYTES:
            raise TaskError(
                f"The image is larger than {MAX_UPLOAD_BYTES // 2**20} MB; please upload a smaller one."
            )
        return file

    def preview(self, image: str | None) -> Any:
        """The upload as the model reads it (decoded by the project's loader), or nothing."""
        if not image:
            return None
        try:
            return self.predictor.load(self._checked_image(image))
        except SpatialNetError as err:
            raise TaskError(_readable(str(err))) from err

    def caption(self, image: str | None) -> tuple[str, dict[str, float]]:
        """The generated caption and the land-use classes with their probabilities."""
        result = self._predict(image, None)
        if "captions" not in result and "landuse" not in result:
            raise TaskError("This model has no caption or land-use head.")
        classes = {item["label"]: item["probability"] for item in result.get("landuse", [])}
        return str(result.get("captions", "")), classes

    def ask(self, image: str | None, question: str | None) -> tuple[str, dict[str, float], str]:
        """The answer, the top answers with probabilities and the question type."""
        if not question or not question.strip():
            raise TaskError("Type a question, e.g. 'How many buildings are there?'")
        result = self._predict(image, question)
        if "vqa" not in result:
            raise TaskError("This model has no question-answering head.")
        answer = result["vqa"]
        return (
            str(answer["answer"]),
            {a["answer"]: a["probability"] for a in answer["top"]},
            str(answer["type"]),
        )

    def _predict(self, image: str | None, question: str | None) -> dict[str, Any]:
        try:
            return self.predictor.predict_file(self._checked_image(image), top_k=5, question=question)
        except SpatialNetError as err:
            raise TaskError(_readable(str(err))) from err

    def bundled_cubes(self) -> dict[str, Path]:
        """ENVI cubes of the model's own hyperspectral dataset on this machine, by file name.

        The Forest tab offers only these: the app never opens a path a person types.
        """
        try:
            _, source = self.predictor.cube_source()
        except SpatialNetError:
            return {}
        root = Path(str(source.data.root or ""))
        folders = [root / "taiga", root]
        found = [h for folder in folders if folder.is_dir() for h in sorted(folder.glob("*.hdr"))]
        cubes = {}
        for header in found:
            try:
                cube = self.predictor.open_cube(header)
            except (SpatialNetError, OSError):
                continue  # label rasters and other headers the model cannot read
            if cube.shape[2] > 3:
                cubes[header.name] = header
        return cubes

    def forest(
        self, cube: str | None, row: float, col: float, size: float
    ) -> tuple[list[str], dict[str, Any]]:
        """Quicklook maps of a ``size``² area centred on (row, col) and the forest variables of that pixel."""
        cubes = self.bundled_cubes()
        if not cube or cube not in cubes:
            raise TaskError(f"Pick one of the bundled cubes: {', '.join(cubes) or 'none on this machine'}.")
        header = cubes[cube]
        lines, samples, _ = self.predictor.open_cube(header).shape
        side = int(min(max(size, 16), 256))
        half = self.predictor.window // 2
        if not (half <= row < lines - half and half <= col < samples - half):
            raise TaskError(
                f"Pick a pixel with row {half}–{lines - half - 1} and column {half}–{samples - half - 1}."
            )
        top = int(min(max(row - side // 2, 0), lines - side))
        left = int(min(max(col - side // 2, 0), samples - side))
        out = Path(tempfile.mkdtemp(prefix="spatialnet_forest_"))
        settings = MapSettings(region=(top, left, side, side), device=str(self.predictor.device))
        try:
            map_scene(self.predictor, header, out, settings, progress=False)
            readout = self.predictor.predict_pixel(header, int(row), int(col), top_k=3)
        except SpatialNetError as err:
            raise TaskError(str(err)) from err
        return [str(p) for p in sorted(out.glob("*.png"))], readout

    def about(self) -> str:
        """A model card: recipe, datasets, tasks and the checkpoint's validation metrics."""
        recipe = self.predictor.recipe
        lines = [
            f"### {recipe.name}",
            "",
            f"Checkpoint: `{self.predictor.checkpoint}`",
            "",
            "| dataset | tasks |",
            "|---|---|",
        ]
        for name, source in recipe.sources().items():
            lines.append(f"| {name} (`{source.data.dataset}`) | {', '.join(source.tasks)} |")
        folder = self.predictor.checkpoint
        metrics_file = folder / "metrics.json" if folder else None
        if metrics_file is not None and metrics_file.is_file():
            metrics = json.loads(metrics_file.read_text())
            best = f"{metrics.get('select_metric')} = {metrics.get('best_value')}"
            lines += ["", f"Best epoch {metrics.get('best_epoch')}: {best}"]
        return "\n".join(lines)


def _readable(message: str) -> str:
    """An error for a person: the uploaded file's temporary path replaced by 'the image'."""
    head, _, rest = message.partition(": ")
    if not rest or not ("/" in head or "\\" in head):
        return message
    return f"The image is {rest}" if rest.startswith("not ") else f"The image {rest}"
