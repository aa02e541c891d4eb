"""The explorer's drag loop runs in the page (issue 11): ui/explore/explore.js with ui/static/latent_lab.js.

While a slider moves, the page decodes and reads the picture itself: its canvas equals the PyTorch
decoder's picture within 2/255, the RNN's bars follow while the mouse is still down, and no
request reaches the server until the hand lets go. A page whose in-page models cannot load
(/latent-lab blocked) falls back to the server's picture per frame with no error. The HTTP API
leaves a bounded number of files in gradio's cache however often it is called
(tests/test_explore_api.py).
"""


import numpy as np
import pytest
import torch

from genmodels import VAE, RowRNN
from test_browser_explore import DIGIT_IMG, choose, digit_src, loaded, no_error_toast, press_and_drag

pytestmark = pytest.mark.browser
CHECKPOINTS = "checkpoints"
LIVE_CANVAS = "#ll-digit-box canvas.ll-digit-live"


@pytest.fixture(scope="module")
def torch_models():
    return (VAE.from_pretrained(f"{CHECKPOINTS}/vae-mnist", device="cpu"),
            RowRNN.from_pretrained(f"{CHECKPOINTS}/rnn-mnist", device="cpu"))


def in_page_ready(page):
    """Wait until the page runs the shown model itself."""
    loaded(page)
    page.wait_for_function("() => window.llLive && window.llLive.models !== null && window.llLive.paints > 0")


def paints(page) -> int:
    return page.evaluate("() => window.llLive.paints")


def wait_for_paint(page, after: int):
    page.wait_for_function("(n) => window.llLive.paints > n", arg=after)


def server_calls(page) -> list:
    """Start recording the page's requests to gradio's event API (every server handler goes through it)."""
    calls = []
    page.on("request", lambda r: calls.append(r.url) if "/gradio_api/" in r.url and r.method == "POST" else None)
    return calls


def check_canvas_is_the_decoders_picture(page, vae):
    """The live canvas shows PyTorch's decode of the code the page painted, within 2/255 on every pixel."""
    z, painted = page.evaluate("""(sel) => {
        const canvas = document.querySelector(sel);
        const rgba = canvas.getContext('2d').getImageData(0, 0, 28, 28).data;
        return [window.llLive.z, Array.from({length: 784}, (_, k) => rgba[4 * k])];
    }""", LIVE_CANVAS)
    with torch.no_grad():
        expected = (vae.decode(torch.tensor([z])).reshape(784) * 255).round().numpy()
    assert np.abs(np.array(painted) - expected).max() <= 2
    assert page.locator(LIVE_CANVAS).is_visible()
    return z


def test_a_drag_is_decoded_and_read_in_the_page_with_no_server_request(page, torch_models):
    vae, rnn = torch_models
    in_page_ready(page)
    calls = server_calls(page)
    before = paints(page)
    press_and_drag(page, 0, 0.85)
    wait_for_paint(page, before)
    page.wait_for_function("() => document.querySelector('#ll-probs').dataset.live === '1'")
    # Still dragging: the picture and the RNN's bars are the page's own, and the server heard nothing.
    page.wait_for_function("() => window.llLive.z.some((v) => v > 1)")
    z = check_canvas_is_the_decoders_picture(page, vae)
    with torch.no_grad():
        expected = rnn.read_rows(vae.decode(torch.tensor([z])).reshape(1, 28, 28))[0, -1].numpy()
    top = page.locator("#ll-probs .container.ll-live .output-class").inner_text().strip()
    assert top == str(int(expected.argmax()))
    shown = page.locator(f"#ll-probs .container.ll-live [data-testid='{top}-confidence-set'] dd").inner_text()
    assert abs(float(shown.rstrip("%")) - 100 * expected.max()) <= 1
    assert page.locator("#ll-readout canvas.ll-readout-live").is_visible()
    assert calls == [], calls
    src = digit_src(page)
    page.mouse.up()
    # On release the server sends the full view of the same code (picture, readout, map, link).
    page.wait_for_function("([sel, before]) => document.querySelector(sel).getAttribute('src') !== before",
                           arg=[DIGIT_IMG, src])
    assert calls, "the release reaches the server"
    no_error_toast(page)


def test_arrow_keys_and_typed_values_paint_in_the_page(page, torch_models):
    vae, _ = torch_models
    in_page_ready(page)
    calls = server_calls(page)
    order = [int(d) for d in page.locator("#ll-digit-box .ll-digit-frame").get_attribute("data-order").split(",")]
    before = paints(page)
    page.locator("#ll-z0 input[type=range]").focus()
    page.keyboard.down("ArrowRight")  # held down: the key repeats, no keyup (release) yet
    page.wait_for_function("(d) => window.llLive.z[d] > 0", arg=order[0])
    assert paints(page) > before
    check_canvas_is_the_decoders_picture(page, vae)
    page.keyboard.up("ArrowRight")
    before = paints(page)
    page.locator("#ll-z2 input[type=number]").fill("-1.5")  # typed, Enter not pressed yet
    page.wait_for_function("(d) => window.llLive.z[d] === -1.5", arg=order[2])
    assert paints(page) > before
    check_canvas_is_the_decoders_picture(page, vae)
    assert not any("decode" in url for url in calls)
    no_error_toast(page)


def frame_z(page) -> list[float]:
    return [float(v) for v in page.locator("#ll-digit-box .ll-digit-frame").get_attribute("data-z").split(",")]


def test_random_and_reset_paint_in_the_page_and_the_server_follows(page, torch_models):
    vae, _ = torch_models
    in_page_ready(page)
    before, src = paints(page), digit_src(page)
    page.click("#ll-random")
    wait_for_paint(page, before)
    z = check_canvas_is_the_decoders_picture(page, vae)  # painted by the page before the server answers
    assert sum(abs(v) > 0 for v in z) > 10
    page.wait_for_function("([sel, before]) => document.querySelector(sel).getAttribute('src') !== before",
                           arg=[DIGIT_IMG, src])
    # The server's full view is of the page's code, on the sliders' 0.05 grid (a draw of the server's
    # own would not be).
    assert np.allclose(frame_z(page), z, atol=1e-4)
    assert all(abs(v * 20 - round(v * 20)) < 1e-3 for v in frame_z(page))
    page.wait_for_function("() => window.location.search.includes('z=')")

    before, src = paints(page), digit_src(page)
    page.click("#ll-reset")
    wait_for_paint(page, before)
    assert check_canvas_is_the_decoders_picture(page, vae) == [0.0] * len(z)
    page.wait_for_function("([sel, before]) => document.querySelector(sel).getAttribute('src') !== before",
                           arg=[DIGIT_IMG, src])
    page.wait_for_function("() => !window.location.search.includes('z=')")  # the origin's link has no code
    assert frame_z(page) == [0.0] * len(z)
    no_error_toast(page)


def test_switching_models_loads_each_model_once(page):
    in_page_ready(page)
    weights = []
    page.on("request", lambda r: weights.append(r.url) if "/latent-lab/weights/" in r.url else None)
    choose(page, "ll-model", "vae-fashion")
    page.wait_for_function("() => window.llLive.key.startsWith('vae-fashion|') && window.llLive.models")
    choose(page, "ll-model", "vae-mnist")
    page.wait_for_function("() => window.llLive.key.startsWith('vae-mnist|') && window.llLive.models")
    choose(page, "ll-model", "vae-fashion")
    page.wait_for_function("() => window.llLive.key.startsWith('vae-fashion|') && window.llLive.models")
    assert len(weights) == len(set(weights)) <= 1  # fashion once; digits came with the page
    names = page.evaluate("() => window.llLive.models.info.class_names")
    assert names[0] == "T-shirt/top" or len(names) == 10


def test_without_the_in_page_models_the_server_draws_the_drag(browser, live_app):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.route("**/latent-lab/**", lambda route: route.abort())
        calls = server_calls(page)
        page.goto(live_app)
        loaded(page)
        page.wait_for_function("() => window.llExploreReady")
        before = digit_src(page)
        press_and_drag(page, 0, 0.9)
        page.wait_for_function("([sel, before]) => document.querySelector(sel).getAttribute('src') !== before",
                               arg=[DIGIT_IMG, before])  # the server's picture, while the mouse is down
        page.mouse.up()
        assert calls
        assert page.evaluate("() => window.llLive.models") is None
        assert page.locator(LIVE_CANVAS).is_hidden()
        no_error_toast(page)
    finally:
        context.close()
