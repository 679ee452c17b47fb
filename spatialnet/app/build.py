"""The Gradio Blocks app: Caption, Ask and About tabs over one loaded checkpoint.

Each tab is a thin shell around :class:`~spatialnet.app.tasks.AppTasks`; every button is an API
endpoint (``/caption``, ``/ask``, ``/about``) that ``gradio_client`` can call with typed inputs.
Safe by default: it binds 127.0.0.1, never makes a share link, caps uploads and reads no path a
person types (examples come from the model's own synthetic world).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from spatialnet.app.tasks import MAX_UPLOAD_BYTES, AppTasks, TaskError
from spatialnet.predictor import Predictor

IMAGE_TYPES = [".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"]
EXAMPLE_QUESTIONS = [  # RSVQA-LR question templates
    "How many buildings are there?",
    "Is there a road?",
    "Are there more buildings than water areas?",
    "Is it a rural or an urban area?",
]


def _shown(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with refused inputs shown to the person as a message instead of a crash."""

    def run(*args: Any) -> Any:
        try:
            return function(*args)
        except TaskError as err:
            raise gr.Error(str(err)) from err

    run.__name__ = function.__name__
    run.__doc__ = function.__doc__
    return run


def example_images(tasks: AppTasks, limit: int = 3) -> list[str]:
    """A few images of the model's own (synthetic) datasets, when they are on this machine."""
    found: list[str] = []
    for source in tasks.predictor.image_sources().values():
        root = Path(str(source.data.root or ""))
        for folder in (
            root / "ucm_captions" / "imgs",
            root / "imgs",
            root / "rsvqa_lr" / "Images_LR",
            root / "Images_LR",
        ):
            if folder.is_dir():
                found += [str(p) for p in sorted(folder.iterdir())[:limit]]
                break
    return list(dict.fromkeys(found))[: 2 * limit]


def _image_upload() -> gr.File:
    """An image upload the app decodes itself (the project's loader: bands, bit depths, bomb limit)."""
    return gr.File(label="aerial image (PNG, JPEG or TIFF)", file_types=IMAGE_TYPES, type="filepath")


def build_app(tasks: AppTasks) -> gr.Blocks:
    """The Blocks app for ``tasks``' model."""
    examples = example_images(tasks)
    with gr.Blocks(title="SpatialNet") as demo:
        gr.Markdown(
            "# SpatialNet\nCaptions, land use and answers about aerial images; "
            "forest maps from hyperspectral cubes."
        )
        with gr.Tab("Caption"):
            image = _image_upload()
            preview = gr.Image(label="preview", interactive=False)
            image.change(_shown(tasks.preview), [image], [preview], api_visibility="private")
            run = gr.Button("Describe", variant="primary")
            caption = gr.Textbox(label="caption")
            landuse = gr.Label(label="land use", num_top_classes=5)
            run.click(_shown(tasks.caption), [image], [caption, landuse], api_name="caption")
            if examples:
                gr.Examples(examples, [image])
        with gr.Tab("Ask"):
            ask_image = _image_upload()
            ask_preview = gr.Image(label="preview", interactive=False)
            ask_image.change(_shown(tasks.preview), [ask_image], [ask_preview], api_visibility="private")
            question = gr.Textbox(label="question", placeholder=EXAMPLE_QUESTIONS[0], max_length=1000)
            ask = gr.Button("Answer", variant="primary")
            answer = gr.Textbox(label="answer")
            top = gr.Label(label="top answers", num_top_classes=3)
            kind = gr.Textbox(label="question type")
            ask.click(_shown(tasks.ask), [ask_image, question], [answer, top, kind], api_name="ask")
            gr.Examples(
                [[examples[-1] if examples else None, q] for q in EXAMPLE_QUESTIONS], [ask_image, question]
            )
        cubes = list(tasks.bundled_cubes())
        if cubes:
            with gr.Tab("Forest"):
                cube = gr.Dropdown(cubes, value=cubes[0], label="hyperspectral cube (bundled)")
                with gr.Row():
                    row = gr.Number(value=768, label="row", precision=0)
                    col = gr.Number(value=768, label="column", precision=0)
                    size = gr.Number(value=96, label="map side (px, ≤ 256)", precision=0)
                draw = gr.Button("Map the area and read the pixel", variant="primary")
                maps = gr.Gallery(label="class and variable maps (legends and units on each)", columns=3)
                readout = gr.JSON(label="the pixel: classes with probabilities, variables in their units")
                draw.click(_shown(tasks.forest), [cube, row, col, size], [maps, readout], api_name="forest")
        with gr.Tab("About"):
            card = gr.Markdown(tasks.about())
            refresh = gr.Button("Reload model card")
            refresh.click(tasks.about, [], [card], api_name="about")
    return demo


def launch(
    checkpoint: Path, host: str = "127.0.0.1", port: int = 7860, device: str = "auto", block: bool = True
) -> tuple[gr.Blocks, str]:
    """Load ``checkpoint`` once and serve the app; returns the app and its local URL."""
    tasks = AppTasks(Predictor.from_run(checkpoint, device))
    demo = build_app(tasks)
    demo.queue(default_concurrency_limit=1)  # one model, one inference at a time; requests wait in the queue
    _, url, _ = demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        max_file_size=MAX_UPLOAD_BYTES,
        prevent_thread_lock=not block,
        quiet=not block,
    )
    return demo, str(url)
