"""The explorer's drag loop runs in the page: ui/explore/explore.js with ui/static/latent_lab.js.

While a slider moves, the page decodes and reads the picture itself: its canvas equals the PyTorch
decoder's picture within 2/255, the RNN's bars follow while the mouse is still down, and no
request reaches the server until the hand lets go. Random, Reset, a centroid, a map click and an
opened link are painted while every request to the server is held back, and the server then
shows the same code. A page whose in-page models cannot load
(/latent-lab blocked) falls back to the server's picture per frame with no error. The HTTP API
leaves a bounded number of files in gradio's cache however often it is called
(tests/test_explore_api.py).
"""


import numpy as np
import pytest
import torch
from browser_waits import expecting_request, src_at, text_at, wait_shown, wait_until
from conftest import open_context

from genmodels import VAE, RowRNN
from ui.explore.models import SNAP_PIXELS
from test_browser_explore import digit_png  # noqa: F401  (a fixture: the test asks for it by name)
from test_browser_explore import DIGIT_IMG, choose, digit_src, loaded, no_error_toast, press_and_drag, upload

pytestmark = pytest.mark.browser
CHECKPOINTS = "checkpoints"
LIVE_CANVAS = "#ll-digit-box canvas.ll-digit-live"
# What the page's own models are doing (a state for the waits' failures).
LIVE_STATE = ("() => window.llLive ? {key: window.llLive.key, models: Boolean(window.llLive.models), "
              "paints: window.llLive.paints, z: window.llLive.z && Array.from(window.llLive.z).slice(0, 4)} : 'no llLive'")


@pytest.fixture(scope="module")
def torch_models():
    return (VAE.from_pretrained(f"{CHECKPOINTS}/vae-mnist", device="cpu"),
            RowRNN.from_pretrained(f"{CHECKPOINTS}/rnn-mnist", device="cpu"))


def in_page_ready(page):
    """Wait until the page runs the shown model itself."""
    loaded(page)
    wait_until(page, "() => window.llLive && window.llLive.models !== null && window.llLive.paints > 0",
               "the page to run the shown model itself (its models loaded and a first paint)", last=LIVE_STATE)


def paints(page) -> int:
    return page.evaluate("() => window.llLive.paints")


def wait_for_paint(page, after: int):
    wait_until(page, "(n) => window.llLive.paints > n", f"the page to paint again (after paint {after})", arg=after,
               last=LIVE_STATE)


def wait_for_server_picture(page, before: str):
    """Wait until the server's picture of the digit differs from `before` (its src)."""
    wait_until(page, "([sel, before]) => document.querySelector(sel).getAttribute('src') !== before",
               "the server's new picture of the digit", arg=[DIGIT_IMG, before], last=src_at(DIGIT_IMG))


def is_event(request) -> bool:
    """Whether a request of the page sends an event to gradio's API (every server handler goes through one)."""
    return "/gradio_api/" in request.url and request.method == "POST"


def server_calls(page) -> list:
    """Start recording the page's event requests."""
    calls = []
    page.on("request", lambda r: calls.append(r.url) if is_event(r) else None)
    return calls


def hold_server_events(page) -> dict:
    """Hold the page's event requests (gradio's queue and API POSTs) until let_go: the page is on its own."""
    hold = {"on": True, "held": []}

    def route(request_route):
        if hold["on"] and is_event(request_route.request):
            hold["held"].append(request_route)
        else:
            request_route.continue_()
    page.route("**/gradio_api/**", route)
    return hold


def let_go(page, hold: dict):
    """Send the held requests on, and every later one straight through."""
    hold["on"] = False
    for request_route in hold["held"]:
        request_route.continue_()
    page.unroute("**/gradio_api/**")


def sends_an_event(page):
    """Return a context that waits until the page sends an event to the server (held or not)."""
    return expecting_request(page, is_event, "the page to send an event to the server")


def check_canvas_is_the_decoders_picture(page, vae, shown: bool = True):
    """The live canvas shows PyTorch's decode of the code the page painted, within 2/255 on every pixel (and,
    with `shown`, is the picture on screen: after a release the server's picture may have replaced it)."""
    # The page moves its code on each event and paints once a frame: a key repeat may have moved the code
    # since the last picture, so compare once two more frames have passed.
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    z, painted = page.evaluate("""(sel) => {
        const canvas = document.querySelector(sel);
        const rgba = canvas.getContext('2d').getImageData(0, 0, 28, 28).data;
        return [window.llLive.z, Array.from({length: 784}, (_, k) => rgba[4 * k])];
    }""", LIVE_CANVAS)
    with torch.no_grad():
        expected = (vae.decode(torch.tensor([z])).reshape(784) * 255).round().numpy()
    assert np.abs(np.array(painted) - expected).max() <= 2
    if shown:
        assert page.locator(LIVE_CANVAS).is_visible()
    return z


def test_a_drag_is_decoded_and_read_in_the_page_with_no_server_request(page, torch_models):
    vae, rnn = torch_models
    in_page_ready(page)
    calls = server_calls(page)
    before = paints(page)
    press_and_drag(page, 0, 0.85)
    wait_for_paint(page, before)
    wait_until(page, "() => document.querySelector('#ll-probs').dataset.live === '1'", "the RNN's bars to be the page's own",
               last="() => document.querySelector('#ll-probs').dataset.live")
    # Still dragging: the picture and the RNN's bars are the page's own, and the server heard nothing.
    wait_until(page, "() => window.llLive.z.some((v) => v > 1)", "the drag to take a dimension past 1", last=LIVE_STATE)
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
    wait_for_server_picture(page, src)
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
    wait_until(page, "(d) => window.llLive.z[d] > 0", "the held arrow key to move the first slider's dimension up",
               arg=order[0], last=LIVE_STATE)
    assert paints(page) > before
    assert page.locator(LIVE_CANVAS).is_visible()
    page.keyboard.up("ArrowRight")  # the release goes to the server, whose picture may replace the live one
    check_canvas_is_the_decoders_picture(page, vae, shown=False)
    before = paints(page)
    page.locator("#ll-z2 input[type=number]").fill("-1.5")  # typed, Enter not pressed yet
    wait_until(page, "(d) => window.llLive.z[d] === -1.5", "the typed -1.5 to be painted", arg=order[2], last=LIVE_STATE)
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
    hold = hold_server_events(page)
    with sends_an_event(page):  # the page's release of a slider
        page.click("#ll-random")
    wait_for_paint(page, before)
    z = check_canvas_is_the_decoders_picture(page, vae)  # painted by the page before the server answers
    assert sum(abs(v) > 0 for v in z) > 10
    let_go(page, hold)
    wait_for_server_picture(page, src)
    # The server's full view is of the page's code, rounded to the sliders' two decimals (a draw of the
    # server's own would not be).
    assert np.allclose(frame_z(page), z, atol=1e-4)
    assert all(abs(v * 100 - round(v * 100)) < 1e-3 for v in frame_z(page))
    wait_until(page, "() => window.location.search.includes('z=')", "the address bar to carry the code",
               last="() => location.search")

    before, src = paints(page), digit_src(page)
    hold = hold_server_events(page)
    with sends_an_event(page):
        page.click("#ll-reset")
    wait_for_paint(page, before)
    assert check_canvas_is_the_decoders_picture(page, vae) == [0.0] * len(z)
    let_go(page, hold)
    wait_for_server_picture(page, src)
    wait_until(page, "() => !window.location.search.includes('z=')", "the address bar to drop the code (the origin's link)",
               last="() => location.search")
    assert frame_z(page) == [0.0] * len(z)
    no_error_toast(page)


def test_a_code_only_the_server_knows_is_painted_when_it_arrives(page, torch_models, request):
    vae, _ = torch_models
    in_page_ready(page)
    before, src = paints(page), digit_src(page)
    upload(page, request.getfixturevalue("digit_png")[0])  # encoded on the server: the page learns the code from it
    wait_for_server_picture(page, src)
    wait_for_paint(page, before)
    wait_until(page, "() => window.llLive.z.some((v) => v !== 0)", "the upload's code to be painted", last=LIVE_STATE)
    z = check_canvas_is_the_decoders_picture(page, vae)
    assert np.allclose(z, np.clip(frame_z(page), -3, 3), atol=0.0051)  # the server's code, to the sliders' decimals
    no_error_toast(page)


@pytest.mark.extended  # test_browser_inpage.py checks each model's weights come once
def test_switching_models_loads_each_model_once(page):
    in_page_ready(page)
    weights = []
    page.on("request", lambda r: weights.append(r.url) if "/latent-lab/weights/" in r.url else None)
    choose(page, "ll-model", "vae-fashion")
    for model in ("vae-fashion", "vae-mnist", "vae-fashion"):
        choose(page, "ll-model", model)
        wait_until(page, "(model) => window.llLive.key.startsWith(model + '|') && window.llLive.models",
                   f"the page to run {model} itself", arg=model, last=LIVE_STATE)
    assert len(weights) == len(set(weights)) <= 1  # fashion once; digits came with the page
    names = page.evaluate("() => window.llLive.models.info.class_names")
    assert names[0] == "T-shirt/top" or len(names) == 10


def test_without_the_in_page_models_the_server_draws_the_drag(browser, live_app):
    context = open_context(browser, viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        # The in-page models only (their script and files); the page scripts' Gradio helpers stay.
        for pattern in ("**/latent-lab/static/latent_lab.js", "**/latent-lab/models/**", "**/latent-lab/weights/**"):
            page.route(pattern, lambda route: route.abort())
        calls = server_calls(page)
        page.goto(live_app)
        loaded(page)
        wait_until(page, "() => window.llExploreReady", "the explorer's script to be ready",
                   last="() => window.llExploreReady")
        before = digit_src(page)
        press_and_drag(page, 0, 0.9)
        wait_for_server_picture(page, before)  # the server's picture, while the mouse is down
        page.mouse.up()
        assert calls
        assert page.evaluate("() => window.llLive.models") is None
        assert page.locator(LIVE_CANVAS).is_hidden()
        no_error_toast(page)
    finally:
        context.close()


@pytest.fixture(scope="module")
def views():
    from genmodels.registry import ModelRegistry
    from ui.explore.models import ViewCache
    return ViewCache(ModelRegistry(CHECKPOINTS, device="cpu"))


def click_map(page, px: float, py: float):
    """Click pixel (px, py) of the latent map's picture, wherever the page shows it and at whatever scale."""
    page.locator("#ll-map img").scroll_into_view_if_needed()
    x, y = page.evaluate("""([px, py]) => {
        const img = document.querySelector('#ll-map img'), box = img.getBoundingClientRect();
        const s = Math.min(box.width / img.naturalWidth, box.height / img.naturalHeight, 1);
        return [box.left + (box.width - img.naturalWidth * s) / 2 + px * s,
                box.top + (box.height - img.naturalHeight * s) / 2 + py * s];
    }""", [float(px), float(py)])
    page.mouse.click(x, y)


def empty_map_pixel(view) -> tuple[int, int]:
    """Return a pixel inside the plot further than the snap distance from every dot (with room for rounding)."""
    left, top, right, bottom = view.map.plot_box
    for px in range(left, right):
        for py in range(top, bottom):
            if view.map.nearest_point(px, py)[1] > SNAP_PIXELS + 3:
                return px, py
    raise AssertionError("the map has no empty space")


def test_the_pages_codes_for_centroids_and_map_pixels_are_the_servers(page, views):
    view = views.get("vae-mnist")
    in_page_ready(page)
    rng = np.random.default_rng(0)
    pixels = [tuple(p) for p in view.map.pixels[rng.choice(len(view.map.pixels), 20)].round() + rng.integers(-6, 7, (20, 2))]
    pixels += [tuple(p) for p in rng.uniform(0, 420, (30, 2)).round()]
    got = page.evaluate("""(pixels) => pixels.map(([x, y]) => {
        const [z, onDot] = window.llLive.models.codeAtMapPixel(x, y); return [Array.from(z), onDot];
    })""", [[float(x), float(y)] for x, y in pixels])
    dots = 0
    for (px, py), (z, on_dot) in zip(pixels, got):
        expected, how = view.code_at_map_pixel(px, py)
        assert on_dot == (how.key == "explore.map_real")
        assert np.allclose(z, expected, atol=1e-4), (px, py)
        dots += on_dot
    assert 0 < dots < len(pixels)  # both kinds of click were tried
    centroids = page.evaluate("() => [...Array(11).keys()].map((k) => { const c = window.llLive.models.centroid(k); "
                              "return c && Array.from(c); })")
    assert np.allclose(centroids[:10], view.centroids.numpy(), atol=1e-6)
    assert centroids[10] is None


def test_a_centroid_and_a_map_click_paint_in_the_page_before_the_server_answers(page, torch_models, views):
    vae, rnn = torch_models
    view = views.get("vae-mnist")
    in_page_ready(page)
    dot = 17
    for click, expected, caption in [
            (lambda: page.click("#ll-centroid-3"), view.centroid(3), None),
            (lambda: click_map(page, *view.map.pixels[dot]), view.map_z[dot].numpy(), "real encoded"),
            (lambda: click_map(page, *empty_map_pixel(view)), None, "map's plane")]:
        hold = hold_server_events(page)
        before, src = paints(page), digit_src(page)
        with sends_an_event(page):  # the click is also on its way to the server
            click()
        wait_for_paint(page, before)
        z = check_canvas_is_the_decoders_picture(page, vae)  # while the server has not heard of the click
        target = page.evaluate("() => window.llLive.target")
        if expected is not None:
            assert np.allclose(target, expected, atol=1e-5)
        assert np.allclose(z, np.clip(target, -3, 3), atol=0.0051)  # rounded to the sliders' decimals
        with torch.no_grad():  # the RNN's bars follow too, though gradio marks the readout as pending
            reading = rnn.read_rows(vae.decode(torch.tensor([z])).reshape(1, 28, 28))[0, -1].numpy()
        wait_until(page, "(top) => (document.querySelector('#ll-probs .container.ll-live .output-class')"
                   " || {}).textContent === top", f"the page's own bars to read {int(reading.argmax())}",
                   arg=str(int(reading.argmax())), last=text_at("#ll-probs .container.ll-live .output-class"))
        before = paints(page)
        let_go(page, hold)
        wait_for_server_picture(page, src)
        assert np.allclose(frame_z(page), target, atol=1e-4)  # the server chose the same code
        wait_for_paint(page, before)  # the page paints the server's answer: the very code it showed
        assert page.evaluate("() => window.llLive.z") == z
        if caption:
            wait_until(page, "(text) => document.querySelector('#ll-caption').innerText.includes(text)",
                       f"the caption to mention {caption!r}", arg=caption, last=text_at("#ll-caption"))
    no_error_toast(page)


def test_an_opened_link_is_painted_in_the_page_before_the_server_answers(browser, live_app, views):
    context = open_context(browser, viewport={"width": 1400, "height": 1000})
    try:
        for model, z in [("vae-mnist", [1.5, -2.0, 4.0] + [0.0] * 17), ("vae-fashion", [0.0] * 19 + [-2.5])]:
            page = context.new_page()
            hold = hold_server_events(page)
            page.goto(f"{live_app}/?model={model}&z=" + ",".join(map(str, z)))
            wait_until(page, "() => window.llLive && window.llLive.z && window.llLive.z.some((v) => v !== 0)",
                       f"the page to paint the link's code on {model}", last=LIVE_STATE)
            assert page.evaluate("() => window.llLive.key").startswith(f"{model}|")
            painted = check_canvas_is_the_decoders_picture(page, views.get(model).vae)
            expected = np.clip(z, -3, 3)  # 4.0 is beyond the sliders: clipped, as the server does
            assert np.allclose(painted, expected, atol=1e-6)
            page.evaluate("() => { document.querySelector('#ll-digit-box .ll-digit-frame').dataset.painted = '1'; }")
            let_go(page, hold)
            wait_until(page, "() => !document.querySelector('#ll-digit-box .ll-digit-frame').dataset.painted",
                       "the server's answer to replace the page's painted frame",
                       last="() => document.querySelector('#ll-digit-box .ll-digit-frame').dataset.painted")
            if max(map(abs, z)) > 3:
                wait_shown(page.get_by_text("clipped").first, "the server's warning that the link's code was clipped")
            wait_until(page, "(z) => { const f = document.querySelector('#ll-digit-box .ll-digit-frame');"
                       " return f.dataset.z.split(',').map(Number).every((v, k) => Math.abs(v - z[k]) < 1e-6); }",
                       "the server's frame to show the link's code, clipped", arg=expected.tolist(),
                       last="() => document.querySelector('#ll-digit-box .ll-digit-frame').dataset.z")
            page.close()
    finally:
        context.close()
