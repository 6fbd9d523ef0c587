"""The page of `ocrai serve` in a real browser: Debian's headless Chromium, driven by
Selenium through Debian's chromedriver (never a downloaded driver), uploads a rendered
page and finds its words in the text beside the image and their boxes drawn over it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
webdriver = pytest.importorskip("selenium.webdriver")

from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from ocrai.testing import SAMPLE_TEXT, render_page

pytestmark = [pytest.mark.models, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def chrome_options(profile: Path) -> Any:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    return options


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            pytest.skip(f"{path} is missing: apt-get install {package}")
    # An explicit driver path: Selenium Manager (which would download a driver) never runs;
    # pointing it at a file that does not exist makes any attempt fail loudly.
    service = Service(executable_path=CHROMEDRIVER)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SE_MANAGER_PATH", str(tmp_path_factory.mktemp("no-manager") / "none"))
        driver = webdriver.Chrome(
            options=chrome_options(tmp_path_factory.mktemp("chromium")), service=service
        )
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def server(serve_process: Callable[..., Any]) -> Any:
    return serve_process("--threads", "2")


def test_the_page_shows_boxes_and_text(server: Any, browser: Any, tmp_path: Path) -> None:
    assert shutil.which("chromium") or Path(CHROMIUM).exists()
    rendered = render_page(SAMPLE_TEXT["en"])
    path = tmp_path / "invoice.png"
    Image.fromarray(rendered.image).save(path)

    browser.get(server.url + "/")
    assert browser.title == "ocrai"
    browser.find_element(By.ID, "file").send_keys(str(path))
    WebDriverWait(browser, 90).until(
        expected_conditions.text_to_be_present_in_element((By.ID, "status"), "line(s)")
    )
    status = browser.find_element(By.ID, "status")
    assert "error" not in (status.get_attribute("class") or ""), status.text
    shown = browser.find_element(By.CSS_SELECTOR, ".text").text
    words = [w for line in rendered.lines for w in line.split()]
    found = [w for w in words if w in shown]
    assert len(found) >= 0.9 * len(words), shown

    lines = browser.find_elements(By.CSS_SELECTOR, ".stage svg polygon.line")
    boxes = browser.find_elements(By.CSS_SELECTOR, ".stage svg polygon.word")
    assert len(lines) == len(rendered.lines)
    assert len(boxes) >= 0.9 * len(words)
    # each word box is drawn (has a size on screen) and says its word on hover (title)
    titles = [b.find_element(By.TAG_NAME, "title").get_attribute("textContent") for b in boxes]
    for word in ("Invoice", "Twelve", "billing@example.com"):
        assert any(t.startswith(word) for t in titles), titles
    sizes = [b.rect for b in boxes]
    assert all(r["width"] > 3 and r["height"] > 3 for r in sizes)
    image = browser.find_element(By.CSS_SELECTOR, ".stage img").rect
    svg = browser.find_element(By.CSS_SELECTOR, ".stage svg").rect
    assert abs(image["width"] - svg["width"]) < 2
    assert abs(image["height"] - svg["height"]) < 2
    # the first line's box sits over the first line of text (scaled to the shown size)
    scale = image["width"] / rendered.image.shape[1]
    left, top, _, _ = rendered.boxes[0]
    box = lines[0].rect
    assert abs(box["y"] - image["y"] - top * scale) < 20 * scale
    assert abs(box["x"] - image["x"] - left * scale) < 20 * scale

    assert browser.find_element(By.ID, "downloads").is_displayed()
