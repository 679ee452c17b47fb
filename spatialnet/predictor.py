"""Inference on single images with a trained run: what ``predict`` and the app share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import torch

from spatialnet.checkpoint import read_fitted
from spatialnet.config import Recipe, SourceConfig
from spatialnet.data.base import Fitted
from spatialnet.data.images import load_image
from spatialnet.data.registry import dataset_input, dataset_question_set
from spatialnet.errors import CheckpointError, DataError
from spatialnet.inference_form import inference_form
from spatialnet.model import SpatialNet, load_run
from spatialnet.processors import HyperspectralProcessor, ImageProcessor

if TYPE_CHECKING:
    from spatialnet.data.taiga.envi import EnviImage


@dataclass
class Predictor:
    """A loaded model with the recipe that says how to prepare its inputs.

    A joint model answers with every head whose input is given: an image goes through each image
    dataset's processor (size, normalisation) and the heads that dataset trains; a cube pixel
    through the hyperspectral dataset's processor and forest heads. The processors are those the
    datasets fitted on their training split, read from the checkpoint.
    """

    model: SpatialNet
    recipe: Recipe
    fitted: dict[str, Fitted]  # what each dataset fitted on its training split
    checkpoint: Path | None = None  # the folder the weights came from

    @classmethod
    def from_run(cls, run_dir: Path, device: str = "auto") -> Predictor:
        """Load a run folder (its best checkpoint) or a checkpoint folder, in its inference form."""
        model, recipe, _, folder = load_run(run_dir, device)
        return cls(inference_form(model), recipe, read_fitted(folder, recipe), folder)

    @property
    def device(self) -> torch.device:  # noqa: D102
        return next(self.model.parameters()).device

    def image_sources(self) -> dict[str, SourceConfig]:
        """The datasets of RGB images the model learned from, by name (empty for forest models)."""
        return {n: s for n, s in self.recipe.sources().items() if dataset_input(s.data.dataset) == "image"}

    def cube_source(self) -> tuple[str, SourceConfig]:
        """The hyperspectral dataset the model learned from (DataError when there is none)."""
        for name, source in self.recipe.sources().items():
            if dataset_input(source.data.dataset) == "cube":
                return name, source
        raise DataError(f"this model ({self.recipe.name}) was not trained on hyperspectral windows")

    def cube_processor(self) -> HyperspectralProcessor:
        """The hyperspectral dataset's processor (DataError for models of RGB images)."""
        name = self.cube_source()[0]
        return _processor(self.fitted[name], HyperspectralProcessor, name, self.checkpoint)

    def image_processor(self, name: str) -> ImageProcessor:
        """The processor of image dataset ``name``."""
        return _processor(self.fitted[name], ImageProcessor, name, self.checkpoint)

    @property
    def window(self) -> int:
        """Side of the hyperspectral windows the forest heads read (odd: a centre pixel)."""
        return self.cube_source()[1].data.image_size

    def load(self, image_path: Path) -> np.ndarray:
        """Read an image file as (H, W, C) uint8 at its own size (each dataset resizes it)."""
        sources = self.image_sources()
        if not sources:
            raise DataError(f"this model ({self.recipe.name}) reads hyperspectral cubes, not image files")
        return load_image(Path(image_path), None, channels=self._channels(next(iter(sources.values()))))

    def _channels(self, source: SourceConfig) -> int:
        return self.model.backbone.input_spec(source.modality).in_chans

    def predict_array(
        self, array: np.ndarray, top_k: int = 5, question: str | None = None, **options: Any
    ) -> dict[str, Any]:
        """Predictions of every image head for one (H, W, C) uint8 image (resized per dataset).

        With ``question``, VQA heads answer it (top-3 answers with probabilities); without, they are
        skipped. ``options`` as for :meth:`predict_arrays`.
        """
        return self.predict_arrays([array], top_k, [question], **options)[0]

    def predict_arrays(
        self,
        arrays: list[np.ndarray],
        top_k: int = 5,
        questions: list[str | None] | None = None,
        tasks: set[str] | None = None,
        num_beams: int | None = None,
        question_set: str | None = None,
    ) -> list[dict[str, Any]]:
        """:meth:`predict_array` for several images in one forward pass per dataset (what the app batches).

        ``questions`` are per image and all given or all None; ``tasks`` limits the heads run (e.g.
        only ``vqa`` to answer); ``num_beams`` overrides the caption head's beam search;
        ``question_set`` picks the conventions questions are answered in (``question_sets()``;
        default: the first the model learned).
        """
        asking = any(q is not None for q in questions or [])
        datasets = self.datasets_run(asking, tasks, question_set)
        images = [self.prepare(array, datasets) for array in arrays]
        return self.predict_prepared(images, top_k, questions, tasks, num_beams, question_set)

    def datasets_run(
        self, asking: bool, tasks: set[str] | None = None, question_set: str | None = None
    ) -> list[str]:
        """The image datasets whose heads run for these options (none of a VQA dataset without a question).

        Only their images need preparing: :meth:`prepare` them, e.g. in reader threads, then
        :meth:`predict_prepared`.
        """
        chosen = self.answering_set(question_set) if asking else None
        texts = ["?"] if asking else []  # stands for the questions: heads need to know there are some
        return [
            name
            for name, source in self.image_sources().items()
            if self._heads_run(name, self._batch(source, texts, chosen, None), chosen, tasks)
        ]

    def prepare(self, array: np.ndarray, datasets: list[str]) -> dict[str, torch.Tensor]:
        """One (H, W, C) uint8 image as each of ``datasets``' processors prepares it (resized, normalised)."""
        return {name: self.image_processor(name)(array) for name in datasets}

    @torch.inference_mode()
    def predict_prepared(
        self,
        images: list[dict[str, torch.Tensor]],
        top_k: int = 5,
        questions: list[str | None] | None = None,
        tasks: set[str] | None = None,
        num_beams: int | None = None,
        question_set: str | None = None,
    ) -> list[dict[str, Any]]:
        """:meth:`predict_arrays` for images already :meth:`prepare`-d for :meth:`datasets_run`."""
        sources = self.image_sources()
        if not sources:
            raise DataError(f"this model ({self.recipe.name}) reads hyperspectral cubes, not images")
        asked = questions or [None] * len(images)
        if len(asked) != len(images) or len({q is None for q in asked}) > 1:
            raise ValueError("predict_prepared: give one question per image for every image, or none")
        texts = [checked_question(q) for q in asked if q is not None]
        chosen = self.answering_set(question_set) if texts else None
        results: list[dict[str, Any]] = [{} for _ in images]
        for name, source in sources.items():
            batch = self._batch(source, texts, chosen, num_beams)
            names = self._heads_run(name, batch, chosen, tasks)
            if not names:
                continue  # no head of this dataset is asked: its images were not even prepared
            missing = [index for index, image in enumerate(images) if name not in image]
            if missing:
                raise ValueError(f"predict_prepared: image {missing[0]} was not prepared for {name!r}")
            batch["image"] = torch.stack([image[name] for image in images]).to(self.device)
            outputs = {  # one copy off the device per batch, not one per image
                name: output.cpu() if isinstance(output, torch.Tensor) else output
                for name, output in self.model.predict(batch, names).items()
            }
            for index, result in enumerate(results):
                question = texts[index] if texts else None
                result.update(self._summaries(outputs, index, top_k, question, chosen))
        return results

    def _batch(
        self, source: SourceConfig, texts: list[str], chosen: str | None, num_beams: int | None
    ) -> dict[str, Any]:
        """A model batch of ``source`` without its images: modality, questions, generation options."""
        batch: dict[str, Any] = {}
        if source.modality:
            batch["modality"] = source.modality
        if texts:
            batch["question"] = [[text] for text in texts]
            batch["question_set"] = chosen
        if num_beams is not None:
            batch["generation"] = {"num_beams": num_beams}
        return batch

    def _heads_run(
        self, name: str, batch: dict[str, Any], chosen: str | None, tasks: set[str] | None
    ) -> list[str]:
        """The heads of dataset ``name`` that run on ``batch`` (of ``tasks``, when given)."""
        wanted = self.image_sources()[name].tasks
        return [
            task
            for task in wanted
            if (tasks is None or task in tasks)
            and self.model.head(task).can_predict(batch)
            and self._asks_here(task, name, chosen)
        ]

    def answering_heads(self) -> list[str]:
        """The heads that answer questions about an image (a VQA head), in model order."""
        plain: dict[str, Any] = {}
        with_question = {"question": [["?"]]}
        return [
            name
            for name, head in self.model.task_heads().items()
            if head.can_predict(with_question) and not head.can_predict(plain)
        ]

    def question_sets(self) -> list[str]:
        """The question sets the model answers in (one per VQA dataset it learned from), default first."""
        found: dict[str, None] = {}
        for head in self.answering_heads():
            default = getattr(self.model.head(head), "default_set", None)
            sets = getattr(self.model.head(head).config, "answer_sets", {})
            found.update(dict.fromkeys([default, *sorted(sets)] if default else sorted(sets)))
        return list(found)

    def answering_set(self, question_set: str | None) -> str | None:
        """The question set a person's question is answered in: ``question_set`` (checked) or the default.

        A model that answers no questions says so, naming the heads it has.
        """
        if not self.answering_heads():
            raise DataError(
                f"this model ({self.recipe.name}) answers no questions: it has no VQA head "
                f"(its heads: {', '.join(self.model.heads)})"
            )
        known = self.question_sets()
        if question_set is None:
            return known[0] if known else None
        if question_set not in known:
            raise DataError(
                f"question set {question_set!r}: this model answers in {', '.join(known) or 'none'}"
            )
        return question_set

    def _asks_here(self, head: str, dataset: str, question_set: str | None) -> bool:
        """Whether ``head`` answers on ``dataset``'s images.

        A head several datasets train answers once, on the images of the dataset asking in ``question_set``.
        """
        if question_set is None or len(self.recipe.trainers_of(head)) < 2:
            return True
        return dataset_question_set(self.recipe.sources()[dataset].data.dataset) == question_set

    def _summaries(
        self,
        outputs: dict[str, Any],
        index: int,
        top_k: int,
        question: str | None,
        question_set: str | None = None,
    ) -> dict[str, Any]:
        """Each head's output for item ``index`` as a person reads it (the head says how)."""
        return {
            name: self.model.head(name).summarize(
                output, index, top_k=top_k, question=question, question_set=question_set
            )
            for name, output in outputs.items()
        }

    def predict_file(
        self, image_path: Path, top_k: int = 5, question: str | None = None, **options: Any
    ) -> dict[str, Any]:
        """Predictions of every image head for one image file (any size; resized), answering ``question``."""
        return self.predict_array(self.load(image_path), top_k, question, **options)

    def open_cube(self, cube_header: Path) -> EnviImage:
        """Open an ENVI cube this model can read (a DataError naming it when it has too few bands)."""
        from spatialnet.data.taiga.envi import open_envi

        cube = open_envi(cube_header)
        self.cube_processor().check_cube(cube)
        return cube

    @torch.inference_mode()
    def predict_windows(self, windows: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every head's centre prediction for a (B, bands, P, P) batch of normalised windows, on the CPU.

        A batch of one is run as a batch of two (the window twice): oneDNN convolutions take
        another kernel for a single image, whose rounding differs more, so ``predict --pixel`` then
        agrees with ``map`` (windows in batches) to the last bit nearly always, and to < 1e-6
        relative otherwise (kernels also vary with batch size and thread count).
        """
        _, source = self.cube_source()
        single = windows.shape[0] == 1
        batch: dict[str, Any] = {
            "image": (windows.expand(2, -1, -1, -1) if single else windows)
            .to(self.device)
            .contiguous(memory_format=torch.channels_last)  # the layout of the inference form's convs
        }
        if source.modality:
            batch["modality"] = source.modality
        outputs = self.model.predict(batch, source.tasks)
        return {name: value[:1].cpu() if single else value.cpu() for name, value in outputs.items()}

    def predict_pixel(self, cube_header: Path, row: int, col: int, top_k: int = 5) -> dict[str, Any]:
        """Forest predictions for the pixel (row, col) of a hyperspectral ENVI cube.

        The window around the pixel is read from the memory-mapped cube and prepared with the
        preprocessing stored in the checkpoint (band subset, reflectance scale, band statistics);
        continuous variables come back in physical units.
        """
        processor = self.cube_processor()
        cube = self.open_cube(Path(cube_header))
        lines, samples, _ = cube.shape
        window = self.window
        half = window // 2
        if not (half <= row < lines - half and half <= col < samples - half):
            raise DataError(
                f"{cube.path}: pixel ({row}, {col}) is too close to the edge for a {window}×{window} "
                f"window; expected rows {half}..{lines - half - 1} and cols {half}..{samples - half - 1}"
            )
        raw = processor.read_window(cube, row, col, window)
        if cube.no_data(raw[half, half]):
            raise DataError(f"{cube.path}: pixel ({row}, {col}) has no data (every band is the fill value)")
        return self._summaries(self.predict_windows(processor(raw).unsqueeze(0)), 0, top_k, None)


P = TypeVar("P", ImageProcessor, HyperspectralProcessor)


def _processor(fitted: Fitted, kind: type[P], dataset: str, checkpoint: Path | None) -> P:
    """``fitted``'s processor, checked to be of ``kind`` (a CheckpointError naming the file if not)."""
    if not isinstance(fitted.processor, kind):
        raise CheckpointError(
            f"{checkpoint}: the processor of {dataset!r} is a {fitted.processor.kind} one; "
            f"its dataset reads {kind.kind} input"
        )
    return fitted.processor


MAX_QUESTION_CHARS = 1000  # far beyond any template; longer text is refused, not silently cut


def checked_question(question: str) -> str:
    """A question fit to answer: non-empty and of reasonable length (DataError otherwise)."""
    if not isinstance(question, str) or not question.strip():
        raise DataError("question: empty; expected a question such as 'How many buildings are there?'")
    if len(question) > MAX_QUESTION_CHARS:
        raise DataError(f"question: {len(question)} characters; expected at most {MAX_QUESTION_CHARS}")
    return question.strip()
