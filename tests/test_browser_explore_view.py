"""The Explore tab in headless Chromium: one consistent view however z changes, 2-D models, previews, readers.

Every way of moving z must update the picture, the RNN readout, the map marker and the link
together; these tests change z by keyboard, by typing, by reset and by clicks, and wait for all four.
"""

import pytest
from browser_waits import text_at, value_at, wait_shown, wait_until
from conftest import finished_run, open_context

from test_browser_explore import (SLIDER_VALUES, choose, digit_src, loaded, no_error_toast, slider_values,
                                  wait_until_changed)

pytestmark = pytest.mark.browser

LINK = "#ll-link textarea, #ll-link input"


def snapshot(page) -> dict:
    """Return what shows the current z: picture, readout text, readout picture, map picture, link."""
    return {"digit": digit_src(page), "probs": page.locator("#ll-probs").inner_text(),
            "readout": page.locator("#ll-readout img").get_attribute("src"),
            "map": page.locator("#ll-map img").get_attribute("src"),
            "link": page.locator(LINK).first.input_value()}


def wait_until_all_changed(page, before: dict):
    """Wait until the picture, the readout picture, the map and the link all differ from `before`."""
    wait_until(page, """([b, link]) => {
            const src = (sel) => { const i = document.querySelector(sel); return i && i.getAttribute('src'); };
            const box = document.querySelector(link);
            return src('#ll-digit-box img') !== b.digit && src('#ll-readout img') !== b.readout
                && src('#ll-map img') !== b.map && box && box.value !== b.link; }""",
               "the picture, the readout, the map and the link all to change", arg=[before, LINK],
               last="""([b, link]) => {
            const src = (sel) => { const i = document.querySelector(sel); return i && i.getAttribute('src'); };
            const box = document.querySelector(link);
            return {digit: src('#ll-digit-box img') !== b.digit, readout: src('#ll-readout img') !== b.readout,
                    map: src('#ll-map img') !== b.map, link: Boolean(box) && box.value !== b.link}; }""")


def link_ready(page):
    wait_until(page, "(sel) => (document.querySelector(sel) || {}).value?.startsWith('http')",
               "the share link's box to hold a link", arg=LINK, last=value_at(LINK))


@pytest.fixture(scope="module")
def latent2_run(runs_dir):
    """A finished run of a tiny VAE with 2 latent dimensions, named 'latent 2'; returns its model name."""
    from genmodels import VAEConfig
    from genmodels.train import TrainConfig

    finished_run(runs_dir, "20250101-000000-0002", "vae", VAEConfig(latent_dim=2, hidden_size=32),
                 TrainConfig(epochs=1, device="cpu", nll_samples=0), name="latent 2")
    return "run-20250101-000000-0002"


def test_arrow_keys_update_the_readout_the_map_and_the_link(page):
    loaded(page)
    link_ready(page)
    before = snapshot(page)
    page.locator("#ll-z0 input[type=range]").focus()
    for _ in range(12):
        page.keyboard.press("ArrowRight")
    wait_until_all_changed(page, before)
    assert slider_values(page)[0] == pytest.approx(0.6)
    assert "z=" in page.locator(LINK).first.input_value() and "z=" in page.url  # the address bar follows
    no_error_toast(page)


def test_a_typed_value_beyond_the_range_is_clamped_with_a_note(page):
    loaded(page)
    link_ready(page)
    before = snapshot(page)
    box = page.locator("#ll-z1 input[type=number]")
    box.fill("7")
    box.press("Enter")
    wait_shown(page.get_by_text("7 became 3"), "the note that 7 became 3")
    wait_until_all_changed(page, before)
    assert box.input_value() == "3" and slider_values(page)[1] == 3
    assert ",3" in page.locator(LINK).first.input_value() or "z=3" in page.locator(LINK).first.input_value()
    no_error_toast(page)


def test_a_value_is_clamped_only_when_the_typing_is_finished(page):
    loaded(page)
    link_ready(page)
    box = page.locator("#ll-z1 input[type=number]")
    box.click()
    box.press("Control+a")
    box.press("9")
    box.press("9")  # 9 on the way to 99: not clamped, nothing said
    assert box.input_value() == "99" and page.locator("#ll-slider-note").inner_text().strip() == ""
    before = snapshot(page)
    box.press("Enter")
    wait_shown(page.get_by_text("99 became 3"), "one note that 99 became 3", last=text_at("#ll-slider-note"))
    wait_until_all_changed(page, before)
    assert box.input_value() == "3" and "39" not in page.locator("#ll-slider-note").inner_text()
    # Leaving the box finishes the typing too.
    box.click()
    box.press("Control+a")
    for key in "-12":
        box.press(key)
    assert box.input_value() == "-12"
    page.locator("#ll-z2 input[type=number]").focus()
    wait_shown(page.get_by_text("-12 became -3"), "the note that -12 became -3", last=text_at("#ll-slider-note"))
    assert box.input_value() == "-3"
    no_error_toast(page)


def test_retyping_a_value_from_an_empty_box_works(page, capfd):
    loaded(page)
    link_ready(page)
    before = snapshot(page)
    box = page.locator("#ll-z2 input[type=number]")
    box.click()
    box.press("Control+a")
    box.press("Backspace")  # an empty box: not a value, nothing is sent
    for key in "-1.5":  # a lone "-" on the way is not a value either
        box.press(key)
    box.press("Enter")
    wait_until_all_changed(page, before)
    assert slider_values(page)[2] == -1.5
    no_error_toast(page)
    logged = capfd.readouterr()
    assert "Traceback" not in logged.out + logged.err  # no half-typed value reached the server


def test_reset_clears_z_from_the_address_bar(browser, live_app):
    context = open_context(browser)
    try:
        page = context.new_page()
        page.goto(f"{live_app}/?model=vae-mnist&z=1.5" + ",0" * 19)
        loaded(page)
        wait_until(page, "() => [...document.querySelectorAll('#ll-sliders input[type=number]')]"
                   ".some(i => parseFloat(i.value) === 1.5)", "the link's 1.5 in a slider", last=SLIDER_VALUES)
        assert "z=" in page.url
        page.click("#ll-reset")
        wait_until(page, "() => !window.location.search.includes('z=')", "Reset to drop the code from the address bar",
                   last="() => location.search")
        assert "model=vae-mnist" in page.url and all(v == 0 for v in slider_values(page))
    finally:
        context.close()


def test_centroid_and_map_clicks_move_everything_together(page):
    loaded(page)
    link_ready(page)
    before = snapshot(page)
    page.click("#ll-centroid-7")
    wait_until_all_changed(page, before)
    before = snapshot(page)
    # The map's new picture (after the centroid) is in view and drawn before it is clicked: a click on the
    # picture being swapped for the new one reaches neither.
    page.locator("#ll-map img").scroll_into_view_if_needed()
    wait_until(page, "() => { const i = document.querySelector('#ll-map img'); return i && i.complete && i.naturalWidth > 0 "
               "&& i.getBoundingClientRect().top >= 0 && i.getBoundingClientRect().bottom <= innerHeight; }",
               "the map's new picture to be drawn and in view", last="() => document.querySelector('#ll-map img')?.src")
    page.locator("#ll-map img").click(position={"x": 100, "y": 100})
    wait_until_all_changed(page, before)


def test_a_two_dimensional_model_shows_two_sliders_and_its_manifold(browser, live_app, latent2_run, artifacts):
    context = open_context(browser, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{live_app}/?model={latent2_run}")
        loaded(page)
        wait_shown(page.locator("#ll-manifold img"), "the 2-D model's manifold picture")
        assert page.locator("#ll-sliders .ll-slider:visible").count() == 2
        assert "latent 2" in page.locator("#ll-model input").input_value()  # the run's own name
        before = snapshot(page)
        page.locator("#ll-manifold img").click(position={"x": 60, "y": 40})
        wait_until_all_changed(page, before)
        first_two = [float(page.locator(f"#ll-z{k} input[type=number]").input_value()) for k in range(2)]
        assert all(abs(v) > 0.5 for v in first_two)
        page.locator("#ll-manifold-box").screenshot(path=str(artifacts / "manifold.png"))
        no_error_toast(page)
    finally:
        context.close()


def test_clicking_a_sliders_name_previews_its_dimension(page):
    loaded(page)
    page.locator("#ll-z0 [data-testid=block-info]").click()
    wait_shown(page.locator("#ll-preview img.ll-digit-small").first, "the preview of the first dimension")
    assert page.locator("#ll-preview img.ll-digit-small").count() == 7
    assert page.locator("#ll-z0 [data-testid=block-info]").inner_text().split()[0] in page.locator(
        "#ll-preview").inner_text()


def test_any_trained_rnn_can_be_the_reader(page):
    loaded(page)
    assert page.locator("#ll-reader input").input_value() == "rnn-mnist"
    choose(page, "ll-reader", "rnn-fashion")
    wait_shown(page.locator("#ll-probs", has_text="Trouser"), "the fashion reader's classes in the bars",
               last=text_at("#ll-probs"))
    choose(page, "ll-reader", "none")
    wait_shown(page.locator("#ll-probs", has_text="no RNN reader"), "the bars to say there is no RNN reader",
               last=text_at("#ll-probs"))
    before = digit_src(page)
    page.click("#ll-random")  # the page keeps working without a reader
    wait_until_changed(page, before)
    no_error_toast(page)
