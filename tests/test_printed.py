"""Digits set in type (genmodels.printed) and what they teach the reader: the styles MNIST's writers
rarely used, drawn here as a pen would draw them."""

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFont

import i18n
from genmodels.data import DIGIT_CLASSES
from genmodels.preprocess import prepare_digit
from genmodels.printed import (FOOT, SET_SIZE, TYPEFACES, _set, _with_bar, _with_long_flag, _without_foot, font_folder,
                               mix_in, printed_digits)
from genmodels.registry import ModelRegistry
from genmodels.train import TrainConfig


def test_every_digit_and_the_hand_variants_are_set_in_every_face_and_laid_out_like_mnist():
    images, labels = printed_digits()
    assert images.dtype == torch.uint8 and images.shape == (len(TYPEFACES) * 14, 28, 28)
    assert labels.tolist() == [*range(10), 1, 1, 7, 7] * len(TYPEFACES)
    for image in images.float():
        # MNIST's layout: the digit fits a 20x20 box, its centre of mass at the field's centre.
        rows, cols = np.flatnonzero(image.amax(1) > 0), np.flatnonzero(image.amax(0) > 0)
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 21
        ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
        centre = ((ys + 0.5) * image).sum() / image.sum(), ((xs + 0.5) * image).sum() / image.sum()
        assert abs(centre[0] - 14) < 1 and abs(centre[1] - 14) < 1
        assert image.max() >= 200  # ink, not a grey haze


def test_the_hand_variants_cut_the_foot_of_a_1_lengthen_its_flag_and_cross_a_7():
    font = ImageFont.truetype(str(font_folder() / "DejaVuSans.ttf"), SET_SIZE)
    one, seven = _set("1", font) < 128, _set("7", font) < 128
    footless, barred = _without_foot(_set("1", font)) < 128, _with_bar(_set("7", font), 0.3) < 128
    flagged = _with_long_flag(_without_foot(_set("1", font))) < 128
    rows = np.flatnonzero(one.any(axis=1))
    # The foot's rows keep only the stem; every row above is unchanged.
    assert footless[rows[-1]].sum() < one[rows[-1]].sum() / 2
    top_of_foot = rows[-1] - round(FOOT * (rows[-1] - rows[0]))
    assert (footless[:top_of_foot] == one[:top_of_foot]).all()
    # The long flag reaches further left than the face's own, in the upper half only.
    left_edge = lambda ink: np.flatnonzero(ink.any(axis=0))[0]  # noqa: E731
    half = (rows[0] + rows[-1]) // 2
    assert left_edge(flagged[:half]) < left_edge(footless[:half]) - 10
    assert (flagged[half:] == footless[half:]).all()
    # The bar crosses the 7's stem halfway down, wider than the stem, and adds ink nowhere else far away.
    rows = np.flatnonzero(seven.any(axis=1))
    middle = (rows[0] + rows[-1]) // 2
    assert barred[middle].sum() > 2 * seven[middle].sum()
    assert (barred[:middle - 8] == seven[:middle - 8]).all() and (barred[middle + 8:] == seven[middle + 8:]).all()


def test_mix_in_replaces_the_chosen_share_with_wobbled_printed_digits_and_their_labels():
    images, labels = torch.zeros(2000, 1, 28, 28), torch.full((2000,), -1)
    mixed, mixed_labels = mix_in(images, labels, 0.25, torch.Generator().manual_seed(0))
    replaced = mixed_labels >= 0
    assert 430 < int(replaced.sum()) < 570
    assert (mixed[~replaced] == 0).all() and (labels == -1).all()  # the rest untouched, the input not changed
    assert set(mixed_labels[replaced].tolist()) == set(range(10))
    assert (mixed[replaced].amax((1, 2, 3)) > 0.5).all()  # each a digit, not a blank
    # Wobbled: no two copies alike, though 500 were drawn from 168 printed pictures.
    assert len({tuple(image.flatten().tolist()) for image in mixed[replaced]}) == int(replaced.sum())
    again, again_labels = mix_in(images, labels, 0.25, torch.Generator().manual_seed(0))
    assert torch.equal(mixed, again) and torch.equal(mixed_labels, again_labels)


def test_printed_digits_are_refused_for_a_data_set_of_other_things():
    with pytest.raises(i18n.Sentence) as refused:
        TrainConfig(dataset="fashion-mnist", augment_printed=0.1)
    assert "fashion-mnist" in str(refused.value) and "Printed digits" in str(refused.value)
    assert TrainConfig(dataset="mnist-5k", augment_printed=0.1).augment_printed == 0.1


def pen_digit(strokes: list[list[tuple[float, float]]], width: int, slant: float) -> Image.Image:
    """A digit drawn as pen strokes (points in a unit box) on a 300x300 page, slanted by `slant`."""
    page = Image.new("L", (300, 300), 240)
    draw = ImageDraw.Draw(page)
    for stroke in strokes:
        points = [(90 + 120 * (x + slant * (1 - y)), 60 + 180 * y) for x, y in stroke]
        draw.line(points, fill=25, width=width, joint="curve")
    return page


# A 1 with a flag and a foot, and a 4 closed at the top: how many people write them, MNIST rarely.
FLAG_ONE = [[(0.15, 0.25), (0.55, 0.0), (0.55, 1.0)], [(0.2, 1.0), (0.9, 1.0)]]
CLOSED_FOUR = [[(0.6, 0.05), (0.3, 0.1), (0.1, 0.5), (0.6, 0.55), (0.95, 0.55)], [(0.6, 0.0), (0.6, 1.0)]]


@pytest.mark.parametrize("label, strokes", [(1, FLAG_ONE), (4, CLOSED_FOUR)])
def test_the_shipped_reader_reads_the_styles_mnist_rarely_shows(label, strokes):
    reader = ModelRegistry(device="cpu").load("rnn-mnist")
    pictures = [pen_digit(strokes, width, slant) for width in (3, 8, 16) for slant in (-0.1, 0.0, 0.15)]
    with torch.no_grad():
        read = reader(torch.stack([prepare_digit(p) for p in pictures])).argmax(1).tolist()
    # The reader trained on MNIST alone read none of either (a 3 for the 1, a 9 for the 4).
    assert read.count(label) >= 6, f"{DIGIT_CLASSES[label]} drawn in 9 ways was read as {read}"
