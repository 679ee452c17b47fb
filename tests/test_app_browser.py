"""The app in a real headless Chromium: upload a tile, ask a question, see the answer, keep a screenshot.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) and selenium; skips
with the reason otherwise. Run alone with ``python -m pytest tests/test_app_browser.py``; the
screenshot goes to ``$SPATIALNET_SCREENSHOTS`` (default: the test's temporary folder).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from spatialnet.app.build import launch
from spatialnet.predictor import Predictor
from spatialnet.pretrained import DEFAULT_MODEL
from tests.helpers import free_port

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')"
)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="headless Chromium not found: apt install chromium chromium-driver (.ci/run does)",
)


@pytest.mark.parametrize("model", ["tiny joint run", DEFAULT_MODEL])
def test_a_person_uploads_a_tile_asks_and_reads_the_answer(model, request, tiny_world, tmp_path):
    """On the tiny joint run, and on the bundled model ``spatialnet app`` serves with no model named."""
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    tile = sorted((tiny_world / "rsvqa_lr" / "Images_LR").iterdir())[0]
    question = "How many buildings are there?"
    checkpoint = request.getfixturevalue("joint_run") if model == "tiny joint run" else Path(model)
    expected = Predictor.from_run(checkpoint, "cpu").predict_file(tile, question=question)["vqa"]
    demo, url = launch(checkpoint, "127.0.0.1", free_port(), "cpu", block=False)
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1600"):
        options.add_argument(argument)
    options.binary_location = str(CHROMIUM)
    browser = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    try:
        browser.get(url)
        wait = WebDriverWait(browser, 60)
        ask_tab = wait.until(
            lambda b: [
                t for t in b.find_elements(By.CSS_SELECTOR, "button[role=tab]") if t.text.strip() == "Ask"
            ]
        )[0]
        ask_tab.click()
        panel = wait.until(
            lambda b: next(
                (p for p in b.find_elements(By.CSS_SELECTOR, "[role=tabpanel]") if p.is_displayed()), None
            )
        )
        panel.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(tile))
        panel.find_element(By.CSS_SELECTOR, "textarea").send_keys(question)
        wait.until(lambda _: panel.find_elements(By.CSS_SELECTOR, "img"))  # the preview: upload arrived
        next(b for b in panel.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Answer").click()

        def shown_answer(_: object) -> str | None:
            values = [
                area.get_attribute("value") for area in panel.find_elements(By.CSS_SELECTOR, "textarea")
            ]
            return values[1] if len(values) > 2 and values[1] and values[2] else None

        assert wait.until(shown_answer) == expected["answer"]
        folder = Path(os.environ.get("SPATIALNET_SCREENSHOTS", tmp_path))
        folder.mkdir(parents=True, exist_ok=True)
        screenshot = folder / f"app_ask_{model.replace(' ', '_')}.png"
        assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 10_000
    finally:
        browser.quit()
        demo.close()
