"""The page's decoder and reader (ui/static/latent_lab.js) give PyTorch's numbers for every kind of model a page may get.

Tiny random models, built from genmodels' own configs with PyTorch's random init: a VAE for each
likelihood (`bernoulli`, `gaussian`) and a RowRNN for each cell (`rnn`, `gru`, `lstm`) with one and
with three stacked layers (RowRNNConfig allows 1 to 8), reading a number of classes other than ten,
all with dropout (which the served models, in eval mode, and the page leave out).
They are saved as checkpoint folders, found by the real ModelRegistry and ViewCache, served by the
real InPageModels routes (weights_file) and run by the real script in headless Chromium; every
pixel and every probability is compared with PyTorch's.

Tolerances:
- Reader: its weights travel as float32, bit for bit what PyTorch uses, so the two differ only by
  rounding in the arithmetic (the page sums in float64 and stores float32, PyTorch works in
  float32). READER_TOLERANCE states the bound; the measured errors are 1e-7-ish.
- Decoder: its weights travel as float16, so the page runs a slightly different model. The bound is
  derived per pixel from the model, the code and the weights actually sent (`decoder_bound`):
  forward error analysis of fc3 -> relu -> fc4 -> output function, each weight's float16 rounding
  error exactly as sent, float32 dot-product rounding per Higham's gamma_n for both sides, and the
  output function's largest slope around the logit. With ReLU 1-Lipschitz the bound is rigorous to
  first order. The same bound with no weight error (PyTorch run on the float16 weights as sent)
  checks the page's arithmetic alone, a thousand times tighter.
test-artifacts/inpage_parity.md gets the matrix of largest errors.
"""

import threading

import numpy as np
import pytest
import torch
import uvicorn
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from browser_waits import wait_until
from conftest import free_port, open_context
from hostile import wait_for
from genmodels import VAE, RowRNN, RowRNNConfig, VAEConfig, latent
from genmodels.checkpoints import LATENT_FILE
from genmodels.images import IMAGE_PIXELS, IMAGE_SIDE
from genmodels.registry import ModelRegistry
from genmodels.rnn import CELLS
from genmodels.vae import LIKELIHOODS
from ui.explore.models import ViewCache
from ui.inpage import SCRIPT_URL, InPageModels

pytestmark = pytest.mark.browser

CLASSES = ["north", "east", "south", "west"]  # four: nothing in the page may assume ten
LAYERS = (1, 3)
CASES = [(likelihood, cell, layers) for likelihood in LIKELIHOODS for cell in CELLS for layers in LAYERS]
CODES = 48
READER_TOLERANCE = 1e-5  # absolute, on each probability after each row
U32 = 2.0 ** -24  # float32 unit roundoff (round to nearest)
U64 = 2.0 ** -53
# PyTorch's float32 sigmoid and tanh are accurate to a few units in the last place; outputs are <= 1,
# so a few U32 absolute (8 here) covers them and the page's own rounding of the result to float32.
OUTPUT_ROUNDING = 8 * U32

RESULTS: dict[tuple, dict] = {}


def vae_name(likelihood: str) -> str:
    return f"vae-{likelihood}"


def rnn_name(cell: str, layers: int) -> str:
    return f"rnn-{cell}-{layers}"


@pytest.fixture(scope="module")
def random_models(tmp_path_factory):
    """Checkpoint folders of tiny random VAEs and RowRNNs; returns {name: model} as PyTorch holds it."""
    folder = tmp_path_factory.mktemp("parity-checkpoints")
    metadata = {"dataset": "random-parity", "class_names": CLASSES}
    models = {}
    generator = torch.Generator().manual_seed(20)
    for k, likelihood in enumerate(LIKELIHOODS):
        torch.manual_seed(100 + k)
        vae = VAE(VAEConfig(latent_dim=5, hidden_size=24, likelihood=likelihood, dropout=0.3)).eval()
        images = torch.rand(80, 1, IMAGE_SIDE, IMAGE_SIDE, generator=generator)
        labels = torch.arange(80) % len(CLASSES)
        analysis = latent.analyze(vae, images, labels, num_classes=len(CLASSES))
        vae.save_pretrained(folder / vae_name(likelihood), metadata=metadata, extra_files={LATENT_FILE: analysis})
        models[vae_name(likelihood)] = vae
    for k, (cell, layers) in enumerate((cell, layers) for cell in CELLS for layers in LAYERS):
        torch.manual_seed(200 + k)
        rnn = RowRNN(RowRNNConfig(cell=cell, hidden_size=12, num_layers=layers, dropout=0.3,
                                  num_classes=len(CLASSES))).eval()
        rnn.save_pretrained(folder / rnn_name(cell, layers), metadata=metadata)
        models[rnn_name(cell, layers)] = rnn
    return folder, models


@pytest.fixture(scope="module")
def parity_server(random_models):
    """The real InPageModels routes over those checkpoints (and a blank page with the script), on a free port."""
    folder, _ = random_models
    inpage = InPageModels(ViewCache(ModelRegistry(folder, device="cpu")))
    blank = f'<!doctype html><html><head><script src="{SCRIPT_URL}"></script></head><body></body></html>'
    app = Starlette(routes=[Route("/", lambda request: HTMLResponse(blank)), *inpage.routes()])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, "uvicorn to bind its socket for the parity page", interval_s=0.01,
             last=lambda: "its thread is running" if thread.is_alive() else "its thread has ended")
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=60)


@pytest.fixture(scope="module")
def parity_page(browser, parity_server):
    """One page on the blank document with latent_lab.js loaded."""
    context = open_context(browser)
    page = context.new_page()
    page.goto(parity_server + "/")
    wait_until(page, "() => window.LatentLab !== undefined", "the page's script latent_lab.js to load",
               last="() => typeof window.LatentLab")
    yield page
    context.close()


@pytest.fixture(scope="module", autouse=True)
def parity_report(artifacts):
    """Write the matrix of largest errors once every case has run."""
    yield
    if not RESULTS:
        return
    lines = ["| likelihood | cell | layers | decoder max err | largest bound | most of a bound used | "
             "decoder vs the float16 weights run by PyTorch | reader max err | reader vs float64 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (likelihood, cell, layers), r in sorted(RESULTS.items()):
        lines.append(f"| {likelihood} | {cell} | {layers} | {r['decoder']:.2e} | {r['bound']:.2e} | {r['used']:.0%} | "
                     f"{r['decoder_sent']:.2e} | {r['reader']:.2e} | {r['reader64']:.2e} |")
    (artifacts / "inpage_parity.md").write_text("\n".join(lines) + "\n")


def affine_bound(weight, bias, sent_weight, sent_bias, x, error_x):
    """Return a bound (per output) on |the page's sent_weight @ x' + sent_bias - PyTorch's float32 weight @ x + bias|,
    where x is PyTorch's input and the page's differs from it by at most error_x (all numpy float64)."""
    n = weight.shape[1] + 1  # terms per dot product, the bias included
    gamma = n * U32 / (1 - n * U32) + n * U64  # PyTorch's float32 sum (Higham 3.5) and the page's float64 one
    size = np.maximum(abs(weight), abs(sent_weight)) @ (abs(x) + error_x) + np.maximum(abs(bias), abs(sent_bias))
    return (abs(sent_weight - weight) @ abs(x) + abs(sent_bias - bias) + abs(sent_weight) @ error_x
            + (gamma + U32) * size)  # + U32: the page stores each sum as float32


def steepest(slope, at, error):
    """Return the largest value of an even slope decreasing in |t| (sigmoid', tanh') over [at - error, at + error]."""
    return slope(np.maximum(0.0, abs(at) - error))


def decoder_bound(vae: VAE, sent: dict, z: np.ndarray) -> np.ndarray:
    """Return, per pixel (N, 784), how far the page's decoded pixel may lie from PyTorch's vae.decode(z)
    when the page runs the decoder weights `sent` (what the weights file holds, as float64)."""
    w = {name: t.double().numpy() for name, t in vae.state_dict().items()}
    bounds = []
    with torch.no_grad():
        for code in z.astype(np.float64):
            hidden = torch.relu(vae.fc3(torch.as_tensor(code, dtype=torch.float32))).double().numpy()
            logits = vae.fc4(torch.as_tensor(hidden, dtype=torch.float32)).double().numpy()
            error_hidden = affine_bound(w["fc3.weight"], w["fc3.bias"], sent["fc3.weight"], sent["fc3.bias"],
                                        code, np.zeros_like(code))  # relu is 1-Lipschitz: the same bound after it
            error_logits = affine_bound(w["fc4.weight"], w["fc4.bias"], sent["fc4.weight"], sent["fc4.bias"],
                                        hidden, error_hidden)
            if vae.config.likelihood == "gaussian":  # pixel = (tanh(a) + 1) / 2
                slope = 0.5 * steepest(lambda t: 1 - np.tanh(t) ** 2, logits, error_logits)
            else:  # pixel = sigmoid(a)
                slope = steepest(lambda t: 1 / (2 + np.exp(t) + np.exp(-t)), logits, error_logits)
            bounds.append(slope * error_logits + OUTPUT_ROUNDING)
    return np.stack(bounds)


def test_the_weights_file_says_how_to_run_the_models(parity_page, random_models):
    """The metadata the page runs by: what each config says, and the picture's side from genmodels."""
    _, models = random_models
    for likelihood, cell, layers in [("gaussian", "lstm", 3), ("bernoulli", "gru", 1)]:
        meta = parity_page.evaluate("""async ([vae, rnn]) => {
            const m = await LatentLab.load(vae, rnn);
            return {likelihood: m.likelihood, cell: m.cell, layers: m.layers, hidden: m.hidden, side: m.side,
                    latentDim: m.latentDim, classes: m.info.class_names};
        }""", [vae_name(likelihood), rnn_name(cell, layers)])
        rnn = models[rnn_name(cell, layers)]
        assert meta == {"likelihood": likelihood, "cell": cell, "layers": layers, "hidden": rnn.config.hidden_size,
                        "side": IMAGE_SIDE, "latentDim": models[vae_name(likelihood)].config.latent_dim,
                        "classes": CLASSES}


@pytest.mark.parametrize("likelihood,cell,layers", CASES)
def test_page_decodes_and_reads_as_pytorch(parity_page, random_models, likelihood, cell, layers):
    _, models = random_models
    vae, rnn = models[vae_name(likelihood)], models[rnn_name(cell, layers)]
    generator = torch.Generator().manual_seed(7)
    z = torch.randn(CODES, vae.config.latent_dim, generator=generator) * 1.5
    z[:2] = torch.tensor([3.0, -3.0]).repeat_interleave(vae.config.latent_dim).reshape(2, -1)  # the sliders' ends
    # What the reader reads: uniform noise, the page's own decoded pictures, and saturated black/white.
    noise = torch.rand(16, IMAGE_PIXELS, generator=generator)
    saturated = (torch.rand(8, IMAGE_PIXELS, generator=generator) > 0.5).float()
    got = parity_page.evaluate("""async ([vae, rnn, zs, images]) => {
        const m = await LatentLab.load(vae, rnn);
        const decoded = zs.map((z) => m.decode(Float32Array.from(z)));
        const read = [...decoded, ...images.map((x) => Float32Array.from(x))].map((x) => m.readRows(x));
        // The weights as the page holds them (the float16 decoder), to compute the bound from.
        const sent = {};
        for (const name of ["fc3.weight", "fc3.bias", "fc4.weight", "fc4.bias"]) {
          sent[name] = Array.from(m.t[`decoder.${name}`].values);
        }
        return {decoded: decoded.map((x) => Array.from(x)), read, sent};
    }""", [vae_name(likelihood), rnn_name(cell, layers), z.tolist(), torch.cat([noise, saturated]).tolist()])

    # Decoder: against PyTorch's float32 model, within the derived float16 bound, pixel by pixel.
    decoded = np.array(got["decoded"])
    shapes = {name: tuple(t.shape) for name, t in vae.state_dict().items()}
    sent = {name: np.array(values).reshape(shapes[name]) for name, values in got["sent"].items()}
    for name, values in sent.items():  # the page holds exactly PyTorch's weights rounded to float16
        assert np.array_equal(values, vae.state_dict()[name].half().double().numpy()), name
    with torch.no_grad():
        expected = vae.decode(z).reshape(CODES, -1).double().numpy()
    error = abs(decoded - expected)
    bound = decoder_bound(vae, sent, z.numpy())
    worst = np.unravel_index(np.argmax(error - bound), error.shape)
    assert (error <= bound).all(), (f"pixel {worst}: page {decoded[worst]:.7f}, PyTorch {expected[worst]:.7f}, "
                                    f"bound {bound[worst]:.2e}")
    # ... and against PyTorch running the very float16 weights sent: only arithmetic rounding is left.
    as_sent = VAE(vae.config).eval()
    as_sent.load_state_dict(vae.state_dict() | {name: torch.as_tensor(v, dtype=torch.float32)
                                                for name, v in sent.items()})
    with torch.no_grad():
        expected_sent = as_sent.decode(z).reshape(CODES, -1).double().numpy()
    error_sent = abs(decoded - expected_sent)
    assert (error_sent <= decoder_bound(as_sent, sent, z.numpy())).all()

    # Reader: row-by-row probabilities against PyTorch's float32 reader, and its float64 twin.
    images = torch.cat([torch.as_tensor(decoded, dtype=torch.float32), noise, saturated])
    read = np.array(got["read"])
    assert read.shape == (len(images), IMAGE_SIDE, len(CLASSES))
    expected_read = rnn.read_rows(images).double().numpy()
    with torch.no_grad():
        exact = RowRNN(rnn.config).double().eval()
        exact.load_state_dict(rnn.state_dict())
        exact_read = torch.softmax(exact.head(exact.rnn(images.double().reshape(-1, IMAGE_SIDE, IMAGE_SIDE))[0]), -1)
    reader_error = abs(read - expected_read).max()
    reader_error64 = abs(read - exact_read.numpy()).max()
    assert reader_error < READER_TOLERANCE and reader_error64 < READER_TOLERANCE, (reader_error, reader_error64)

    RESULTS[(likelihood, cell, layers)] = {"decoder": error.max(), "bound": bound.max(), "used": (error / bound).max(),
                                           "decoder_sent": error_sent.max(), "reader": reader_error,
                                           "reader64": reader_error64}
