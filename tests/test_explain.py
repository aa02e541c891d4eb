"""How the VAE sees a digit: VAE.explain against the closed-form KL and VAE.loss, the explorer's
panel parts built from it, and the /explain endpoint, including hostile calls, against the live app.

The reconstruction term is an expectation over eps; VAE.explain estimates it with a fixed number of
draws (EXPLAIN_SAMPLES) from a generator the caller seeds, and the explorer and /explain always seed
draw 0 (actions.EXPLAIN_DRAW), so the same image gets the same figures. With one draw and the
generator seeded as torch's global one, VAE.explain makes VAE.loss's own draw: that is how the two are
compared figure for figure.
"""

import html
import io
import json
import math
import re
import uuid

import httpx
import numpy as np
import pytest
import torch
from gradio_client import Client, handle_file
from hostile import ServerLog, api_call, error_sentence, file_data, leaks, upload
from PIL import Image

import i18n
from genmodels import VAE, VAEConfig
from genmodels.registry import ModelRegistry
from genmodels.vae import EXPLAIN_SAMPLES
from ui.explore import actions, explain
from ui.explore.models import SLIDER_LIMIT, ViewCache
from ui.limits import MAX_BODY_BYTES


@pytest.fixture(scope="module")
def vae():
    return ModelRegistry(device="cpu").load("vae-mnist")


@pytest.fixture(scope="module")
def view():
    return ViewCache(ModelRegistry(device="cpu")).get("vae-mnist")


@pytest.fixture(scope="module")
def images(digits):
    return digits.val_x[:6].float() / 255


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------ genmodels: VAE.explain
def test_kl_is_the_closed_form_per_dimension_and_sums_to_kl(vae, images):
    e = vae.explain(images, generator=seeded(0))
    mu, sigma = e.mu.double(), e.sigma.double()
    by_hand = 0.5 * (mu ** 2 + sigma ** 2 - 1 - torch.log(sigma ** 2))  # KL(N(mu, sigma^2) || N(0, 1))
    assert torch.allclose(e.kl_per_dim.double(), by_hand, atol=1e-4)
    assert torch.allclose(e.kl, e.kl_per_dim.sum(1))
    assert torch.allclose(e.sigma, torch.exp(0.5 * e.logvar))
    mu_again, logvar_again = vae.encode(images)
    assert torch.equal(e.mu, mu_again) and torch.equal(e.logvar, logvar_again)


def test_nelbo_is_reconstruction_plus_kl_and_reconstruction_the_mean_over_the_draws(vae, images):
    e = vae.explain(images, generator=seeded(1))
    assert e.eps.shape == (EXPLAIN_SAMPLES, len(images), vae.config.latent_dim)
    assert torch.allclose(e.nelbo, e.reconstruction + e.kl)
    assert torch.allclose(e.reconstruction, e.sample_nll.mean(0))
    assert torch.allclose(e.z, e.mu + e.sigma * e.eps)
    flat = e.z.reshape(-1, vae.config.latent_dim)
    assert torch.allclose(e.images.reshape(-1, 1, 28, 28), vae.decode(flat))
    x = images.reshape(1, -1, 784).expand(EXPLAIN_SAMPLES, -1, -1).reshape(-1, 784)
    assert torch.allclose(e.sample_nll.reshape(-1), vae.reconstruction_nll(vae.decode_logits(flat), x), atol=1e-3)


@pytest.mark.parametrize("seed", [0, 7, 123])
def test_one_draw_seeded_like_the_global_generator_is_loss_figure_for_figure(vae, images, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        loss = vae.loss(images)
    e = vae.explain(images, samples=1, generator=seeded(seed))
    assert torch.allclose(e.reconstruction.mean(), loss["recon"], atol=1e-3)
    assert torch.allclose(e.kl.mean(), loss["kl"], atol=1e-4)
    assert torch.allclose(e.nelbo.mean(), loss["nelbo"], atol=1e-3)
    assert torch.allclose(e.kl_per_dim.mean(0), vae.kl_per_dimension(images), atol=1e-5)


def test_the_reconstruction_estimate_converges_to_what_loss_averages(vae, images):
    """Many draws of explain() and many of loss() (the digit repeated) estimate the same expectation."""
    x = images[:1]
    many = vae.explain(x, samples=4000, generator=seeded(3)).reconstruction[0]
    torch.manual_seed(4)
    with torch.no_grad():
        from_loss = vae.loss(x.repeat(4000, 1, 1))["recon"]
    assert abs(float(many - from_loss)) < 0.6  # the draws' spread is ~5 nats: 4000 of each give ~0.1


def test_a_seed_repeats_the_figures_and_another_seed_moves_only_the_estimate(vae, images):
    a, b, c = (vae.explain(images, generator=seeded(s)) for s in (5, 5, 6))
    assert torch.equal(a.reconstruction, b.reconstruction) and torch.equal(a.eps, b.eps)
    assert not torch.equal(a.reconstruction, c.reconstruction)
    assert torch.equal(a.kl, c.kl)  # the KL is exact: no draw in it


def test_a_gaussian_model_agrees_with_its_loss_too(images):
    torch.manual_seed(0)
    model = VAE(VAEConfig(likelihood="gaussian", hidden_size=16, latent_dim=3)).eval()
    torch.manual_seed(2)
    with torch.no_grad():
        loss = model.loss(images)
    e = model.explain(images, samples=1, generator=seeded(2))
    assert torch.allclose(e.nelbo.mean(), loss["nelbo"], atol=1e-3)
    assert torch.allclose(e.reconstruction.mean(), loss["recon"], atol=1e-3)


@pytest.mark.parametrize("samples", [0, -1, 2.5, True, "16"])
def test_a_bad_number_of_draws_is_one_sentence(vae, images, samples):
    with pytest.raises(ValueError, match="samples must be a whole number"):
        vae.explain(images, samples=samples)


# ------------------------------------------------------------------ the explorer's actions and panel
def test_explain_digit_uses_the_fixed_draw_and_the_api_value_is_its_figures(view, images):
    digit = images[0].numpy()
    e = actions.explain_digit(view, digit)
    again = view.vae.explain(torch.as_tensor(digit).reshape(1, 1, 28, 28), EXPLAIN_SAMPLES,
                             seeded(actions.EXPLAIN_DRAW))
    assert torch.equal(e.nelbo, again.nelbo) and torch.equal(e.mu, again.mu)
    value = actions.explanation_value(e)
    assert set(value) == {"mu", "sigma", "kl_per_dim", "kl", "reconstruction", "nelbo", "samples"}
    assert len(value["mu"]) == len(value["sigma"]) == len(value["kl_per_dim"]) == view.dims
    assert value["mu"] == e.mu[0].tolist() and value["kl"] == float(e.kl[0])
    assert math.isclose(value["nelbo"], value["reconstruction"] + value["kl"], rel_tol=1e-6)
    assert math.isclose(sum(value["kl_per_dim"]), value["kl"], rel_tol=1e-5)
    assert value["samples"] == EXPLAIN_SAMPLES
    assert actions.explain_digit(view, digit, 1).reconstruction != e.reconstruction


def test_the_bands_are_mu_plus_minus_sigma_along_each_sliders_range(view, images):
    e = actions.explain_digit(view, images[1].numpy())
    html = explain.dims_html(view, e)
    bands = [tuple(map(float, b.split(","))) for b in re.search(r'data-bands="([^"]+)"', html).group(1).split(";")]
    assert len(bands) == view.shown_slots
    for (lo, at, hi), d in zip(bands, view.slider_dims()):
        mu, sigma = float(e.mu[0, d]), float(e.sigma[0, d])
        assert lo <= at <= hi and 0 <= lo and hi <= 1
        assert at == pytest.approx(np.clip((mu + SLIDER_LIMIT) / (2 * SLIDER_LIMIT), 0, 1), abs=1e-4)
        assert hi == pytest.approx(np.clip((mu + sigma + SLIDER_LIMIT) / (2 * SLIDER_LIMIT), 0, 1), abs=1e-4)
    assert html.count('class="ll-dim-row"') == view.shown_slots
    assert f"{float(e.kl[0]):.1f} nats" in html


def test_the_panel_parts_show_the_same_figures(view, images):
    digit = images[2].numpy()
    e = actions.explain_digit(view, digit, 3)
    parts = explain.explain_html(view, digit, 3)
    assert set(parts) == {"pipeline", "dims", "sampling", "elbo"}
    recon, kl, nelbo = (f"{float(v[0]):.1f}" for v in (e.reconstruction, e.kl, e.nelbo))
    assert f"{recon}</span> + " in parts["elbo"] and f"{kl}</span> = <b>{nelbo} nats" in parts["elbo"]
    assert parts["pipeline"].count('class="ll-pipe-box') == 7 and 'data-draw="3"' in parts["pipeline"]
    assert f"{EXPLAIN_SAMPLES} codes drawn" in parts["sampling"]
    png = explain.samples_png(e.images[:, 0])
    grid = np.asarray(Image.open(io.BytesIO(png)))
    rows = math.ceil(EXPLAIN_SAMPLES / explain.SAMPLES_PER_ROW)
    assert grid.shape == (rows * 30 + 2, explain.SAMPLES_PER_ROW * 30 + 2)
    first = grid[2:30, 2:30].astype(np.float32) / 255
    assert np.abs(first - e.images[0, 0, 0].numpy()).max() <= 1 / 255 + 1e-6  # the first draw, top left


# ------------------------------------------------------------------ the panel in Chinese
# What may stay in Latin letters inside Chinese text: symbols and names of the field and of the app.
CODE_NAMES = re.compile(r"\b(z\d+|ELBO|KL|ReLU|sigmoid|tanh|log|explain|N|I|q|p|x|z|E|d|sub)\b")


def words_read(html_text: str) -> str:
    """Return what a reader meets in HTML: its text and its text alternatives (alt, aria-label, title)."""
    alternatives = re.findall(r'(?:alt|aria-label|title)="([^"]*)"', html_text)
    return html.unescape(" ".join([re.sub(r"<[^>]+>", " ", html_text), *alternatives]))


def test_the_panel_in_chinese_has_no_english_sentence_left(view, images):
    digit = images[2].numpy()
    with i18n.speaking("zh-CN"):
        parts = explain.explain_html(view, digit, 1)
    english = explain.explain_html(view, digit, 1)
    for name, part in parts.items():
        read = words_read(part)
        latin = re.findall(r"[A-Za-z]", CODE_NAMES.sub(" ", read))
        chinese = re.findall(r"[\u4e00-\u9fff]", read)
        assert len(latin) < 0.05 * (len(latin) + len(chinese)), (name, "".join(latin), read[:300])
        assert not re.search(r"[A-Za-z]{3,}", CODE_NAMES.sub(" ", read)), (name, read)
        # The same figures in both languages: only the words change.
        assert re.findall(r"\d+\.\d+", re.sub(r'src="[^"]*"', "", part)) == \
            re.findall(r"\d+\.\d+", re.sub(r'src="[^"]*"', "", english[name])), name
    assert "证据下界" in parts["elbo"] and "重参数化技巧" in parts["sampling"] and "奈特" in parts["dims"]
    assert "，" in parts["elbo"] and ", " not in re.sub(r"\([^)]*\)|<[^>]+>", "", parts["elbo"])  # full-width commas


def test_a_genmodels_error_speaks_the_language_it_is_shown_in(vae):
    with pytest.raises(ValueError) as caught:
        vae.decode(torch.zeros(3, 5))
    assert str(caught.value) == "Expected latent codes shaped (N, 20), got (3, 5)."
    with i18n.speaking("zh-CN"):
        assert str(caught.value) == "隐编码的形状应为 (N, 20)，收到的是 (3, 5)。"
    with i18n.speaking("zh-CN"), pytest.raises(ValueError, match="必须是不小于 1 的整数"):
        vae.explain(torch.zeros(1, 1, 28, 28), samples=0)


# ------------------------------------------------------------------ /explain in the live app
@pytest.fixture(scope="module")
def client(live_app):
    return Client(live_app, verbose=False)


@pytest.fixture(scope="module")
def digit_file(tmp_path_factory, digits):
    a = digits.val_x[0].numpy()
    path = tmp_path_factory.mktemp("explain") / "digit.png"
    Image.fromarray(255 - a).resize((280, 280), Image.Resampling.BILINEAR).save(path)
    return path


def test_explain_is_listed_and_answers_what_genmodels_computes(client, digit_file, view):
    assert "/explain" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    value = client.predict(handle_file(str(digit_file)), "vae-mnist", api_name="/explain")
    expected = actions.explanation_value(actions.explain_digit(view, actions.image_to_digit(str(digit_file))))
    assert set(value) == set(expected)
    for key in ("mu", "sigma", "kl_per_dim"):
        assert np.allclose(value[key], expected[key], atol=1e-5)
    for key in ("kl", "reconstruction", "nelbo"):
        assert value[key] == pytest.approx(expected[key], abs=1e-3)
    assert value["nelbo"] == pytest.approx(value["reconstruction"] + value["kl"], rel=1e-6)
    assert client.predict(handle_file(str(digit_file)), "vae-mnist", api_name="/explain") == value  # repeatable


def test_explain_follows_the_model_and_its_latent_size(client, digit_file, latent8_run):
    small = client.predict(handle_file(str(digit_file)), latent8_run, api_name="/explain")
    assert len(small["mu"]) == len(small["sigma"]) == len(small["kl_per_dim"]) == 8
    fashion = client.predict(handle_file(str(digit_file)), "vae-fashion", api_name="/explain")
    assert len(fashion["mu"]) == 20 and fashion["nelbo"] > 0


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    (folder / "notes.png").write_text("this is not an image")
    Image.new("RGB", (200, 200), "white").save(folder / "blank.png")
    (folder / "empty.png").write_bytes(b"")
    return folder


@pytest.mark.parametrize("name, message", [("notes.png", "not an image"), ("blank.png", "blank"),
                                           ("empty.png", "empty")])
def test_a_bad_file_is_one_sentence(client, bad_files, name, message):
    with pytest.raises(Exception, match=message):
        client.predict(handle_file(str(bad_files / name)), "vae-mnist", api_name="/explain")


@pytest.fixture
def server_log(capfd):
    capfd.readouterr()
    with ServerLog() as records:
        yield lambda: records.tracebacks() + (["stderr"] if "Traceback" in capfd.readouterr().err else [])


def _good_upload(live_app, digit_file) -> dict:
    status, path = upload(live_app, "digit.png", digit_file.read_bytes())
    assert status == 200
    return file_data(path)


HUGE = json.dumps("x" * (MAX_BODY_BYTES // 2))  # large, within the body bound (test_request_bounds.py)


@pytest.mark.parametrize("raw, message", [
    ("[]", "needs a value for image"),
    ('[5, "vae-mnist"]', "uploaded file"),
    ('["/etc/passwd", "vae-mnist"]', "uploaded file"),
    ('[{"path": "/etc/passwd"}, "vae-mnist"]', "uploaded file"),
    (json.dumps([file_data("/etc/passwd"), "vae-mnist"]), "uploaded to this"),
    ('[null, "vae-mnist"]', "uploaded file"),
    ('[NaN, "vae-mnist"]', "uploaded file"),
    ('[[1, 2], "vae-mnist"]', "uploaded file"),
    (f'[{HUGE}, "vae-mnist"]', "uploaded file"),
    ("GOOD, 5", "model must be"),
    ('GOOD, ["vae-mnist"]', "model must be"),
    (f"GOOD, {HUGE}", "Unknown model"),  # the name is cut short in the sentence
    ('GOOD, "no-such-model"', "Unknown model"),
    ('GOOD, "rnn-mnist"', "needs a VAE"),
    ('GOOD, "../../etc/passwd"', "Unknown model"),
])
def test_a_hostile_call_gets_one_sentence_and_no_traceback(live_app, runs_dir, digit_file, server_log, raw, message):
    if raw.startswith("GOOD"):
        raw = "[" + json.dumps(_good_upload(live_app, digit_file)) + raw[len("GOOD"):] + "]"
    event, data = api_call(live_app, "explain", raw)
    sentence = error_sentence(event, data)
    assert message in sentence, sentence
    assert not leaks(sentence, runs_dir), sentence
    assert not server_log()


def test_the_model_defaults_to_the_digits_vae_over_plain_http(live_app, digit_file, client):
    event, data = api_call(live_app, "explain", "[" + json.dumps(_good_upload(live_app, digit_file)) + "]")
    assert event == "complete", data
    assert data[0] == client.predict(handle_file(str(digit_file)), "vae-mnist", api_name="/explain")


def page_event_in(url: str, elem_id: str, trigger: str, language: str) -> list:
    """Call the page event `trigger` of the component `elem_id` through gradio's queue, as the page of a visitor
    speaking `language` does (its Accept-Language header), with the session's own values; return its outputs."""
    config = httpx.get(f"{url}/config", timeout=60).json()
    target = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id)
    fn_index, dependency = next((i, d) for i, d in enumerate(config["dependencies"])
                                if [target, trigger] in [list(t) for t in d["targets"]])
    session = uuid.uuid4().hex[:10]
    body = {"data": [None] * len(dependency["inputs"]), "fn_index": fn_index, "session_hash": session,
            "event_data": None, "trigger_id": target}
    with httpx.Client(base_url=url, timeout=120, headers={"Accept-Language": language}) as client:
        assert client.post("/gradio_api/queue/join", json=body).status_code == 200
        stream = client.get("/gradio_api/queue/data", params={"session_hash": session}).text
    ends = [json.loads(line[5:]) for line in stream.splitlines() if line.startswith("data:") and "process_completed" in line]
    assert ends and ends[-1].get("success"), stream[-300:]
    return ends[-1]["output"]["data"]


def test_a_new_draw_over_http_answers_in_the_callers_language(live_app):
    """The panel's parts are computed per call: a zh-CN caller gets them in Chinese, an English one in English."""
    chinese, english = (" ".join(str(v) for v in page_event_in(live_app, "ll-explain-eps", "click", language))
                        for language in ("zh-CN", "en"))
    assert i18n.text("explain.sampling.trick", "zh-CN") in chinese and "奈特" in chinese and " nats" not in chinese
    assert "reparameterization trick" in english and "奈特" not in english
