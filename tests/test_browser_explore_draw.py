"""The drawing canvas in headless Chromium: ready at once, read live while drawing, cleared by one button."""

import pytest
from browser_waits import src_at, text_at, wait_shown, wait_until

from test_browser_explore import loaded, no_error_toast

pytestmark = pytest.mark.browser


def reading_the_drawing(page):
    """Wait until the caption says the reading is of the drawing."""
    wait_until(page, "() => document.querySelector('#ll-caption').innerText.includes('Reading: your drawing')",
               "the caption to say it reads your drawing", last=text_at("#ll-caption"))


def draw(page, strokes):
    """Draw strokes with the mouse on the canvas; each stroke is a list of (x, y) in 0..1 of the canvas."""
    box = page.locator("#ll-canvas canvas").bounding_box()
    for stroke in strokes:
        points = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=6)
        page.mouse.up()


def test_drawing_is_read_live_without_picking_a_tool(page, artifacts):
    loaded(page)
    page.locator("#ll-canvas canvas").scroll_into_view_if_needed()
    draw(page, [[(0.5, 0.15), (0.5, 0.5), (0.5, 0.85)]])  # a '1', straight down the middle
    wait_shown(page.locator("#ll-model-saw img"), "the picture of what the model saw of the drawing")
    wait_shown(page.locator("#ll-recon img"), "the drawing's reconstruction")
    reading_the_drawing(page)
    # The first answers may read the stroke only part drawn (it is read while drawn); the answer to the
    # whole stroke reads a '1'.
    wait_until(page, "() => [...document.querySelectorAll('#ll-probs .output-class')]"
               ".some((top) => top.textContent.trim() === '1')", "the reader's top class to be 1",
               last="() => [...document.querySelectorAll('#ll-probs .output-class')].map((t) => t.textContent.trim())")
    assert any(float(page.locator(f"#ll-z{k} input[type=number]").input_value()) != 0 for k in range(20))
    page.locator("#ll-upload-section").screenshot(path=str(artifacts / "drawing.png"))
    page.locator("#ll-canvas .ll-canvas-clear").click()
    wait_shown(page.locator("#ll-model-saw img"), "the cleared canvas to take away what the model saw", state="detached")
    no_error_toast(page)


def test_the_reading_arrives_while_the_pen_is_still_down(page):
    loaded(page)
    canvas = page.locator("#ll-canvas canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + 0.15 * box["height"])
    page.mouse.down()
    page.mouse.move(x, box["y"] + 0.85 * box["height"], steps=12)
    # Read during the stroke, before the mouse is released.
    wait_shown(page.locator("#ll-model-saw img"), "what the model saw of the stroke, with the pen still down")
    reading_the_drawing(page)
    page.mouse.up()
    no_error_toast(page)


def test_the_readout_follows_each_stroke(page):
    loaded(page)
    page.locator("#ll-canvas canvas").scroll_into_view_if_needed()
    draw(page, [[(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)]])  # a '7': the top bar and the long diagonal
    reading_the_drawing(page)
    first = page.locator("#ll-model-saw img").get_attribute("src")
    draw(page, [[(0.35, 0.55), (0.65, 0.55)]])  # a second stroke: the picture the model sees changes
    wait_until(page, "(before) => document.querySelector('#ll-model-saw img').getAttribute('src') !== before",
               "a new picture of what the model saw after the second stroke", arg=first, last=src_at("#ll-model-saw img"))
    no_error_toast(page)


def test_the_preprocessings_doubts_show_beside_what_the_model_sees(page):
    loaded(page)
    page.locator("#ll-canvas canvas").scroll_into_view_if_needed()
    draw(page, [[(0.2, 0.2), (0.2, 0.8)], [(0.8, 0.2), (0.8, 0.8)]])  # two marks far apart: which is the digit?
    wait_shown(page.locator("#ll-notes", has_text="⚠️"), "a doubt (⚠️) beside what the model sees", last=text_at("#ll-notes"))
    assert page.locator("#ll-notes").inner_text().strip()
    no_error_toast(page)
