"""The Write tab in headless Chromium: the digit appears row by row beside the reader's bars, Step and
Play show each row's probabilities, a drawn digit gets endings, and the NLL table fills in. Runs against
the same app as tests/test_write_api.py (checkpoints/writer-mnist, or LATENT_LAB_TEST_WRITER until that
exists)."""

import re

import pytest
from browser_waits import WAIT_MS, src_at, text_at, wait_shown, wait_until
from conftest import open_context
from test_write_api import write_app  # noqa: F401  (the app serving writer-mnist)

import i18n

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}

# Collects the row counts the digit shows while it is being written, then clicks Write; resolves with
# {done: true, rows} once the digit is done after being part-written (the digit shown before may be done
# too), or with {done: false, rows} past the deadline (the argument, in ms).
WATCH_WRITING = """(ms) => new Promise(resolve => {
    const box = document.querySelector('#ll-write-digit');
    const rows = new Set();
    let writing = false;
    const look = () => {
        const digit = box.querySelector('.ll-write-digit');
        if (!digit) return;
        writing = writing || digit.dataset.done === 'false';
        if (!writing) return;
        rows.add(Number(digit.dataset.rows));
        if (digit.dataset.done === 'true') { observer.disconnect(); resolve({done: true, rows: [...rows]}); }
    };
    const observer = new MutationObserver(look);
    observer.observe(box, {subtree: true, childList: true, attributes: true});
    setTimeout(() => { observer.disconnect(); resolve({done: false, rows: [...rows]}); }, ms);
    document.querySelector('#ll-write-go').click();
})"""


# Collects each row the next-row panel (its data-row) moves to from now on, not the row it shows now;
# window.llRowsSeen holds them.
WATCH_STEPS = """() => {
    window.llRowsSeen = [];
    const box = document.querySelector('#ll-write-next');
    const shown = () => { const next = box.querySelector('.ll-next'); return next ? Number(next.dataset.row) : -1; };
    let last = shown();
    new MutationObserver(() => {
        const row = shown();
        if (row >= 0 && row !== last) { window.llRowsSeen.push(row); last = row; }
    }).observe(box, {subtree: true, childList: true, attributes: true});
}"""
SHOWS_ROW = "(row) => document.querySelector('#ll-write-next .ll-next')?.dataset.row === String(row)"
ROW_SHOWN = "() => 'row ' + document.querySelector('#ll-write-next .ll-next')?.dataset.row"
BUTTONS = ("() => ['play', 'step', 'stop'].map((b) => b + (document.querySelector('#ll-write-' + b).disabled"
           " ? ' disabled' : ' enabled')).join(', ')")


def watch_writing(page) -> list[int]:
    """Click Write and return the row counts the digit showed while it was written (WATCH_WRITING)."""
    watched = page.evaluate(WATCH_WRITING, WAIT_MS)
    assert watched["done"], (f"Waited {WAIT_MS / 1000:.0f} s for the digit to be written; last state seen: rows "
                             f"{watched['rows']}, {page.locator('#ll-write-digit').inner_text()[:200]!r}")
    return watched["rows"]


def wait_for_row(page, row: int):
    """Wait until the next-row panel shows row `row` (counted from 0)."""
    wait_until(page, SHOWS_ROW, f"the next-row panel to show row {row}", arg=row, last=ROW_SHOWN)


def strip_values(page, kind):
    """Return the probabilities a heat strip shows, as floats."""
    return [float(p) for p in page.locator(f"#ll-write-next .ll-strip[data-kind={kind}]").get_attribute("data-p")
            .split(",")]


def open_write_tab(browser, url, viewport, language="en"):
    context = open_context(browser, viewport=viewport)
    page = context.new_page()
    page.goto(f"{url}/?lang={language}")
    page.get_by_role("tab", name=i18n.text("app.tab.write", language)).click()
    wait_shown(page.locator("#ll-write-go"), "the Write tab's Write button")
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
    wait_until(page, "() => { const p = document.querySelector('#ll-complete-sketch');"
               " return p && p.querySelector('button[aria-label=\"Brush\"]') && !p.querySelector('.empty'); }",
               "the sketchpad to choose its brush by itself",
               last="() => { const p = document.querySelector('#ll-complete-sketch'); return p ? "
                    "{brush: Boolean(p.querySelector('button[aria-label=\"Brush\"]')),"
                    " prompt: Boolean(p.querySelector('.empty'))} : 'no sketchpad'; }")
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
    rows_seen = watch_writing(page)
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

    # The presentation layout, entered from this tab: the digit grows to its column's width, the bars' words to 22 px.
    page.click("#ll-write-present")
    wait_until(page, "() => document.querySelector('#ll-write-digit img').getBoundingClientRect().width > 320",
               "the digit to grow in the presentation layout",
               last="() => 'width ' + document.querySelector('#ll-write-digit img').getBoundingClientRect().width")
    assert page.locator("#ll-write-bars .ll-write-bars").evaluate("(e) => getComputedStyle(e).fontSize") == "22px"
    page.screenshot(path=str(artifacts / "write-present.png"))
    page.keyboard.press("Escape")
    wait_until(page, "() => document.querySelector('#ll-write-digit img').getBoundingClientRect().width <= 280",
               "the digit to shrink back when Esc leaves the presentation layout",
               last="() => 'width ' + document.querySelector('#ll-write-digit img').getBoundingClientRect().width")


def write_with_seed(page, seed: str) -> str:
    """Press Write with `seed`, wait until the digit is written, and return the picture's src."""
    page.locator("#ll-write-seed input").fill(seed)
    watch_writing(page)
    return page.locator("#ll-write-digit img").get_attribute("src")


def test_the_same_seed_writes_the_same_digit_in_the_page(desktop):
    first = write_with_seed(desktop, "77")
    assert write_with_seed(desktop, "77") == first


def set_temperature(page, value: str):
    temperature = page.locator("#ll-write-temperature input[type=number]")
    temperature.fill(value)
    temperature.press("Enter")


def test_step_writes_one_row_and_shows_the_probabilities_it_was_drawn_from(desktop, artifacts):
    page = desktop
    page.locator("#ll-write-seed input").fill("7")
    set_temperature(page, "1")
    for row in range(3):
        page.click("#ll-write-step")
        wait_for_row(page, row)
        assert f"Row {row + 1} of 28 written (seed 7)." in page.locator("#ll-write-digit").inner_text()
    model, tempered = strip_values(page, "model"), strip_values(page, "tempered")
    assert len(model) == 28 and all(0 <= p <= 1 for p in model) and tempered == model  # temperature 1
    assert page.locator("#ll-write-next .ll-strip[data-kind=model] span").count() == 28
    drawn = page.locator("#ll-write-next .ll-strip.drawn").get_attribute("data-pixels")
    assert len(drawn) == 28 and set(drawn) <= {"0", "1"}
    panel = page.locator("#ll-write-next").inner_text()
    assert "Row 3 of 28" in panel and "(the same)" in panel and "log-likelihood so far" in panel
    log_likelihood = float(page.locator("#ll-write-next .ll-ll").get_attribute("data-log-likelihood"))
    assert log_likelihood < 0
    assert "pixels already drawn to its left" in page.locator("#ll-write-step-help").inner_text()

    # A colder temperature for the next row: its tempered probabilities are further from 1/2 than the model's.
    set_temperature(page, "0.5")
    page.click("#ll-write-step")
    wait_for_row(page, 3)
    model, tempered = strip_values(page, "model"), strip_values(page, "tempered")
    assert all(abs(t - 0.5) >= abs(p - 0.5) - 1e-4 for p, t in zip(model, tempered))
    assert "at temperature 0.50" in page.locator("#ll-write-next").inner_text()
    later = float(page.locator("#ll-write-next .ll-ll").get_attribute("data-log-likelihood"))
    assert later < log_likelihood  # another row's log-probability (< 0) is added
    page.locator("#ll-write-next").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "write-step.png"))


def test_play_steps_every_row_in_view_until_done_and_writes_the_digit_of_write(desktop):
    page = desktop
    written = write_with_seed(page, "21")
    page.evaluate(WATCH_STEPS)
    page.click("#ll-write-play")
    wait_until(page, "() => document.querySelector('#ll-write-step').disabled", "Step to be disabled while playing",
               last=BUTTONS)
    wait_for_row(page, 27)
    wait_until(page, "() => !document.querySelector('#ll-write-play').disabled"
               " && document.querySelector('#ll-write-stop').disabled", "Play to be enabled and Stop disabled (done)",
               last=BUTTONS)
    assert page.evaluate("window.llRowsSeen") == list(range(28))  # each row on screen in turn
    assert "Done: 28 of 28 rows written (seed 21)." in page.locator("#ll-write-digit").inner_text()
    assert page.locator("#ll-write-digit img").get_attribute("src") == written


def test_stop_pauses_play_and_step_goes_on_from_there(desktop, artifacts):
    page = desktop
    page.locator("#ll-write-seed input").fill("5")
    page.click("#ll-write-play")
    wait_until(page, "() => Number(document.querySelector('#ll-write-next .ll-next')?.dataset.row) >= 2",
               "Play to reach row 2", last=ROW_SHOWN)
    page.click("#ll-write-stop")
    wait_until(page, "() => !document.querySelector('#ll-write-play').disabled"
               " && !document.querySelector('#ll-write-step').disabled"
               " && document.querySelector('#ll-write-stop').disabled", "Stop to enable Play and Step and disable itself",
               last=BUTTONS)
    # In one go: start watching, read the row shown and press Step (a tick already on its way when Stop was
    # pressed may land before or after the click).
    stopped_at = page.evaluate(f"""() => {{ ({WATCH_STEPS})();
        const row = Number(document.querySelector('#ll-write-next .ll-next').dataset.row);
        document.querySelector('#ll-write-step').click();
        return row; }}""")
    assert stopped_at < 27
    wait_until(page, "(row) => window.llRowsSeen.length && window.llRowsSeen.at(-1) > row",
               f"Step to go on past row {stopped_at}", arg=stopped_at, last="() => 'rows seen ' + window.llRowsSeen")
    # Step goes on from there: the next row (or two, when that late tick lands after the click), never back.
    seen = page.evaluate("window.llRowsSeen")
    assert seen[0] == stopped_at + 1 and seen == list(range(seen[0], seen[0] + len(seen))) and len(seen) <= 2, seen
    page.screenshot(path=str(artifacts / "write-stopped.png"))


ERROR_MARKS = "#ll-complete-section .error"  # the mark Gradio puts on each output of an event that failed


def test_complete_a_drawn_digit_shows_labelled_endings_below_the_kept_rows(desktop, artifacts):
    page = desktop
    # An empty canvas is said once, where the prompt goes, and marks no output as failed (issue 25).
    page.locator("#ll-complete-go").scroll_into_view_if_needed()
    page.click("#ll-complete-go")
    wait_shown(page.locator("#ll-complete-prompt .ll-prompt[data-unusable]"), "the sentence saying the canvas is empty",
               last=text_at("#ll-complete-prompt"))
    assert page.locator("#ll-complete-prompt").inner_text().strip() == "The canvas is empty: draw a digit first."
    assert page.locator(ERROR_MARKS).count() == 0
    draw_a_seven(page)
    page.click("#ll-complete-go")
    wait_shown(page.locator("#ll-complete-endings .ll-ending").first, "the endings of the drawn digit")
    assert page.locator(ERROR_MARKS).count() == 0, "a mark of failure is left after a completion"
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
    wait_shown(page.locator("#ll-complete-prompt .ll-prompt[data-rows='20']"), "the prompt to keep 20 rows",
               last="() => 'rows ' + document.querySelector('#ll-complete-prompt .ll-prompt')?.dataset.rows")
    wait_until(page, "(before) => document.querySelector('#ll-complete-endings .ll-ending img').src !== before",
               "new endings below row 20", arg=before, last=src_at("#ll-complete-endings .ll-ending img"))


def test_side_by_side_samples_and_the_nll_table_fill_in(desktop, artifacts):
    page = desktop
    page.click("#ll-compare-go")
    wait_shown(page.locator("#ll-compare-writer .ll-samples img").first, "the writer's samples beside the VAE's")
    assert page.locator("#ll-compare-vae .ll-samples img").count() == 8
    assert page.locator("#ll-compare-writer .ll-samples img").count() == 8
    table = page.locator("#ll-write-nll table")
    wait_shown(table, "the NLL table (the checkpoints' stored figures)", last=text_at("#ll-write-nll"))
    text = page.locator("#ll-write-nll").inner_text()
    assert "writer-mnist" in text and "IWAE" in text and "500 binarized" in text
    assert re.search(r"≤ \d+\.\d", text)
    table.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "write-compare.png"))


@pytest.mark.extended  # the Write tab on a phone; test_on_a_phone_step_keeps_the_digit_and_its_strips_on_screen stays
def test_on_a_phone_the_digit_comes_into_view_while_it_is_written_and_in_chinese(browser, write_app,  # noqa: F811
                                                                                   artifacts):
    context, page = open_write_tab(browser, write_app[0], PHONE, "zh-CN")  # a visitor reading Chinese, on a phone
    try:
        # The words built into the page, the pictures' words said by the page (SAY_JS), then a handler's answer.
        wait_until(page, "() => document.querySelector('#ll-write-digit').innerText.includes('一行一行地出现')",
                   "the empty digit's words in Chinese", last=text_at("#ll-write-digit"))
        assert page.locator("#ll-write-go").inner_text().strip() == "书写"
        assert "读取器目前的猜测" in page.locator("#ll-write-bars").inner_text()
        assert "单步" in page.locator("#ll-write-next").inner_text()
        assert "一步一步看" in page.locator("#ll-write-step-help").inner_text()
        assert page.locator("#ll-complete-go").inner_text().strip() == "补全我画的数字"
        assert "点击“补全我画的数字”" in page.locator("#ll-complete-prompt").inner_text()
        watch_writing(page)
        box = page.locator("#ll-write-digit img").bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
        assert box["width"] <= PHONE["width"]
        assert re.fullmatch(r"完成：已写 28/28 行（随机种子 \d+）。", page.locator("#ll-write-digit .ll-caption").inner_text())
        assert "读取器的最终答案" in page.locator("#ll-write-bars").inner_text()
        page.screenshot(path=str(artifacts / "write-phone.png"))
    finally:
        context.close()


def test_on_a_phone_step_keeps_the_digit_and_its_strips_on_screen(browser, write_app, artifacts):  # noqa: F811
    context, page = open_write_tab(browser, write_app[0], PHONE)
    try:
        page.locator("#ll-write-step").scroll_into_view_if_needed()
        for row in range(4):
            page.click("#ll-write-step")
            wait_for_row(page, row)
        for part in ("#ll-write-digit img", "#ll-write-next .ll-strip.drawn"):
            box = page.locator(part).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], part
        page.locator("#ll-write-next").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "write-step-phone.png"))
    finally:
        context.close()
