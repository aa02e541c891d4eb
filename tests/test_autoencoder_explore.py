"""The plain autoencoder in the explorer: its view (sliders ordered by code variance, no explanation panel),
the side-by-side prior samples, and ae-mnist selected over the named API and the in-page route."""

import json
import re
import urllib.request

import numpy as np
import pytest
import torch
from gradio_client import Client, handle_file
from PIL import Image

import i18n
from genmodels import latent
from genmodels.data import load_dataset
from genmodels.registry import ModelRegistry
from ui.explore import actions, contrast
from ui.explore.explain import explain_html
from ui.explore.layout import model_choices
from ui.explore.models import ViewCache, explorable_names

AE = "ae-mnist"


@pytest.fixture(scope="module")
def registry():
    return ModelRegistry(device="cpu")


@pytest.fixture(scope="module")
def views(registry):
    return ViewCache(registry)


def test_the_explorer_lists_the_autoencoder_beside_the_vaes(registry):
    names = explorable_names(registry)
    assert AE in names and "vae-mnist" in names and not any(n.startswith(("rnn-", "writer-")) for n in names)
    assert AE in [name for _, name in model_choices(registry)]


def test_its_sliders_are_ordered_by_the_variance_of_its_codes(views, registry):
    view = views.get(AE)
    assert not view.is_vae and view.dims == 20
    variance = latent.load_analysis(view.path)["code_var_per_dim"]
    assert view.order == torch.argsort(variance, descending=True).tolist()
    assert [variance[d] for d in view.slider_dims()] == sorted(variance.tolist(), reverse=True)
    assert "var" in view.slider_label(0) and "KL" not in view.slider_label(0)
    assert "variance" in view.order_note() and "plain autoencoder" in view.describe()
    assert "KL" in views.get("vae-mnist").slider_label(0)


def test_its_view_encodes_with_the_autoencoder_s_own_code(views):
    view = views.get(AE)
    digit = torch.as_tensor(load_dataset("mnist-5k").val_x[:1]).float() / 255
    code = view.encode(digit)
    assert code.shape == (20,)
    assert np.allclose(code, view.vae.encode(digit.reshape(1, 1, 28, 28))[0].numpy())
    assert view.decode(code).shape == (28, 28)


def test_the_explanation_panel_says_in_one_sentence_that_there_is_nothing_to_explain(views):
    view = views.get(AE)
    parts = explain_html(view, view.decode(np.zeros(view.dims, dtype=np.float32)))
    assert parts["pipeline"] == f"<p>{i18n.text('explain.not_a_vae')}</p>"
    assert parts["dims"] == parts["sampling"] == parts["elbo"] == ""
    with i18n.speaking("zh-CN"):
        assert "普通的自编码器" in explain_html(view, np.zeros((28, 28), dtype=np.float32))["pipeline"]
    with pytest.raises(ValueError, match="plain autoencoder"):
        actions.explain_digit(view, np.zeros((28, 28), dtype=np.float32))


def test_prior_samples_go_through_both_decoders_with_the_same_codes(views, registry):
    assert contrast.available(registry)
    ae, vae = contrast.prior_samples(views, 3)
    assert ae.size == vae.size and ae.mode == vae.mode == "L"
    again_ae, again_vae = contrast.prior_samples(views, 3)
    assert np.array_equal(np.asarray(ae), np.asarray(again_ae)) and np.array_equal(np.asarray(vae), np.asarray(again_vae))
    assert not np.array_equal(np.asarray(contrast.prior_samples(views, 4)[0]), np.asarray(ae))


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_the_section_s_words_say_how_many_codes_are_drawn(language):
    for key in ("contrast.why", "contrast.redraw"):
        assert re.findall(r"\d+", i18n.text(key, language).replace("N(0, I)", "")) == [str(contrast.SAMPLES)], key


# -- over the API of the live app --------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(live_app):
    return Client(live_app, verbose=False)


@pytest.fixture(scope="module")
def digit_file(tmp_path_factory):
    """A real validation digit, dark on white at 10x, as PNG."""
    digit = load_dataset("mnist-5k").val_x[0].numpy()
    path = tmp_path_factory.mktemp("ae-digits") / "digit.png"
    Image.fromarray(255 - digit).resize((280, 280), Image.Resampling.BILINEAR).save(path)
    return path


def test_decode_sample_and_reconstruct_select_the_autoencoder(client, registry, digit_file):
    model = registry.load(AE)
    z = [0.3 - 0.03 * k for k in range(20)]
    picture = np.asarray(Image.open(client.predict(z, AE, api_name="/decode")).convert("L"), dtype=np.float32) / 255
    expected = model.decode(torch.tensor([z])).reshape(28, 28).numpy()
    assert np.abs(picture - expected).max() <= 1 / 255 + 1e-6
    code, path = client.predict(AE, 7, api_name="/sample")
    assert len(code) == 20 and Image.open(path).size == (28, 28)
    code, recon, probs = client.predict(handle_file(str(digit_file)), AE, api_name="/reconstruct")
    assert len(code) == 20 and Image.open(recon).size == (28, 28) and probs is not None


def test_explain_on_the_autoencoder_is_one_sentence(client, digit_file):
    with pytest.raises(Exception, match="plain autoencoder"):
        client.predict(handle_file(str(digit_file)), AE, api_name="/explain")


def test_the_page_can_run_the_autoencoder_s_decoder_itself(live_app):
    info = json.load(urllib.request.urlopen(f"{live_app}/latent-lab/models/{AE}"))
    assert info["model"] == AE and info["latent_dim"] == 20
