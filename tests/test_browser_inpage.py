"""The page's own decoder and reader (ui/static/latent_lab.js) give PyTorch's pictures and probabilities.

Checks on the shipped checkpoints: for 50 random z the page's canvas equals the PyTorch
decoder's picture within 2/255 on every pixel, for 50 digits the page's RNN probabilities equal
PyTorch's within 1e-3, and a page fetches a model's weights once, from an immutable URL. The live
readout a drag draws (explore.js) is the server's readout picture, laid out from the numbers the
server sends. Every likelihood, cell and depth on tiny random models: tests/test_inpage_parity.py.
"""

import json
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch
from browser_waits import wait_shown, wait_until

from genmodels import VAE, RowRNN
from genmodels.images import IMAGE_SIDE
from test_browser_explore import loaded, press_and_drag
from ui.explore.render import READOUT_LAYOUT, readout_picture

pytestmark = pytest.mark.browser
CHECKPOINTS = "checkpoints"


def in_page(page, script: str, *args):
    """Evaluate `script` (an async function of LatentLab and args) in the page once the script has loaded."""
    wait_until(page, "() => window.LatentLab !== undefined", "the page's script latent_lab.js to load",
               last="() => typeof window.LatentLab")
    return page.evaluate(f"async (args) => {{ const f = {script}; return await f(window.LatentLab, ...args); }}",
                         list(args))


def test_decoded_canvas_matches_pytorch_within_two_levels(page):
    vae = VAE.from_pretrained(f"{CHECKPOINTS}/vae-mnist", device="cpu")
    z = torch.randn(50, vae.config.latent_dim, generator=torch.Generator().manual_seed(0))
    expected = (vae.decode(z).reshape(50, 784) * 255).round().to(torch.uint8).numpy().astype(int)
    painted = in_page(page, """async (LatentLab, zs) => {
        const m = await LatentLab.load("vae-mnist");
        const canvas = document.createElement("canvas");
        return zs.map((z) => {
          LatentLab.paint(canvas, m.decode(Float32Array.from(z)));
          const rgba = canvas.getContext("2d").getImageData(0, 0, 28, 28).data;
          return Array.from({length: 784}, (_, k) => rgba[4 * k]);
        });
    }""", z.tolist())
    difference = np.abs(np.array(painted) - expected)
    assert difference.max() <= 2, f"largest difference {difference.max()}/255"


def test_row_by_row_probabilities_match_pytorch_within_1e_3(page, digits):
    rnn = RowRNN.from_pretrained(f"{CHECKPOINTS}/rnn-mnist", device="cpu")
    images = digits.val_x[:50].float() / 255
    expected = rnn.read_rows(images).numpy()
    read = in_page(page, """async (LatentLab, images) => {
        const m = await LatentLab.load("vae-mnist", "rnn-mnist");
        return images.map((x) => m.readRows(Float32Array.from(x.flat())));
    }""", images.tolist())
    difference = np.abs(np.array(read) - expected)
    assert difference.max() < 1e-3, f"largest difference {difference.max():.2e}"


def test_weights_come_once_per_model_from_an_immutable_url(page, live_app):
    fetched = []
    page.on("request", lambda request: fetched.append(request.url) if "/latent-lab/weights/" in request.url else None)
    urls = in_page(page, """async (LatentLab) => {
        await LatentLab.load("vae-mnist");
        await LatentLab.load("vae-mnist");          // the same model again: no second download
        await LatentLab.load("vae-fashion");        // another model: its own file
        return LatentLab.fetched();
    }""")
    assert len(urls) == 2 and len(set(urls)) == 2
    assert len(fetched) == len(set(fetched)) <= 2  # the page-load may already have fetched the default one
    with urllib.request.urlopen(live_app + urls[0]) as response:
        assert "immutable" in response.headers["Cache-Control"]
        assert response.headers["Content-Type"] == "application/octet-stream"
    info = json.load(urllib.request.urlopen(f"{live_app}/latent-lab/models/vae-mnist"))
    assert info["weights"] == urls[0] and info["reader"] == "rnn-mnist" and info["latent_dim"] == 20


def test_an_unknown_model_gets_a_sentence_not_a_traceback(live_app):
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{live_app}/latent-lab/models/no-such-model")
    body = json.load(error.value)
    assert error.value.code == 404 and body["error"].startswith("Unknown model")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{live_app}/latent-lab/weights/{'0' * 64}.safetensors")
    assert error.value.code == 404


def test_the_live_readout_is_the_servers_readout_picture(page, artifacts):
    """While a slider is dragged the page draws the RNN's row-by-row picture itself: the same size, digit,
    shading, dots and line as render.readout_picture for the same pixels (only the text's font differs)."""
    rnn = RowRNN.from_pretrained(f"{CHECKPOINTS}/rnn-mnist", device="cpu")
    loaded(page)
    wait_until(page, "() => window.llLive && window.llLive.models !== null && window.llLive.paints > 0",
               "the page to run the shown model itself (its models loaded and a first paint)",
               last="() => window.llLive ? {models: Boolean(window.llLive.models), paints: window.llLive.paints} : 'no llLive'")
    press_and_drag(page, 0, 0.8)
    wait_shown(page.locator("#ll-readout canvas.ll-readout-live"), "the page's own readout while the slider is dragged")
    drawn = page.evaluate("""async () => {
        // After the frame that paints and the reading queued right after it (explore.js readSoon).
        await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
        const canvas = document.querySelector("#ll-readout canvas.ll-readout-live");
        const live = window.llLive;
        return {width: canvas.width, height: canvas.height, layout: live.models.info.readout,
                names: live.models.info.class_names,
                rgb: Array.from(canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data),
                pixels: Array.from(live.models.decode(Float32Array.from(live.z)))};
    }""")
    page.locator("#ll-readout").screenshot(path=artifacts / "readout_live.png")
    page.mouse.up()
    assert drawn["layout"] == READOUT_LAYOUT
    pixels = torch.tensor(drawn["pixels"], dtype=torch.float32).reshape(1, IMAGE_SIDE, IMAGE_SIDE)
    probs = rnn.read_rows(pixels)[0].numpy()
    expected = np.asarray(readout_picture(pixels[0].numpy(), probs, drawn["names"])).astype(int)
    got = np.array(drawn["rgb"]).reshape(drawn["height"], drawn["width"], 4)[..., :3]
    assert got.shape == expected.shape
    row, cell, header = READOUT_LAYOUT["row"], READOUT_LAYOUT["cell"], READOUT_LAYOUT["header"]
    rows = slice(header, header + IMAGE_SIDE * row - 1)  # the digit's rows and the heatmap, above the line
    left = IMAGE_SIDE * row + READOUT_LAYOUT["gap"]
    assert np.array_equal(got[rows, :IMAGE_SIDE * row], expected[rows, :IMAGE_SIDE * row]), "the digit"
    # The heatmap away from the dots (whose edges each library smooths its own way): within one level,
    # as the page's probabilities may cross a rounding step where PyTorch's do not.
    y, x = np.mgrid[rows, left:got.shape[1]]
    centres_y = header + np.arange(IMAGE_SIDE) * row + row // 2 - 1
    centres_x = left + probs.argmax(1) * cell + cell // 2 - 1
    near = (abs(x - centres_x[(y - header) // row]) <= READOUT_LAYOUT["dot"] + 1) & \
           (abs(y - centres_y[(y - header) // row]) <= READOUT_LAYOUT["dot"] + 1)
    difference = abs(got[rows, left:] - expected[rows, left:]).max(-1)
    assert difference[~near].max() <= 1 and (difference[~near] == 0).mean() > 0.99, "the heatmap"
    assert (got[centres_y, centres_x] == 0).all() and (expected[centres_y, centres_x] == 0).all(), "the dots"
    line = header + IMAGE_SIDE * row - 1
    assert np.array_equal(got[line:line + 2], expected[line:line + 2]), "the red line"
