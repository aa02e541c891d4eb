"""How the VAE sees this digit in headless Chromium: the panel, the bands mu ± sigma on the
sliders, the posterior samples and a new draw of eps, after an upload and after a release; and the
panel on a laptop, the projector (presentation mode) and a phone, the phone's in Chinese
(screenshots in test-artifacts/).

Every figure the page shows is checked against the same call in this process (actions.explain_digit,
ui/explore/explain.py): the page's digit is explained by the server, the test explains it again here.
"""

import numpy as np
import pytest
from browser_waits import text_at, wait_shown, wait_until
from conftest import open_context
from test_browser_explore import digit_png, loaded, press_and_drag, slider_values, upload  # noqa: F401

import i18n
from genmodels.registry import ModelRegistry
from ui.explore import actions, explain
from ui.explore.models import ViewCache

pytestmark = pytest.mark.browser

BANDS = "#ll-explain-dims [data-bands]"
DRAWS_SHOWN = "() => 'draws ' + [...document.querySelectorAll('#ll-explain [data-draw]')].map((e) => e.dataset.draw).join(' ')"
Z_LINK = "?z=" + ",".join(["1.2", "-1", "0.5", "2"] + ["0"] * 16)


@pytest.fixture(scope="module")
def view():
    return ViewCache(ModelRegistry(device="cpu")).get("vae-mnist")


def bands_of(html: str) -> str:
    return html.split('data-bands="', 1)[1].split('"', 1)[0]


def page_bands(page) -> str:
    return page.locator(BANDS).get_attribute("data-bands")


def wait_for_bands_other_than(page, before: str):
    """Wait until the panel lists bands other than `before`."""
    wait_until(page, "([sel, before]) => { const b = document.querySelector(sel); return b && b.dataset.bands !== before; }",
               "the panel to explain a new digit (new bands)", arg=[BANDS, before],
               last="([sel]) => (document.querySelector(sel) || {dataset: {}}).dataset.bands")


def bands_listed(page):
    """Wait until the panel lists its bands (the explanation has arrived)."""
    wait_shown(page.locator(BANDS), "the panel's list of bands mu ± sigma", state="attached")


def slider_bands(page) -> list[list[float]]:
    """The (lo, mu, hi) each slider's track is drawn with, read from its range input's style."""
    return page.evaluate("""() => [...document.querySelectorAll('#ll-sliders .ll-slider')].map((s) => {
        const style = getComputedStyle(s.querySelector('input[type=range]'));
        return ['lo', 'mu', 'hi'].map((n) => parseFloat(style.getPropertyValue('--ll-band-' + n)));
    })""")


# Each slider's band as its track is drawn ("lo,mu,hi"), read from its range input's style (explore.js sets it).
SLIDER_BANDS = """() => [...document.querySelectorAll('#ll-sliders .ll-slider')].map((s) => {
    const style = getComputedStyle(s.querySelector('input[type=range]'));
    return ['lo', 'mu', 'hi'].map((n) => style.getPropertyValue('--ll-band-' + n).trim()).join(','); })"""


def wait_until_sliders_show(page, bands: str):
    """Wait until every slider's track carries the band the panel lists (explore.js applies them)."""
    wait_until(page, f"(bands) => {{ const want = bands.split(';'); return ({SLIDER_BANDS})().every((b, k) => b === want[k]); }}",
               f"every slider's track to carry the band the panel lists ({bands[:60]}…)", arg=bands,
               last=f"() => ({SLIDER_BANDS})().join(';')")


def wait_until_in_chinese(page):
    """Wait until the panel, built into the page and computed for the page's digit, speaks Chinese, and check its words."""
    nats = i18n.text("explain.nats", "zh-CN", value=0.0).split()[-1]
    wait_until(page, "(word) => document.querySelector('#ll-explain-elbo').innerText.includes(word)",
               "the panel's ELBO in Chinese (the page's digit explained in the page's language)", arg=nats,
               last=text_at("#ll-explain-elbo"))
    for selector, key in [("#ll-explain", "explain.title"), ("#ll-explain-eps", "explain.new_eps"),
                          ("#ll-explain-sampling", "explain.sampling.trick"), ("#ll-contrast", "contrast.title")]:
        assert i18n.text(key, "zh-CN") in page.locator(selector).first.inner_text(), (selector, key)
    assert "证据下界" in page.locator("#ll-explain-elbo").inner_text()
    pipeline = page.locator("#ll-explain-pipeline .ll-pipe")
    assert pipeline.get_attribute("aria-label") == i18n.text("explain.pipe.label", "zh-CN")  # read by screen readers
    help_text = page.locator("#ll-explain .ll-help").first.inner_text()
    assert "编码器输出的不是一个编码" in help_text and "The encoder" not in help_text


def expected_parts(view, digit, draw: int = actions.EXPLAIN_DRAW) -> dict:
    return explain.explain_html(view, np.asarray(digit, dtype=np.float32), draw)


def test_the_panel_and_the_bands_explain_the_digit_on_screen(page, view):
    loaded(page)
    bands_listed(page)
    origin = view.decode(np.zeros(view.dims, dtype=np.float32))
    parts = expected_parts(view, origin)
    assert page_bands(page) == bands_of(parts["dims"])  # the server's figures are genmodels' figures
    wait_until_sliders_show(page, bands_of(parts["dims"]))
    assert page.locator("#ll-explain .ll-dim-row").count() == 20
    assert page.locator("#ll-explain .ll-pipe-box").count() == 7
    e = actions.explain_digit(view, origin)
    elbo = page.locator("#ll-explain-elbo").inner_text()
    assert f"{float(e.nelbo[0]):.1f} nats" in elbo and "β = 1" in elbo
    assert page.locator("#ll-explain-sampling img.ll-samples").get_attribute("src").startswith("data:image/png")


def test_an_upload_centres_each_band_on_its_slider(page, view, digit_png, artifacts):  # noqa: F811
    loaded(page)
    bands_listed(page)
    before = page_bands(page)
    path, _ = digit_png
    upload(page, path)
    wait_for_bands_other_than(page, before)
    prepared = actions.image_to_digit(str(path))[0].numpy()
    parts = expected_parts(view, prepared)
    assert page_bands(page) == bands_of(parts["dims"])  # the digit as the model sees it
    wait_until_sliders_show(page, page_bands(page))
    page.locator("#ll-sliders").screenshot(path=str(artifacts / "explain-bands.png"))
    values = slider_values(page)
    for (lo, mu, hi), value in zip(slider_bands(page), values):
        # The sliders hold mu rounded to 2 decimals: the band's centre is the thumb's value.
        assert lo <= mu <= hi
        assert mu == pytest.approx(np.clip((value + 3) / 6, 0, 1), abs=0.006 / 6 + 1e-4)
    e = actions.explain_digit(view, prepared)
    assert f"{float(e.nelbo[0]):.1f} nats" in page.locator("#ll-explain-elbo").inner_text()


def test_releasing_a_slider_explains_the_new_picture(page, view):
    loaded(page)
    bands_listed(page)
    before = page_bands(page)
    press_and_drag(page, 0, 0.95)
    page.mouse.up()
    wait_for_bands_other_than(page, before)
    z = view.slots_to_z(slider_values(page))
    want = [tuple(map(float, b.split(","))) for b in bands_of(expected_parts(view, view.decode(z))["dims"]).split(";")]
    got = [tuple(map(float, b.split(","))) for b in page_bands(page).split(";")]
    assert np.allclose(got, want, atol=1e-3)


def test_a_new_eps_draws_new_posterior_samples_of_the_same_digit(page, view):
    loaded(page)
    wait_shown(page.locator("#ll-explain-sampling [data-draw='0']"), "the posterior samples of draw 0", state="attached")
    bands, samples = page_bands(page), page.locator("img.ll-samples").get_attribute("src")
    for draw in (1, 2):
        page.click("#ll-explain-eps")
        for part in ("sampling", "elbo"):
            wait_shown(page.locator(f"#ll-explain-{part} [data-draw='{draw}']"), f"the panel's {part} of draw {draw}",
                       state="attached", last=DRAWS_SHOWN)
        now = page.locator("img.ll-samples").get_attribute("src")
        assert now != samples
        samples = now
        assert page_bands(page) == bands  # the posterior is the digit's: only the draws are new
        e = actions.explain_digit(view, view.decode(np.zeros(view.dims, dtype=np.float32)), draw)
        assert f"{float(e.reconstruction[0]):.1f}" in page.locator("#ll-explain-elbo").inner_text()


@pytest.mark.parametrize("name, viewport, query", [
    ("explain-1280", {"width": 1280, "height": 720}, Z_LINK),
    ("explain-presentation", {"width": 1280, "height": 720}, Z_LINK + "&present=1"),
    ("explain-phone-zh-CN", {"width": 390, "height": 844}, "?lang=zh-CN"),
])
def test_the_panel_on_a_laptop_a_projector_and_a_phone(browser, live_app, artifacts, name, viewport, query):
    context = open_context(browser, viewport=viewport)
    try:
        page = context.new_page()
        page.goto(live_app + query)
        loaded(page)
        bands_listed(page)
        if "zh-CN" in name:
            wait_until_in_chinese(page)
        page.screenshot(path=str(artifacts / f"{name}-top.png"))
        page.locator("#ll-explain-pipeline").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / f"{name}.png"))
        assert page.locator("#ll-explain-pipeline .ll-pipe").is_visible()
        assert page.locator("img.ll-samples").is_visible()
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page is {overflow} px wider than the screen"
        if "presentation" in name:
            assert page.locator("#ll-explain-dims-col").is_hidden()  # the sliders' bands say it there
            size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.ll-pipe-box h4')).fontSize)")
            assert size >= 20  # readable from the back of a classroom
    finally:
        context.close()
