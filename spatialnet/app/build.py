"""The Gradio Blocks app: Caption, Ask, Forest and About tabs over one loaded checkpoint.

Each tab is a thin shell around :class:`~spatialnet.app.tasks.AppTasks`; every button is an API
endpoint (``/caption``, ``/ask``, ``/forest``, ``/about``) that ``gradio_client`` can call with
typed inputs.
Safe by default: it binds 127.0.0.1, never makes a share link, caps uploads and reads no path a
person types (examples come from the model's own data folders: :mod:`spatialnet.app.examples`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from spatialnet.app.examples import AppExamples, find_examples
from spatialnet.app.set_notes import set_label
from spatialnet.app.stage_log import StageLog
from spatialnet.app.tasks import (
    MAX_BEAMS,
    MAX_CUBE_BYTES,
    MAX_MAP_SIDE,
    UPLOADED_CUBE,
    AppTasks,
    TaskError,
)
from spatialnet.predictor import Predictor

IMAGE_TYPES = [".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"]
LOG = logging.getLogger(__name__)


def _shown(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with refused inputs shown to the person as a message instead of a crash.

    Anything else is a bug: logged with its traceback and shown as an internal error. The wrapper
    keeps ``function``'s signature, so the API names its parameters (``question_set``) and defaults.
    """

    @functools.wraps(function)
    def run(*args: Any) -> Any:
        try:
            return function(*args)
        except TaskError as err:
            raise gr.Error(str(err)) from err
        except Exception as err:
            LOG.exception("%s failed", function.__name__)
            raise gr.Error(f"Internal error ({type(err).__name__}); it is logged on the server.") from err

    return run


def app_examples(tasks: AppTasks) -> AppExamples:
    """Examples from the model's own image datasets (real validation data where it is on this machine)."""
    return find_examples(tasks.predictor.image_sources(), tasks.question_sets())


def _image_upload() -> gr.File:
    """An image upload the app decodes itself (the project's loader: bands, bit depths, bomb limit)."""
    return gr.File(label="aerial image (PNG, JPEG or TIFF)", file_types=IMAGE_TYPES, type="filepath")


def build_app(tasks: AppTasks) -> gr.Blocks:
    """The Blocks app for ``tasks``' model."""
    examples = app_examples(tasks)
    # uploads and shown results are deleted from Gradio's cache after an hour
    with gr.Blocks(title="SpatialNet", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(
            "# SpatialNet\nCaptions, land use and answers about aerial images; "
            "forest maps from hyperspectral cubes."
        )
        with gr.Tab("Caption"):
            image = _image_upload()
            preview = gr.Image(label="preview", interactive=False)
            image.change(_shown(tasks.preview), [image], [preview], api_visibility="private")
            beams = gr.Slider(1, MAX_BEAMS, value=tasks.default_beams(), step=1, label="beam width")
            run = gr.Button("Describe", variant="primary")
            caption = gr.Textbox(label="caption")
            landuse = gr.Label(label="land use", num_top_classes=5)
            run.click(
                _shown(tasks.caption),
                [image, beams],
                [caption, landuse],
                api_name="caption",
                concurrency_id="caption",
                concurrency_limit=tasks.max_batch,  # a batch's worth at once: see app/batching.py
            )
            if examples.images:
                gr.Examples(examples.images, [image])
        with gr.Tab("Ask"):
            _ask_tab(tasks, examples)
        if tasks.has_forest():
            _forest_tab(tasks)
        with gr.Tab("About"):
            card = gr.Markdown(tasks.about())
            refresh = gr.Button("Reload model card")
            refresh.click(tasks.about, [], [card], api_name="about")
    return demo


def _ask_tab(tasks: AppTasks, examples: AppExamples) -> None:
    """Upload an image, pick the question set (when the model answers in several), ask, read the answer.

    The button runs :meth:`AppTasks.ask_shown` (the answer with its set, privately); the ``/ask``
    endpoint runs :meth:`AppTasks.ask` on the same inputs, with the set optional (its default).
    """
    sets = tasks.question_sets()
    ask_image = _image_upload()
    ask_preview = gr.Image(label="preview", interactive=False)
    ask_image.change(_shown(tasks.preview), [ask_image], [ask_preview], api_visibility="private")
    answer_as = gr.Dropdown(
        tasks.set_choices(),
        value=sets[0] if sets else None,
        label="answer as",
        info="Each dataset asks and answers in its own way; answers come from the chosen one's.",
        visible=len(sets) > 1,
    )
    first = next((q for rows in examples.questions.values() for _, q in rows), "Is there a road?")
    question = gr.Textbox(label="question", placeholder=first, max_length=1000)
    ask = gr.Button("Answer", variant="primary")
    answer = gr.Textbox(label="answer")
    top = gr.Label(label="top answers", num_top_classes=3)
    with gr.Row():
        kind = gr.Textbox(label="question type")
        answered_as = gr.Textbox(label="answered as")
    inputs = [ask_image, question, answer_as]
    ask.click(
        _shown(tasks.ask_shown),
        inputs,
        [answer, top, kind, answered_as],
        api_visibility="private",
        concurrency_id="ask",  # one limit for both events: a batch's worth at once (app/batching.py)
        concurrency_limit=tasks.max_batch,
    )
    endpoint = gr.Button(visible=False)  # the API's /ask: its three outputs as before sets existed
    endpoint.click(
        _shown(tasks.ask),
        inputs,
        [answer, top, kind],
        api_name="ask",
        concurrency_id="ask",
        concurrency_limit=tasks.max_batch,  # a group's limit is its members' lowest
    )
    filled = inputs if len(sets) > 1 else inputs[:2]  # a hidden choice gets no examples column
    for name, rows in examples.questions.items():
        source = "questions of its validation split" if name in examples.real else "example questions"
        if rows:
            gr.Examples(
                [[image, q, name][: len(filled)] for image, q in rows],
                filled,
                label=f"{set_label(name)}: {source}",
            )


def _forest_tab(tasks: AppTasks) -> None:
    """Pick a bundled cube or upload one (header + data file), then map an area around a pixel."""
    cubes = list(tasks.bundled_cubes())
    first = cubes[0] if cubes else UPLOADED_CUBE
    row0, col0, info0 = tasks.describe_cube(first) if cubes else (0, 0, "Upload an ENVI header and its data.")
    with gr.Tab("Forest"):
        with gr.Row():
            cube = gr.Dropdown([*cubes, UPLOADED_CUBE], value=first, label="hyperspectral cube")
            files = gr.File(
                label="or upload an ENVI cube: its .hdr header and data file",
                file_count="multiple",
                type="filepath",
            )
        info = gr.Markdown(info0)
        with gr.Row():
            row = gr.Number(value=row0, label="row", precision=0)
            col = gr.Number(value=col0, label="column", precision=0)
            size = gr.Number(value=96, label=f"map side (px, ≤ {MAX_MAP_SIDE})", precision=0)
        draw = gr.Button("Map the area and read the pixel", variant="primary")
        maps = gr.Gallery(label="class and variable maps (legends and units on each)", columns=3)
        readout = gr.JSON(label="the pixel: classes with probabilities, variables in their units")

        def uploaded(paths: list[str] | None) -> tuple[str, int, int, str]:
            if not paths:
                return first, *tasks.describe_cube(first)
            return UPLOADED_CUBE, *tasks.describe_cube(UPLOADED_CUBE, paths)

        cube.input(_shown(tasks.describe_cube), [cube, files], [row, col, info], api_visibility="private")
        files.change(_shown(uploaded), [files], [cube, row, col, info], api_visibility="private")
        draw.click(_shown(tasks.forest), [cube, files, row, col, size], [maps, readout], api_name="forest")


def launch(
    checkpoint: Path,
    host: str = "127.0.0.1",
    port: int = 7860,
    device: str = "auto",
    block: bool = True,
    max_batch: int = 8,
    profile: Path | None = None,
) -> tuple[gr.Blocks, str]:
    """Load ``checkpoint`` once and serve the app; returns the app and its local URL.

    ``profile`` names a file that receives each caption/answer request's stages (JSON lines).
    """
    stage_log = StageLog(profile) if profile else None
    tasks = AppTasks(Predictor.from_run(checkpoint, device), max_batch=max_batch, stage_log=stage_log)
    return serve(tasks, host, port, block)


def serve(
    tasks: AppTasks, host: str = "127.0.0.1", port: int = 7860, block: bool = True
) -> tuple[gr.Blocks, str]:
    """Serve the app of an already loaded model (``tasks``); returns the app and its local URL."""
    demo = build_app(tasks)
    demo.queue(default_concurrency_limit=1)  # the forest maps one at a time; requests wait in the queue
    _, url, _ = demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        show_error=True,  # refusals and Gradio's own input checks reach the person as messages
        max_file_size=MAX_CUBE_BYTES,  # images are held to MAX_UPLOAD_BYTES by the app itself
        prevent_thread_lock=not block,
        quiet=not block,
    )
    return demo, str(url)
