"""The explorer's pictures speak the caller's language (ui/explore/render.py): text alternatives from the
catalogue, and Chinese words drawn with real glyphs, by matplotlib (axis titles, legends) and by PIL (the
readout's class names), where the CJK font is installed."""

import warnings

import numpy as np
import pytest
from PIL import Image, ImageDraw

import i18n
from ui.explore import render

CHINESE_CLASSES = ["T恤/上衣", "裤子", "套头衫"]
needs_cjk_font = pytest.mark.skipif(not render.CJK_FONT_FILE.is_file(), reason="Noto Sans CJK is not installed")


def test_text_alternatives_are_in_the_callers_language():
    digit = np.zeros((28, 28))
    with i18n.speaking("zh-CN"):
        assert f'alt="{i18n.text("render.decoded_digit")}"' in render.digit_html(digit)
        assert 'alt="插值动画"' in render.gif_html(b"GIF89a")
        assert 'alt="取值 +1.0"' in render.preview_html(np.zeros((1, 28, 28)), [1.0], "z3")
    assert 'alt="decoded digit"' in render.digit_html(digit) and 'alt="at +1.0"' in render.preview_html(
        np.zeros((1, 28, 28)), [1.0], "z3")


def glyph(label: str) -> np.ndarray:
    picture = Image.new("L", (40, 20), 0)
    ImageDraw.Draw(picture).text((0, 0), label, fill=255, font=render.label_font(14, label))
    return np.asarray(picture)


@needs_cjk_font
def test_pil_labels_draw_chinese_with_glyphs_not_boxes():
    # A font without the glyphs draws every character as the same box: two different characters look alike.
    first, second = glyph("裤"), glyph("衫")
    assert first.any() and second.any() and not np.array_equal(first, second)
    assert render.label_font(14, "3") is render.font(14)  # plain ASCII keeps PIL's own font


@needs_cjk_font
def test_the_map_is_drawn_once_per_language_with_its_words_in_it():
    rng = np.random.default_rng(0)
    names = {"en": ["T-shirt/top", "Trouser", "Pullover"], "zh-CN": CHINESE_CLASSES}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        latent_map = render.LatentMap(rng.normal(size=(30, 2)), np.arange(30) % 3, lambda: names[i18n.language()])
        with i18n.speaking("zh-CN"):
            chinese = np.asarray(latent_map.with_marker(np.zeros(2)).convert("L"))
            figure, axes = latent_map.figure(latent_map.class_names())
            assert axes.get_xlabel() == "第 1 主成分方向"
            assert [t.get_text() for t in figure.legends[0].get_texts()] == CHINESE_CLASSES
            render.figure_image(figure)
    english = np.asarray(latent_map.with_marker(np.zeros(2)).convert("L"))
    assert not [w for w in caught if "missing from font" in str(w.message)], [str(w.message) for w in caught]
    assert chinese.shape == english.shape and not np.array_equal(chinese, english)
    assert latent_map.base is latent_map.base  # drawn once, then kept
