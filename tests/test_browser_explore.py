"""The Explore tab in headless Chromium: sliders, random sample, upload, map, shared links, sessions.

The helpers at the top are shared with the other test_browser_explore_*.py files.
"""

import contextlib

import pytest
from browser_waits import src_at, text_at, value_at, wait_shown, wait_until
from conftest import open_context
from PIL import Image

from genmodels.data import load_dataset
from ui.limits import MAX_UPLOAD_BYTES

pytestmark = pytest.mark.browser

DIGIT_IMG = "#ll-digit-box img.ll-digit"
SLIDER_VALUES = "() => [...document.querySelectorAll('#ll-sliders input[type=number]')].map((i) => i.value).join(' ')"


def digit_src(page) -> str:
    return page.locator(DIGIT_IMG).get_attribute("src")


def slider_values(page, count: int = 20) -> list[float]:
    return [float(page.locator(f"#ll-z{k} input[type=number]").input_value() or 0) for k in range(count)]


def wait_until_changed(page, before: str):
    """Wait until the digit's picture differs from `before` (its src)."""
    wait_until(page, "([sel, before]) => { const i = document.querySelector(sel); "
               "return i && i.getAttribute('src') !== before; }", "the digit's picture to change",
               arg=[DIGIT_IMG, before], last=src_at(DIGIT_IMG))


def upload(page, path):
    """Choose `path` in the Upload tab's file input (clearing the file shown there first, as a person must)."""
    page.locator("#ll-upload-section").get_by_role("tab", name="Upload").click()
    shown = page.locator("#ll-upload button[aria-label=Clear]")
    if shown.count():
        shown.click()
    page.locator("#ll-upload input[type=file]").set_input_files(str(path))


def loaded(page):
    """Wait until the Explore tab shows its digit and its map."""
    wait_shown(page.locator(DIGIT_IMG), "the Explore tab's digit")
    # The load event has filled the map: the page is wired (attached: on a phone the lazy image is not loaded yet).
    wait_shown(page.locator("#ll-map img"), "the latent map's picture (the load event's answer)", state="attached")


@pytest.fixture(scope="module")
def digit_png(tmp_path_factory):
    ds = load_dataset("mnist-5k")
    a, label = ds.val_x[1].numpy(), int(ds.val_y[1])
    path = tmp_path_factory.mktemp("browser") / "digit.png"
    Image.fromarray(255 - a).resize((224, 224), Image.Resampling.BILINEAR).convert("RGB").save(path)
    return path, label


def test_page_loads_with_twenty_kl_sorted_sliders(page, artifacts):
    loaded(page)
    labels = [page.locator(f"#ll-z{k} [data-testid=block-info]").inner_text() for k in range(20)]
    kls = [float(label.split("KL")[1].split()[0]) for label in labels]
    assert kls == sorted(kls, reverse=True)
    assert page.locator("#ll-probs").inner_text().strip()
    page.screenshot(path=str(artifacts / "explorer.png"), full_page=True)


def wait_until_drawn(page, before: str, paints: int):
    """Wait until the server's picture changed or the page painted a new one itself (explore.js, in-page models)."""
    wait_until(page, """([sel, before, paints]) => { const i = document.querySelector(sel);
            return (i && i.getAttribute('src') !== before) || (window.llLive && window.llLive.paints > paints); }""",
               "a new picture of the digit, the server's or the page's own", arg=[DIGIT_IMG, before, paints],
               last=f"() => `${{({src_at(DIGIT_IMG)})()}}, ${{window.llLive ? window.llLive.paints : 'no'}} paints`")


def paint_count(page) -> int:
    return page.evaluate("() => window.llLive ? window.llLive.paints : 0")


def press_and_drag(page, slot: int, to: float):
    """Press the mouse on the middle of slider `slot`'s track and drag to fraction `to` of it; the
    button stays down (the caller lets go)."""
    box = page.locator(f"#ll-z{slot} input[type=range]").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * to, y, steps=8)


def test_dragging_a_slider_changes_the_picture_while_dragging(page):
    loaded(page)
    before, paints = digit_src(page), paint_count(page)
    press_and_drag(page, 0, 0.9)
    wait_until_drawn(page, before, paints)  # the picture updates before the button is released
    page.mouse.up()
    wait_until_changed(page, before)  # and the server's full view follows on release
    assert slider_values(page)[0] > 1.5


def test_random_sample_moves_the_sliders(page):
    loaded(page)
    before = digit_src(page)
    page.click("#ll-random")
    wait_until_changed(page, before)
    wait_until(page, "() => [...document.querySelectorAll('#ll-sliders input[type=number]')]"
               ".filter(i => parseFloat(i.value) !== 0).length >= 10", "ten or more sliders to move off 0",
               last=SLIDER_VALUES)
    assert sum(v != 0 for v in slider_values(page)) >= 10


def test_upload_shows_what_the_model_saw_its_reconstruction_and_a_readout(page, digit_png):
    loaded(page)
    path, label = digit_png
    before = digit_src(page)
    upload(page, path)
    wait_shown(page.locator("#ll-model-saw img"), "the picture of what the model saw of the upload")
    wait_shown(page.locator("#ll-recon img"), "the upload's reconstruction")
    wait_until_changed(page, before)
    wait_until(page, "() => document.querySelector('#ll-caption').innerText.includes('your uploaded')",
               "the caption to say it reads your uploaded digit", last=text_at("#ll-caption"))
    top = page.locator("#ll-probs h2, #ll-probs .output-class").first.inner_text().strip()
    assert top == str(label)
    assert sum(v != 0 for v in slider_values(page)) >= 10  # the code was loaded into the sliders
    # A file that is not a picture is refused: the previous digit's pictures go, the notes say why, and the
    # RNN reads the digit on the sliders again (not the previous upload under the new file's name).
    not_a_picture = path.parent / "notes.png"
    not_a_picture.write_text("shopping list: milk, eggs")
    upload(page, not_a_picture)
    wait_shown(page.locator("#ll-notes", has_text="not an image we can read"), "the notes to say why the file was refused",
               last=text_at("#ll-notes"))
    wait_shown(page.locator("#ll-model-saw img"), "the previous digit's 'what the model sees' to go", state="detached")
    wait_shown(page.locator("#ll-recon img"), "the previous digit's reconstruction to go", state="detached")
    wait_until(page, "() => document.querySelector('#ll-caption').innerText.includes('the decoded image')",
               "the caption to say the reader reads the decoded image again", last=text_at("#ll-caption"))
    assert "cleared" in page.locator("#ll-notes").inner_text()
    # A file over the limit never leaves the page: our sentence says how large it is and what the limit is.
    large = path.parent / "large.png"
    large.write_bytes(b"\x89PNG" + bytes(MAX_UPLOAD_BYTES + 1))
    upload(page, large)
    wait_shown(page.locator("#ll-upload-note", has_text="“large.png” was not sent"), "our sentence refusing the large file",
               last=text_at("#ll-upload-note"))
    assert f"the limit is {MAX_UPLOAD_BYTES // 2**20} MB" in page.locator("#ll-upload-note").inner_text()
    assert "exceed the maximum" not in page.content()  # Gradio's own refusal (English only) was not needed


def test_bad_upload_shows_a_short_error_and_the_page_keeps_working(page, tmp_path):
    loaded(page)
    blank = tmp_path / "blank.png"
    Image.new("RGB", (300, 300), "white").save(blank)
    upload(page, blank)
    wait_shown(page.get_by_text("looks blank").first, "the message that the blank upload looks blank")
    assert "Traceback" not in page.content()
    before = digit_src(page)
    page.click("#ll-random")
    wait_until_changed(page, before)


def test_clicking_the_map_moves_z(page):
    loaded(page)
    before = digit_src(page)
    page.locator("#ll-map img").click(position={"x": 120, "y": 150})
    wait_until_changed(page, before)
    assert any(v != 0 for v in slider_values(page))


def test_shared_link_restores_model_and_code(browser, live_app):
    z = [0.0] * 20
    z[3], z[7] = 1.5, -2.0
    context = open_context(browser)
    try:
        page = context.new_page()
        page.goto(f"{live_app}/?model=vae-fashion&z=" + ",".join(map(str, z)))
        loaded(page)
        wait_until(page, "() => document.body.innerText.includes('vae-fashion')", "the page to show vae-fashion",
                   last=text_at("#ll-model-info"))
        labels = {page.locator(f"#ll-z{k} [data-testid=block-info]").inner_text().split()[0]: k for k in range(20)}
        values = slider_values(page)
        assert values[labels["z3"]] == 1.5 and values[labels["z7"]] == -2.0
        wait_until(page, "() => document.querySelector('#ll-link textarea, #ll-link input').value.includes('z=')",
                   "the shared link to carry the code (z=)", last=value_at("#ll-link textarea, #ll-link input"))
        link = page.locator("#ll-link textarea, #ll-link input").first.input_value()
        assert "model=vae-fashion" in link and "1.5" in link
        # Copy link says it copied the link, beside the button and to screen readers.
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_app)
        page.click("#ll-share")
        wait_shown(page.locator("#ll-share-note", has_text="Link copied."), "“Link copied.” beside the button",
                   last=text_at("#ll-share-note"))
        assert page.locator("#ll-announce").inner_text() == "Link copied."
        assert page.evaluate("() => navigator.clipboard.readText()") == link
        # Without the clipboard, the link is shown beside the button, selected, for the visitor to copy by hand.
        context.clear_permissions()
        page.evaluate("() => { navigator.clipboard.writeText = () => Promise.reject(new Error('denied')); }")
        page.click("#ll-share")
        wait_shown(page.locator("#ll-share-note", has_text="Copy the link below with Ctrl+C"),
                   "the hint to copy the link by hand",
                   last=text_at("#ll-share-note"))
        assert page.evaluate("() => window.getSelection().toString()") == link
        assert page.locator("#ll-share-note .ll-share-link").inner_text() == link
        # A broken link falls back to the default model with a message, not an error page.
        page.goto(f"{live_app}/?model=../../etc&z=1,2,oops")
        loaded(page)
        wait_shown(page.get_by_text("unknown model").first, "the warning that the link names an unknown model")
        assert all(v == 0 for v in slider_values(page))
    finally:
        context.close()


@contextlib.contextmanager
def two_sessions(browser, url):
    """Two pages on the app in separate browser contexts (two visitors), both loaded."""
    first, second = open_context(browser), open_context(browser)
    try:
        a, b = first.new_page(), second.new_page()
        for pg in (a, b):
            pg.goto(url)
            loaded(pg)
        yield a, b
    finally:
        first.close()
        second.close()


def test_sessions_do_not_share_digits(browser, live_app):
    with two_sessions(browser, live_app) as (a, b):
        before = digit_src(a)
        a.click("#ll-random")
        wait_until_changed(a, before)
        # A round trip of b's own (its readout after 4 rows): once it is back, anything the server
        # had sent b before it has arrived too.
        b.locator("#ll-readout").scroll_into_view_if_needed()  # below the first screen: its picture loads lazily
        wait_shown(b.locator("#ll-readout img"), "the second visitor's readout picture")
        readout = b.locator("#ll-readout img").get_attribute("src")
        b.locator("#ll-rows-read input[type=range]").fill("4")
        wait_until(b, "(before) => document.querySelector('#ll-readout img').getAttribute('src') !== before",
                   "the second visitor's readout after 4 rows", arg=readout, last=src_at("#ll-readout img"))
        assert all(v == 0 for v in slider_values(b))
        assert digit_src(b) != digit_src(a)


# --------------------------------------------------------------------------- more ways to move through the space
def choose(page, elem_id: str, option: str):
    """Pick `option` in the gradio dropdown #elem_id."""
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def open_accordion(page, elem_id: str, title: str):
    page.locator(f"#{elem_id}").get_by_text(title, exact=True).first.click()


def no_error_toast(page):
    assert "Something went wrong" not in page.content() and "Traceback" not in page.content()


def test_interpolation_shows_a_strip_an_animation_and_a_gif(page):
    loaded(page)
    open_accordion(page, "ll-interp-section", "Interpolation")
    choose(page, "ll-interp-to", "centroid of “7”")
    page.click("#ll-interp")
    wait_shown(page.locator("#ll-interp-strip img").first, "the interpolation's strip of pictures")
    assert page.locator("#ll-interp-anim img.ll-anim").get_attribute("src").startswith("data:image/gif;base64,")
    link = page.locator("#ll-interp-gif a").first
    wait_shown(link, "the link to the interpolation's GIF")
    assert ".gif" in (link.get_attribute("href") or "")


def test_traversal_grid_is_drawn(page):
    loaded(page)
    open_accordion(page, "ll-grid-section", "Traversal grid")
    page.click("#ll-grid")
    wait_shown(page.locator("#ll-grid-img img").first, "the traversal grid's picture")
    no_error_toast(page)


def test_centroid_button_jumps_to_the_class_mean(page):
    loaded(page)
    before = digit_src(page)
    page.click("#ll-centroid-3")
    wait_until_changed(page, before)
    wait_until(page, "() => [...document.querySelectorAll('#ll-sliders input[type=number]')]"
               ".some(i => parseFloat(i.value) !== 0)", "a slider to move off 0 (the centroid's code)",
               last=SLIDER_VALUES)
    top = page.locator("#ll-probs h2, #ll-probs .output-class").first.inner_text().strip()
    assert top == "3"  # the RNN reads the decoded centroid of class 3 as a 3


def test_rows_read_slider_replays_the_reading(page):
    loaded(page)
    wait_shown(page.locator("#ll-readout img"), "the readout picture")
    before = page.locator("#ll-readout img").get_attribute("src")
    page.locator("#ll-rows-read input[type=range]").fill("4")
    wait_until(page, "(before) => document.querySelector('#ll-readout img').getAttribute('src') !== before",
               "the readout after 4 rows", arg=before, last=src_at("#ll-readout img"))
    assert page.locator("#ll-rows-read input[type=number]").input_value() == "4"


def test_switching_models_reloads_sliders_buttons_and_a_small_model_works(page, latent8_run):
    loaded(page)
    choose(page, "ll-model", "vae-fashion")
    wait_until(page, "() => document.body.innerText.includes('data set `fashion')"
               " || document.body.innerText.includes('vae-fashion ·')", "the model's description to be vae-fashion's",
               last=text_at("#ll-model-info"))
    wait_shown(page.locator("#ll-centroid-0", has_text="T-shirt"), "the first centroid button to read T-shirt",
               last=text_at("#ll-centroid-0"))
    # A run with 8 latent dimensions (the Train tab allows fewer than 20): only its 8 sliders show.
    page.click("#ll-refresh")
    choose(page, "ll-model", f"latent 8 ({latent8_run})")  # a run is listed under its own name
    wait_shown(page.locator("#ll-z8"), "the ninth slider to go (the run has 8 dimensions)", state="detached")
    assert page.locator("#ll-sliders .ll-slider:visible").count() == 8
    before = digit_src(page)
    page.locator("#ll-z0 input[type=range]").fill("2")
    page.locator("#ll-z0 input[type=range]").dispatch_event("pointerup")  # the hand lets go: the server's view
    wait_until_changed(page, before)
    page.click("#ll-random")
    wait_until(page, "() => parseFloat(document.querySelector('#ll-z0 input[type=number]').value) !== 2",
               "the random sample to move the first slider off 2", last=SLIDER_VALUES)
    assert any(v != 0 for v in slider_values(page, 8))
    no_error_toast(page)


def test_a_shared_link_to_a_small_model_restores_it(browser, live_app, latent8_run):
    context = open_context(browser)
    try:
        page = context.new_page()
        page.goto(f"{live_app}/?model={latent8_run}&z=1,0,0,0,0,0,0,-1.5")
        loaded(page)
        wait_until(page, "() => document.querySelectorAll('#ll-sliders .ll-slider').length === 8", "eight sliders",
                   last="() => document.querySelectorAll('#ll-sliders .ll-slider').length + ' sliders'")
        wait_until(page, "() => [...document.querySelectorAll('#ll-sliders input[type=number]')]"
                   ".some(i => parseFloat(i.value) === -1.5)", "the link's -1.5 in a slider", last=SLIDER_VALUES)
        assert sorted(slider_values(page, 8)) == [-1.5, 0, 0, 0, 0, 0, 0, 1]
        no_error_toast(page)
    finally:
        context.close()


def test_uploaded_digits_stay_in_their_own_session(browser, live_app, digit_png):
    with two_sessions(browser, live_app) as (a, b):
        upload(a, digit_png[0])
        wait_shown(a.locator("#ll-recon img"), "the first visitor's reconstruction of the upload", state="attached")
        for pg in (a, b):
            open_accordion(pg, "ll-interp-section", "Interpolation")
            choose(pg, "ll-interp-from", "your uploaded / drawn digit")
            pg.click("#ll-interp")
        # A's upload is an endpoint for A ...
        wait_shown(a.locator("#ll-interp-strip img").first, "the first visitor's interpolation from the upload",
                   state="attached")
        # ... but not for B
        wait_shown(b.get_by_text("No uploaded or drawn digit yet").first,
                   "the message that the second visitor has no upload of their own")
        assert b.locator("#ll-interp-strip img").count() == 0
        assert b.locator("#ll-recon img").count() == 0


# --------------------------------------------------------------------------- the visitor's language
def test_a_chinese_visitor_reads_the_explorer_in_chinese(browser, live_app, tmp_path):
    from ui.explore import SHOW_DIGIT_JS

    context = open_context(browser, viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        page.goto(f"{live_app}/?lang=zh-CN")
        loaded(page)
        assert page.locator("#ll-random").inner_text().strip() == "随机采样"
        assert "这里显示的是什么？" in page.locator("#ll-intro").inner_text()
        wait_shown(page.locator(".ll-canvas-clear", has_text="清空"), "the canvas's Clear button in Chinese")
        assert page.locator("canvas.ll-canvas").get_attribute("aria-label") == "画布：在这里画一个数字"
        # The server's answers (the page's events) come in Chinese, and the link keeps the language.
        wait_until(page, "() => document.querySelector('#ll-caption').innerText.includes('正在读取：解码出的图像。')",
                   "the caption in Chinese", last=text_at("#ll-caption"))
        wait_until(page, "(sel) => document.querySelector(sel).value.includes('lang=zh-CN')", "the link to keep lang=zh-CN",
                   arg="#ll-link textarea, #ll-link input", last=value_at("#ll-link textarea, #ll-link input"))
        assert "z" in page.locator("#ll-z0 [data-testid=block-info]").inner_text()
        blank = tmp_path / "blank.png"
        Image.new("RGB", (300, 300), "white").save(blank)
        page.locator("#ll-upload-section").get_by_role("tab", name="上传").click()
        page.locator("#ll-upload input[type=file]").set_input_files(str(blank))
        wait_shown(page.locator("#ll-notes", has_text="图像看起来是空白的"), "the refusal of a blank picture in Chinese",
                   last=text_at("#ll-notes"))
        # "Open in explorer" (the Train tab) ends with SHOW_DIGIT_JS: the model row and the digit come into view.
        page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        page.evaluate(SHOW_DIGIT_JS)
        wait_until(page, "() => Math.abs(document.querySelector('#ll-model-row').getBoundingClientRect().top) < 2",
                   "the model row at the top of the screen",
                   last="() => document.querySelector('#ll-model-row').getBoundingClientRect().top")
        assert page.locator("#ll-digit-box").bounding_box()["y"] < 720
    finally:
        context.close()
