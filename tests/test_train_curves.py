"""The Train tab's picture of a run's curves (ui/train/views.curves_png): matplotlib, the page's series, any title."""

import io

import numpy as np
import pytest
from PIL import Image

from ui.train import views

EPOCHS = [{"epoch": e, "train_nelbo": 200.0 - 10 * e, "val_nelbo": 190.0 - 9 * e, "train_kl": 20.0 + e,
           "val_kl": 21.0 + e, "train_loss": 1.0 / e, "val_loss": 0.9 / e, "train_accuracy": 0.5 + 0.04 * e,
           "val_accuracy": 0.55 + 0.04 * e, "train_nll": 100.0 - e, "val_nll": 98.0 - e} for e in range(1, 8)]
METRICS = {"epochs": EPOCHS, "steps": [{"x": e / 2, "loss": 250.0 - 10 * e} for e in range(1, 15)]}


@pytest.mark.parametrize("model_type, panels", [("vae", 2), ("rnn", 2), ("writer", 1)])
def test_the_picture_has_the_loss_and_the_second_curve_of_its_model(model_type, panels):
    picture = Image.open(io.BytesIO(views.curves_png(model_type, METRICS, "my run")))
    width, height = views.CURVES_PANEL
    assert picture.format == "PNG" and picture.size == (panels * width, height)
    pixels = np.asarray(picture.convert("RGB")).reshape(-1, 3)
    for colour in (views.COLOURS[views.TRAIN], views.COLOURS[views.VALIDATION]):
        rgb = np.array([int(colour[k:k + 2], 16) for k in (1, 3, 5)])
        assert (np.abs(pixels - rgb).max(1) <= 2).sum() > 200  # each epoch series is drawn


def test_no_data_yet_gives_no_picture():
    assert views.curves_png("vae", {"epochs": [], "steps": []}) is None


@pytest.mark.parametrize("title", ["$x^{2", r"\frac{1}{0}", "<b>run</b>", "x" * 500])
def test_a_visitor_title_is_drawn_as_typed(title):
    assert views.curves_png("writer", METRICS, title).startswith(b"\x89PNG")


def test_the_page_draws_the_followed_jobs_curves_or_says_why_not(train_page):
    assert train_page.live.curves_picture.visible is False
    with pytest.raises(ValueError, match="No job followed yet"):
        train_page.on_curves("")
    with pytest.raises(ValueError):
        train_page.on_curves("20250101-000000-0001")  # no such job: the runner's sentence


def test_without_a_cjk_font_the_picture_is_still_drawn(monkeypatch):
    """A machine without the fonts of CURVE_FONTS draws with matplotlib's default (Chinese glyphs then missing),
    never an error; no absent font is named to matplotlib."""
    import warnings

    import i18n

    monkeypatch.setattr(views, "CURVE_FONTS", ("No Such Font Anywhere",))
    assert views.curve_fonts() and "No Such Font Anywhere" not in views.curve_fonts()
    with i18n.speaking("zh-CN"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the missing glyphs
        assert views.curves_png("vae", METRICS, "训练")[:4] == b"\x89PNG"
