"""Unit tests of the explorer's plain functions (ui/explore/models.py, actions.py, render.py) on real checkpoints.

Besides the shipped 20-dimensional VAEs, three tiny VAEs are trained for one epoch on mnist-5k:
latent size 2 (the manifold grid), 8 (fewer dimensions than sliders) and 24 (more), saved as run checkpoints.
"""

import base64
import io
import os
import time

import numpy as np
import pytest
from conftest import run_folders
import torch
from PIL import Image

import i18n
from genmodels import VAEConfig
from genmodels.registry import ModelRegistry
from genmodels.train import TrainConfig, train
from ui.explore import actions, render
from ui.explore.models import LATENT_SLOTS, SLIDER_LIMIT, ViewCache, format_z, parse_z


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """A runs folder holding one-epoch VAEs with latent sizes 2, 8 and 24 ('run-latent2', ...)."""
    runs = tmp_path_factory.mktemp("explore-runs")
    for dims in (2, 8, 24):
        train("vae", VAEConfig(latent_dim=dims, hidden_size=32), TrainConfig(epochs=1, device="cpu", seed=dims, nll_samples=0),
              out=runs / f"latent{dims}" / "checkpoint")
    return runs


@pytest.fixture(scope="module")
def views(tiny_runs):
    return ViewCache(ModelRegistry(extra_folders=run_folders(tiny_runs), device="cpu"))


@pytest.fixture(scope="module")
def mnist(views):
    return views.get("vae-mnist")


# --------------------------------------------------------------------------- parse_z / format_z
def test_parse_z_accepts_lists_and_comma_strings():
    assert parse_z([0.5] * 20, 20).tolist() == [0.5] * 20
    assert parse_z("1, -2.5; 0", 3).tolist() == [1.0, -2.5, 0.0]
    assert parse_z(np.zeros(8), 8).dtype == np.float32


@pytest.mark.parametrize("values, message", [
    ([0.0] * 19, "exactly 20"), ("1,2,x", "separated by commas"), ({"a": 1}, "list of 20"),
    (5, "list of 20"), (["a"] * 20, "list of 20"), ([float("nan")] * 20, "NaN"), ([11.0] + [0.0] * 19, "between"),
    ([True] * 20, "list of 20"), ([[0.0]] * 20, "list of 20"), ([None] * 20, "list of 20"), (None, "list of 20"),
    ([1e300] * 20, "between"), ([float("inf")] * 20, "NaN or infinity"),
])
def test_parse_z_refuses_bad_codes_with_a_sentence(values, message):
    with pytest.raises(ValueError, match=message):
        parse_z(values, 20)


def test_format_z_round_trips_through_parse_z_at_two_decimals():
    z = np.array([1.234, -0.001, 0.0, -2.5, 3.0])
    text = format_z(z)
    assert text == "1.23,0,0,-2.5,3"
    assert np.allclose(parse_z(text, 5), np.round(z, 2), atol=1e-6)


# --------------------------------------------------------------------------- sliders <-> codes
def test_twenty_dim_sliders_round_trip_in_kl_order(mnist):
    z = np.linspace(-2, 2, 20).astype(np.float32)
    slots = mnist.z_to_slots(z)
    assert len(slots) == LATENT_SLOTS
    assert np.allclose(mnist.slots_to_z(slots), z, atol=0.01)
    kls = [float(mnist.slider_label(s).split("KL")[1].split()[0]) for s in range(20)]
    assert kls == sorted(kls, reverse=True)


def test_a_small_model_fills_the_unused_sliders_with_zero(views):
    view = views.get("run-latent8")
    assert view.dims == 8 and view.shown_slots == 8
    z = np.arange(1, 9, dtype=np.float32) / 4
    slots = view.z_to_slots(z)
    assert len(slots) == LATENT_SLOTS and slots[8:] == [0.0] * 12
    assert sorted(slots[:8]) == sorted(np.round(z, 2).tolist())
    assert np.allclose(view.slots_to_z(slots[:8] + [2.0] * 12), z)  # values of unused sliders are ignored
    assert "not used" in view.slider_label(8) and "KL" in view.slider_label(7)
    assert view.decode(z).shape == (28, 28)


def test_a_large_model_keeps_its_hidden_dimensions_in_the_session_code(views):
    view = views.get("run-latent24")
    assert view.dims == 24 and view.shown_slots == LATENT_SLOTS
    full = np.linspace(-1, 1, 24).astype(np.float32)
    slots = view.z_to_slots(full)
    slots[0] = 2.5  # the user drags the most informative slider
    z = view.slots_to_z(slots, base=full.tolist())
    hidden = view.order[LATENT_SLOTS:]
    assert np.allclose(z[hidden], full[hidden])  # not zeroed
    assert z[view.order[0]] == 2.5
    assert np.allclose(view.slots_to_z(slots)[hidden], 0)  # without a session code they start at the origin
    assert "keep their values" in view.describe()


# --------------------------------------------------------------------------- endpoints, interpolation, grid
def test_endpoint_code_for_every_kind_of_endpoint(mnist):
    current = np.full(20, 0.3, dtype=np.float32)
    assert np.array_equal(actions.endpoint_code(mnist, "current", current, None), current)
    a = actions.endpoint_code(mnist, "random", current, None, torch.Generator().manual_seed(1))
    b = actions.endpoint_code(mnist, "random", current, None, torch.Generator().manual_seed(1))
    assert a.shape == (20,) and np.array_equal(a, b)
    assert np.array_equal(actions.endpoint_code(mnist, "centroid:3", current, None), mnist.centroid(3))
    uploaded = [0.1] * 20
    assert np.allclose(actions.endpoint_code(mnist, "upload", current, uploaded), 0.1)


@pytest.mark.parametrize("choice, uploaded, message", [
    ("upload", None, "No uploaded"), ("upload", [0.0] * 8, "No uploaded"),
    ("centroid:12", None, "Unknown class"), ("centroid:x", None, "Unknown class"), ("sideways", None, "Unknown"),
])
def test_endpoint_code_refuses_missing_or_unknown_endpoints(mnist, choice, uploaded, message):
    with pytest.raises(ValueError, match=message):
        actions.endpoint_code(mnist, choice, np.zeros(20), uploaded)


@pytest.mark.parametrize("method", actions.INTERPOLATION_METHODS)
def test_interpolate_walks_from_one_code_to_the_other(mnist, method):
    z0, z1 = mnist.centroid(1), mnist.centroid(7)
    strip, gif, codes = actions.interpolate(mnist, z0, z1, method, 6)
    assert codes.shape == (6, 20)
    assert np.allclose(codes[0], z0, atol=1e-5) and np.allclose(codes[-1], z1, atol=1e-5)
    assert strip.size == (6 * (84 + 4) + 4, 84 + 2 * 4)  # make_grid: 4 white pixels around every digit
    cells = np.asarray(strip, dtype=np.float32)[4:88, 4:].reshape(84, 6, 88)[:, :, :84] / 255  # cut out each cell
    assert np.abs(cells[::3, 0, ::3] - mnist.decode(z0)).max() < 0.01  # the first is z0's digit, upscaled 3x
    animation = Image.open(io.BytesIO(gif))
    assert animation.format == "GIF" and animation.n_frames == 2 * 6 - 2  # ping-pong loop
    first = np.asarray(animation.convert("L").resize((28, 28), Image.Resampling.NEAREST), dtype=np.float32) / 255
    assert np.abs(first - mnist.decode(z0)).max() < 0.02


def test_interpolate_refuses_bad_settings(mnist):
    with pytest.raises(ValueError, match="between 2 and 24"):
        actions.interpolate(mnist, np.zeros(20), np.ones(20), "linear", 40)
    with pytest.raises(ValueError, match="must be one of"):
        actions.interpolate(mnist, np.zeros(20), np.ones(20), "wiggly", 5)


def test_traversal_grid_has_a_row_per_active_dimension(mnist, views):
    for view in (mnist, views.get("run-latent8")):
        rows = len(view.active_dims())
        assert rows >= 1
        picture = actions.traversal_grid(view, np.zeros(view.dims))
        assert picture.size == (150 + 9 * 60 + 4 + 6, 32 + rows * 60 + 4 + 6)  # 56-pixel digits, 4 apart


def test_code_at_map_pixel_snaps_to_stored_points_and_unprojects_empty_space(mnist):
    i = 17
    px, py = mnist.map.to_pixels(mnist.map.xy[i:i + 1])[0]
    z, how = mnist.code_at_map_pixel(px + 1, py)
    assert np.allclose(z, mnist.map_z[i].numpy()) and how.key == "explore.map_real"
    left, top, _, _ = mnist.map.plot_box
    corner = (left + 1, top + 1)
    if mnist.map.nearest_point(*corner)[1] > 10:
        z, how = mnist.code_at_map_pixel(*corner)
        assert how.key == "explore.map_plane" and z.shape == (20,)
        assert np.allclose(mnist.project(z), mnist.map.to_coordinates(*corner), atol=1e-4)


# --------------------------------------------------------------------------- readout, seeds, GIF folder
def test_readout_probabilities_sum_to_one_and_follow_the_rows(mnist, views):
    reader = views.reader(mnist.default_reader)
    assert reader.name == "rnn-mnist"
    digit = mnist.decode(mnist.centroid(0))
    probs, picture = actions.readout(reader, digit, 28)
    assert abs(sum(probs.values()) - 1) < 1e-4 and picture.size[1] > 28 * 12
    early, _ = actions.readout(reader, digit, 3)
    assert early != probs
    assert actions.class_probabilities(reader, digit) == pytest.approx(probs)
    label = actions.label_value(probs)
    assert label["label"] == max(probs, key=probs.get) and len(label["confidences"]) == 10


def test_any_rnn_can_read_any_model(views):
    """The Reader list offers every RowRNN: the digit reader reads a fashion VAE's picture in its own classes."""
    fashion = views.get("vae-fashion")
    assert views.reader(fashion.default_reader).name == "rnn-fashion"
    probs, _ = actions.readout(views.reader("rnn-mnist"), fashion.decode(fashion.centroid(0)))
    assert list(probs) == [str(k) for k in range(10)]
    assert views.reader("none") is None and views.reader(None) is None
    with pytest.raises(ValueError, match="must be a RowRNN"):
        views.reader("vae-mnist")


def test_a_model_without_a_classifier_says_so(tmp_path, tiny_runs):
    registry = ModelRegistry(checkpoints_dir=tmp_path, extra_folders=run_folders(tiny_runs), device="cpu")
    cache = ViewCache(registry)
    lonely = cache.get("run-latent8")
    assert lonely.default_reader is None and cache.reader_for("run-latent8") is None
    digit = lonely.decode(np.zeros(8))
    with pytest.raises(ValueError, match="no RNN reader"):
        actions.class_probabilities(None, digit)
    assert actions.page_readout(None, digit) == (str(actions.NO_READER_NOTE), None)
    with i18n.speaking("zh-CN"):
        assert actions.page_readout(None, digit)[0] == "未选择 RNN 读取器（没有与这个数据集匹配的）"


def test_view_cache_refuses_unknown_and_non_vae_names(views):
    cases = [("", "No model is selected"), ("no-such-model", "Unknown|unknown"), ("rnn-mnist", "needs a VAE"),
             (None, "No model is selected"), (["vae-mnist"], "No model is selected")]
    for name, message in cases:
        with pytest.raises(ValueError, match=message):
            views.get(name)


def test_view_cache_sees_a_second_save_within_one_clock_tick(tmp_path, digits):
    """A run can save twice within the file system's timestamp resolution; the view must still change."""
    from genmodels.checkpoints import CONFIG_FILE

    folder = tmp_path / "runs" / "twice" / "checkpoint"

    def save_a_run(seed: int):
        return train("vae", VAEConfig(hidden_size=16), TrainConfig(epochs=1, device="cpu", seed=seed, nll_samples=0), data=digits,
                     out=folder, save_training_state=False).model

    save_a_run(0)
    registry = ModelRegistry(checkpoints_dir=tmp_path / "none", extra_folders=run_folders(tmp_path / "runs"),
                             device="cpu")
    cache = ViewCache(registry)
    first = cache.get("run-twice")
    before = (folder / CONFIG_FILE).stat()
    newer = save_a_run(1)
    os.utime(folder / CONFIG_FILE, ns=(before.st_atime_ns, before.st_mtime_ns))  # same tick as the first save
    second = cache.get("run-twice")
    assert second is not first and cache.get("run-twice") is second
    z = torch.zeros(1, 20)
    assert torch.equal(second.vae.decode(z), newer.decode(z))


@pytest.mark.parametrize("seed", [None, -1, 0, 7, 2**31 - 1, 7.0])
def test_seeded_generator_accepts_minus_one_and_the_31_bit_range(seed):
    generator = actions.seeded_generator(seed)
    if seed in (None, -1):
        assert generator is None
    else:
        again = actions.seeded_generator(seed)
        assert torch.equal(torch.randn(3, generator=generator), torch.randn(3, generator=again))


@pytest.mark.parametrize("seed", [2**31, -2, 10**30, 10**400, 1.5, float("nan"), float("inf"), "abc"])
def test_seeded_generator_refuses_other_seeds_with_a_sentence(seed):
    with pytest.raises(ValueError, match="seed must be"):
        actions.seeded_generator(seed)


def test_gif_folder_is_pruned_by_count_and_age(tmp_path):
    now = time.time()
    for k in range(6):
        path = tmp_path / f"interpolation-{k}.gif"
        path.write_bytes(b"GIF89a")
        os.utime(path, (now - 10 * k, now - 10 * k))  # interpolation-0 is the newest
    stale = tmp_path / "interpolation-old.gif"
    stale.write_bytes(b"GIF89a")
    os.utime(stale, (now - 7200, now - 7200))
    (tmp_path / "notes.txt").write_text("not ours")
    assert actions.prune_gifs(tmp_path, keep=4, max_age_s=3600) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "interpolation-0.gif", "interpolation-1.gif", "interpolation-2.gif", "interpolation-3.gif", "notes.txt"]
    saved = actions.save_gif(b"GIF89a-new", folder=tmp_path)
    assert open(saved, "rb").read() == b"GIF89a-new"
    assert len(list(tmp_path.glob("interpolation-*.gif"))) <= actions.GIF_KEEP


def test_save_gif_keeps_at_most_gif_keep_files(tmp_path, monkeypatch):
    monkeypatch.setattr(actions, "GIF_KEEP", 3)
    paths = [actions.save_gif(b"GIF89a", folder=tmp_path) for _ in range(5)]
    left = {str(p) for p in tmp_path.glob("interpolation-*.gif")}
    assert len(left) == 3 and paths[-1] in left


def test_image_to_digit_reads_files_arrays_and_drawings(tmp_path, mnist):
    ink = np.zeros((120, 120), np.uint8)
    ink[20:100, 55:65] = 255  # a '1'
    path = tmp_path / "one.png"
    Image.fromarray(255 - ink).save(path)
    from_file = actions.image_to_digit(str(path))
    from_array = actions.image_to_digit(np.stack([255 - ink] * 3, axis=-1))
    buffer = io.BytesIO()
    Image.fromarray(255 - ink).save(buffer, format="PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    from_drawing = actions.prepare_image(actions.drawing_bytes(data_url))
    assert from_file.shape == (1, 28, 28) and torch.allclose(from_file, from_array, atol=0.02)
    assert torch.allclose(from_file, from_drawing.image, atol=0.02) and isinstance(from_drawing.notes, tuple)
    with pytest.raises(ValueError, match="blank"):
        actions.image_to_digit(np.full((336, 336, 4), 255, np.uint8))


@pytest.mark.parametrize("value", ["data:text/html,<b>x</b>", "data:image/png;base64,@@@", "x" * 3_000_000, 7])
def test_drawing_bytes_refuses_anything_but_a_small_image_data_url(value):
    with pytest.raises(ValueError, match="could not be read"):
        actions.drawing_bytes(value)
    assert actions.drawing_bytes("") is None and actions.drawing_bytes(None) is None


# --------------------------------------------------------------------------- links, previews, 2-D models, the map
def test_share_query_names_the_model_and_leaves_out_the_origin(mnist):
    assert actions.share_query(mnist, np.zeros(20)) == "?model=vae-mnist"
    z = np.zeros(20)
    z[3] = 1.234
    assert actions.share_query(mnist, z) == "?model=vae-mnist&z=0,0,0,1.23" + ",0" * 16


def test_dimension_preview_sweeps_one_slider(mnist):
    html = actions.dimension_preview(mnist, np.zeros(20), 0)
    assert html.count("<img") == len(actions.PREVIEW_VALUES) and f"z{mnist.order[0]}" in html
    with pytest.raises(ValueError, match="not used"):
        actions.dimension_preview(mnist, np.zeros(20), 25)


def test_a_two_dimensional_model_has_a_manifold_grid_that_clicks_back_to_codes(views):
    view = views.get("run-latent2")
    assert view.dims == 2 and view.shown_slots == 2 and view.manifold is not None
    manifold = view.manifold
    picture = actions.manifold_picture(view)
    assert picture.size == (manifold.width, manifold.height)
    top_left = view.code_at_manifold_pixel(manifold.LEFT, manifold.TOP)  # first slider lowest, second highest
    assert top_left[view.order[0]] == pytest.approx(-SLIDER_LIMIT) and top_left[view.order[1]] == pytest.approx(
        SLIDER_LIMIT)
    centre = manifold.LEFT + manifold.side / 2, manifold.TOP + manifold.side / 2
    assert np.allclose(view.code_at_manifold_pixel(*centre), 0, atol=1e-6)
    # A click on a cell's centre asks for the code that cell shows, and the digit there is that code's.
    codes = manifold.slot_codes()
    digits = np.zeros((len(codes), 28, 28), np.float32)
    for k in (0, 16, 112, 224):
        r, c = divmod(k, manifold.STEPS)
        px, py = manifold.LEFT + (c + 0.5) * manifold.cell, manifold.TOP + (r + 0.5) * manifold.cell
        assert np.allclose(manifold.to_slots(px, py), codes[k], atol=1e-6)
        digits[k] = 1.0
    figure, axes = manifold.figure(digits, ("a", "b"))
    lit = np.asarray(render.figure_image(figure).convert("L"))
    for k in range(len(codes)):  # exactly the four white cells are white, where the axes put their codes
        x, y = axes.transData.transform(codes[k])
        assert (lit[int(manifold.height - y), int(x)] > 128) == (k in (0, 16, 112, 224))
    assert actions.manifold_picture(views.get("vae-mnist")) is None


def test_the_map_converts_pixels_exactly_as_matplotlib_draws_its_points(mnist):
    latent_map = mnist.map
    figure, axes = latent_map.figure(mnist.class_names)
    drawn = axes.transData.transform(latent_map.xy)
    drawn[:, 1] = latent_map.HEIGHT - drawn[:, 1]  # matplotlib counts pixels upwards, pictures downwards
    assert np.allclose(drawn, latent_map.pixels, atol=1e-3)
    for px, py in [(100.0, 80.0), (latent_map.LEFT, latent_map.TOP), (300.5, 200.25)]:
        x, y = axes.transData.inverted().transform((px, latent_map.HEIGHT - py))
        assert np.allclose(latent_map.to_coordinates(px, py), (x, y))
    # The dot drawn last (on top of the others) shows its class colour at its pixel in the base picture.
    base = np.asarray(latent_map.base.convert("RGB"))
    last = np.random.default_rng(0).permutation(len(latent_map.xy))[-1]
    x, y = latent_map.pixels[last].astype(int)
    expected = render.class_colours(len(mnist.class_names))[latent_map.labels[last]]
    assert np.abs(base[y, x].astype(int) - expected).max() <= 3


@pytest.mark.parametrize("far", [1e3, -1e3, 1e30, float("nan")])
def test_the_map_marker_stays_on_the_plot_for_any_code(mnist, far):
    picture = np.asarray(mnist.map.with_marker(np.array([far, -far])).convert("RGB"))
    base = np.asarray(mnist.map.base.convert("RGB"))
    changed = np.argwhere(np.any(picture != base, axis=-1))
    left, top, right, bottom = mnist.map.plot_box  # ring and cross around the edge point
    assert len(changed) and changed[:, 1].min() >= left - 16 and changed[:, 1].max() <= right + 16
    assert changed[:, 0].min() >= top - 16 and changed[:, 0].max() <= bottom + 16


def test_preview_html_captions_each_value():
    html = render.preview_html(np.zeros((3, 28, 28)), [-3.0, 0.0, 3.0], "What <z1> does")
    assert "+3.0" in html and "-3.0" in html and "&lt;z1&gt;" in html


# --------------------------------------------------------------------------- the visitor's language
def test_the_explorer_speaks_chinese_to_a_chinese_visitor(mnist, views):
    from genmodels.preprocess import NOTE_FAINT, NOTE_SMALL, load_image_file
    from ui.explore.page import notes_markdown

    with i18n.speaking("zh-CN"):
        assert mnist.slider_label(0).startswith("z") and "KL" in mnist.slider_label(0)
        assert "数据集 `mnist-5k`" in mnist.describe() and "个隐变量中有" in mnist.describe()
        assert "（此模型未使用）" == views.get("run-latent8").slider_label(LATENT_SLOTS - 1)
        assert notes_markdown([NOTE_FAINT, NOTE_SMALL]) == ("⚠️ 字迹与纸面的对比很淡，结果可能不可靠。\n"
                                                            "⚠️ 数字在图中很小，靠近一些拍照会读得更准。")
        with pytest.raises(ValueError) as refused:
            load_image_file(b"this is not a picture")
        assert str(refused.value) == "无法把这个文件读作图像，请上传 PNG、JPEG 或 WebP 图像。"
        with pytest.raises(ValueError) as wrong:
            parse_z([0.0] * 3, 20)
        assert str(wrong.value) == "z 必须恰好有 20 个数（每个隐变量一个），现在有 3 个。"
        assert [text for text, _ in actions.endpoint_choices(mnist)][:2] == ["当前的 z（滑块上的值）", "从先验中随机采样"]
    # The same error, shown later to an English reader, is in English.
    assert str(refused.value) == "This file is not an image we can read; please upload a PNG, JPEG or WebP image."
    assert [value for _, value in actions.endpoint_choices(mnist)][:3] == ["current", "random", "upload"]
