"""The Write tab in headless Chromium: the digit appears row by row beside the reader's bars, a drawn
digit gets endings, and the NLL table fills in. Runs against the same app as tests/test_write_api.py
(checkpoints/writer-mnist, or LATENT_LAB_TEST_WRITER until that exists)."""

import re

import pytest
from conftest import open_context
from test_write_api import write_app  # noqa: F401  (the app serving writer-mnist)

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}

# Collects the row counts the digit shows while it is being written, then clicks Write; resolves
# with them once the digit says it is done.
WATCH_WRITING = """() => new Promise(resolve => {
    const box = document.querySelector('#ll-write-digit');
    const rows = new Set();
    const look = () => {
        const digit = box.querySelector('.ll-write-digit');
        if (!digit) return;
        rows.add(Number(digit.dataset.rows));
        if (digit.dataset.done === 'true') { observer.disconnect(); resolve([...rows]); }
    };
    const observer = new MutationObserver(look);
    observer.observe(box, {subtree: true, childList: true, attributes: true});
    document.querySelector('#ll-write-go').click();
})"""


def open_write_tab(browser, url, viewport):
    context = open_context(browser, viewport=viewport)
    page = context.new_page()
    page.goto(url)
    page.get_by_role("tab", name="Write").click()
    page.wait_for_selector("#ll-write-go")
    return context, page


@pytest.fixture
def desktop(browser, write_app):  # noqa: F811
    context, page = open_write_tab(browser, write_app[0], DESKTOP)
    yield page
    context.close()


def draw_a_seven(page):
    """Draw a 7 on the completion sketchpad with the mouse (the tab has chosen the brush by itself)."""
    canvas = page.locator("#ll-complete-sketch canvas").first
    canvas.scroll_into_view_if_needed()
    page.wait_for_function("() => { const p = document.querySelector('#ll-complete-sketch');"
                           " return p && p.querySelector('button[aria-label=\"Brush\"]') && !p.querySelector('.empty'); }")
    box = canvas.bounding_box()
    # The drawing area is the centred square of the canvas.
    side = min(box["width"], box["height"]) * 0.8
    left, top = box["x"] + (box["width"] - side) / 2, box["y"] + (box["height"] - side) / 2
    page.mouse.move(left + side * 0.25, top + side * 0.2)
    page.mouse.down()
    page.mouse.move(left + side * 0.75, top + side * 0.2, steps=12)
    page.mouse.move(left + side * 0.4, top + side * 0.85, steps=16)
    page.mouse.up()


def test_write_animates_the_rows_and_ends_with_a_digit_and_the_readers_bars(desktop, artifacts):
    page = desktop
    page.locator("#ll-write-label input").click()
    page.get_by_role("option", name="2", exact=True).click()
    temperature = page.locator("#ll-write-temperature input[type=number]")
    temperature.fill("0.7")
    temperature.press("Enter")
    page.locator("#ll-write-seed input").fill("3")  # the same digit every run, for the screenshot
    rows_seen = page.evaluate(WATCH_WRITING)
    # The rows arrive one update at a time, so the page shows the digit part-written many times.
    assert 28 in rows_seen and len([r for r in rows_seen if 0 < r < 28]) >= 10, rows_seen
    assert page.locator("#ll-write-digit img").count() == 1
    assert "Done: 28 of 28 rows written (seed 3)." in page.locator("#ll-write-digit").inner_text()
    bars = page.locator("#ll-write-bars .ll-bar")
    assert bars.count() == 10
    total = sum(float(bars.nth(k).get_attribute("data-p")) for k in range(10))
    assert abs(total - 1) < 0.01
    assert "final answer" in page.locator("#ll-write-bars").inner_text()
    page.screenshot(path=str(artifacts / "write.png"))
    page.screenshot(path=str(artifacts / "write-full.png"), full_page=True)


def test_the_same_seed_writes_the_same_digit_in_the_page(desktop):
    page = desktop
    page.locator("#ll-write-seed input").fill("77")
    page.evaluate(WATCH_WRITING)
    first = page.locator("#ll-write-digit img").get_attribute("src")
    page.evaluate(WATCH_WRITING)
    assert page.locator("#ll-write-digit img").get_attribute("src") == first


def test_complete_a_drawn_digit_shows_labelled_endings_below_the_kept_rows(desktop, artifacts):
    page = desktop
    draw_a_seven(page)
    page.click("#ll-complete-go")
    page.wait_for_selector("#ll-complete-endings .ll-ending")
    endings = page.locator("#ll-complete-endings .ll-ending")
    assert endings.count() == 6
    for k in range(6):
        assert re.fullmatch(r"reads as \d · \d+%", endings.nth(k).inner_text().strip())
    assert page.locator("#ll-complete-prompt .ll-prompt").get_attribute("data-rows") == "14"
    endings.first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "write-complete.png"))

    # Moving k re-writes the endings below the new cut.
    before = endings.first.locator("img").get_attribute("src")
    slider = page.locator("#ll-complete-rows input[type=number]")
    slider.fill("20")
    slider.press("Enter")
    page.wait_for_selector("#ll-complete-prompt .ll-prompt[data-rows='20']")
    page.wait_for_function("(before) => document.querySelector('#ll-complete-endings .ll-ending img').src !== before",
                           arg=before)


def test_side_by_side_samples_and_the_nll_table_fill_in(desktop, artifacts):
    page = desktop
    page.click("#ll-compare-go")
    page.wait_for_selector("#ll-compare-writer .ll-samples img")
    assert page.locator("#ll-compare-vae .ll-samples img").count() == 8
    assert page.locator("#ll-compare-writer .ll-samples img").count() == 8
    table = page.locator("#ll-write-nll table")
    table.wait_for()  # measured once in the background (the IWAE bound takes a while)
    text = page.locator("#ll-write-nll").inner_text()
    assert "writer-mnist" in text and "IWAE" in text and "500 binarized" in text
    assert re.search(r"≤ \d+\.\d", text)
    table.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "write-compare.png"))


def test_on_a_phone_the_digit_comes_into_view_while_it_is_written(browser, write_app, artifacts):  # noqa: F811
    context, page = open_write_tab(browser, write_app[0], PHONE)
    try:
        page.evaluate(WATCH_WRITING)
        box = page.locator("#ll-write-digit img").bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
        assert box["width"] <= PHONE["width"]
        page.screenshot(path=str(artifacts / "write-phone.png"))
    finally:
        context.close()
