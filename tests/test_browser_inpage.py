"""The page's own decoder and reader (ui/static/latent_lab.js) give PyTorch's pictures and probabilities.

Issue 11's checks: for 50 random z the page's canvas equals the PyTorch decoder's picture within
2/255 on every pixel, for 50 digits the page's RNN probabilities equal PyTorch's within 1e-3, and a
page fetches a model's weights once, from an immutable URL.
"""

import json
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch

from genmodels import VAE, RowRNN

pytestmark = pytest.mark.browser
CHECKPOINTS = "checkpoints"


def in_page(page, script: str, *args):
    """Evaluate `script` (an async function of LatentLab and args) in the page once the script has loaded."""
    page.wait_for_function("() => window.LatentLab !== undefined")
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
