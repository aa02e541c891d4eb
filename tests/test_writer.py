"""RowWriter: an exact likelihood (sums to 1), causal masks, sampling that agrees with log_prob, input checks."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from genmodels import RowWriter, RowWriterConfig
from genmodels.data import binarize
from genmodels.writer import tempered_probabilities


def tiny_writer(seed=0, **kwargs) -> RowWriter:
    """A small untrained writer in eval mode (random weights are enough: the identities hold for any weights)."""
    torch.manual_seed(seed)
    settings = dict(hidden_size=16, head_size=32, embed_dim=4)
    settings.update(kwargs)
    model = RowWriter(RowWriterConfig(**settings)).eval()
    with torch.no_grad():  # larger output weights than the default init, so probabilities are far from uniform
        model.out_ctx.weight.mul_(4)
        model.head_out.weight.mul_(4)
    return model


def all_binary_images(side: int) -> torch.Tensor:
    """Every binary side x side image, (2**(side*side), side, side)."""
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=side * side))).reshape(-1, side, side)


def random_binary(n: int, side: int = 28, seed: int = 0, p: float = 0.3) -> torch.Tensor:
    return (torch.rand(n, side, side, generator=torch.Generator().manual_seed(seed)) < p).float()


# -- the likelihood is exact -------------------------------------------------------------------
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("label", [None, 0, 2])
def test_probabilities_of_all_images_sum_to_one(num_layers, label):
    model = tiny_writer(side=3, head_size=6, num_layers=num_layers, num_classes=3)
    images = all_binary_images(3)  # 2**9 = 512 images
    with torch.no_grad():
        log_p = model.log_prob(images, label)
    assert log_p.shape == (512,) and (log_p < 0).all()
    assert abs(torch.logsumexp(log_p.double(), 0).exp().item() - 1.0) < 1e-5
    # Far from uniform, so the check is not trivially met by a model that ignores its input.
    assert log_p.max() - log_p.min() > 5


def test_conditional_and_unconditional_differ():
    model = tiny_writer(side=3, head_size=6, num_classes=3)
    images = all_binary_images(3)
    with torch.no_grad():
        assert not torch.allclose(model.log_prob(images, 1), model.log_prob(images))
        assert torch.allclose(model.log_prob(images, 1), model.log_prob(images, torch.ones(512, dtype=torch.long)))


def test_each_pixel_depends_only_on_pixels_before_it():
    """Flipping pixel p changes no logit at or before p in raster order, and changes some after it."""
    side = 5
    model = tiny_writer(side=side, head_size=12, num_layers=2)
    x = random_binary(1, side, seed=1)
    with torch.no_grad():
        reference = model(x).flatten()
        for p in range(side * side - 1):
            flipped = x.clone().flatten()
            flipped[p] = 1 - flipped[p]
            logits = model(flipped.reshape(1, side, side)).flatten()
            assert torch.equal(logits[:p + 1], reference[:p + 1]), f"a logit at or before pixel {p} saw pixel {p}"
            assert not torch.allclose(logits[p + 1:], reference[p + 1:]), f"no logit after pixel {p} saw pixel {p}"


def test_log_prob_equals_the_sampling_path_one_pixel_at_a_time():
    """Teacher forcing (all rows at once) and the sampler's recurrence (pixel by pixel) give the same conditionals."""
    model = tiny_writer(head_size=40, num_layers=2)
    x = random_binary(6, seed=2)
    labels = torch.tensor([0, 3, 9, 9, 5, 1])
    for given in (labels, None):
        index = model._labels(given, 6)
        total = torch.zeros(6)
        rows_seen = 0
        for t, canvas, logits in model._write_rows(index, torch.zeros(6, 0, 28), target=x):
            assert t == rows_seen and torch.equal(canvas[:, t], x[:, t])
            total -= F.binary_cross_entropy_with_logits(logits, x[:, t], reduction="none").sum(1)
            rows_seen += 1
        assert rows_seen == 28
        with torch.no_grad():
            assert torch.allclose(model.log_prob(x, given), total, atol=1e-3, rtol=1e-5)


def test_input_shapes_and_dtypes_give_the_same_log_prob():
    model = tiny_writer()
    x = random_binary(4, seed=3)
    with torch.no_grad():
        reference = model.log_prob(x)
        assert torch.equal(model.log_prob(x[:, None]), reference)
        assert torch.equal(model.log_prob(x.reshape(4, 784)), reference)
        assert torch.equal(model.log_prob(x.bool()), reference)
        assert torch.allclose(model.log_prob(x.double()), reference)


# -- the trainer's contract ----------------------------------------------------------------------
def test_loss_is_the_mean_nll_and_trains():
    model = tiny_writer()
    x = random_binary(8, seed=4)
    labels = torch.arange(8)
    parts = model.loss(x, labels)
    assert set(parts) == {"loss", "nll"}
    assert torch.allclose(parts["loss"], -model.log_prob(x, labels).mean())
    assert torch.equal(parts["loss"], parts["nll"])
    # Grey pixels: the cross-entropy, linear in x, so the mean over Bernoulli samples of x.
    grey = torch.rand(8, 28, 28, generator=torch.Generator().manual_seed(5))
    ce = model.loss(grey, labels)["loss"]
    assert torch.isfinite(ce)
    with pytest.raises(ValueError, match=r"\[0,1\]"):
        model.loss(grey * 255, labels)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = model.loss(x, labels)["loss"].item()
    for _ in range(20):
        optimizer.zero_grad()
        model.loss(x, labels)["loss"].backward()
        optimizer.step()
    assert model.loss(x, labels)["loss"].item() < before - 20


def test_label_dropout_only_while_training():
    model = tiny_writer(label_dropout=1.0)
    x = random_binary(4, seed=6)
    labels = torch.tensor([1, 2, 3, 4])
    with torch.no_grad():
        unconditional = -model.log_prob(x).mean()
        conditional = -model.log_prob(x, labels).mean()
        assert torch.allclose(model.loss(x, labels)["loss"], conditional)  # eval: labels as given
        model.train()
        assert torch.allclose(model.loss(x, labels)["loss"], unconditional)  # every label dropped


# -- writing ----------------------------------------------------------------------------------------
def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_samples_are_binary_and_reproducible():
    model = tiny_writer()
    a = model.sample(4, label=7, generator=seeded(0))
    assert a.shape == (4, 1, 28, 28) and a.dtype == torch.float32
    assert ((a == 0) | (a == 1)).all()
    assert torch.equal(a, model.sample(4, label=7, generator=seeded(0)))
    assert not torch.equal(a, model.sample(4, label=7, generator=seeded(1)))
    per_image = model.sample(4, label=torch.tensor([7, 7, 7, 7]), generator=seeded(0))
    assert torch.equal(per_image, a)


def test_low_temperature_is_nearly_deterministic():
    model = tiny_writer()
    cold = [model.sample(2, label=3, temperature=1e-4, generator=seeded(s)) for s in range(3)]
    assert all(torch.equal(c, cold[0]) for c in cold)
    assert torch.equal(cold[0][0], cold[0][1])
    hot = [model.sample(2, label=3, temperature=1.0, generator=seeded(s)) for s in range(3)]
    assert not torch.equal(hot[0], hot[1])


@pytest.mark.parametrize("shape", ["(k,s)", "(1,k,s)", "(n,k,s)"])
def test_prefix_rows_are_kept_exactly(shape):
    model = tiny_writer()
    prefix = random_binary(3, seed=7, p=0.5)[:, :10]  # (3, 10, 28)
    given = {"(k,s)": prefix[0], "(1,k,s)": prefix[:1], "(n,k,s)": prefix}[shape]
    expected = prefix if shape == "(n,k,s)" else prefix[:1].expand(3, -1, -1)
    out = model.sample(3, label=2, prefix_rows=given, generator=seeded(0))
    assert torch.equal(out[:, 0, :10], expected)
    assert ((out == 0) | (out == 1)).all()


def test_a_full_prefix_is_returned_unchanged_and_an_empty_one_is_no_prefix():
    model = tiny_writer()
    image = random_binary(1, seed=8)[0]
    assert torch.equal(model.sample(2, prefix_rows=image, generator=seeded(0))[:, 0], image.expand(2, -1, -1))
    steps = list(model.iter_sample_rows(2, prefix_rows=image))
    assert len(steps) == 1 and torch.equal(steps[0], image.expand(2, -1, -1))
    empty = model.sample(2, label=1, prefix_rows=torch.zeros(0, 28), generator=seeded(3))
    assert torch.equal(empty, model.sample(2, label=1, generator=seeded(3)))


def test_prefix_conditions_what_follows():
    """The rows below a prefix depend on it: the model reads the prefix, it does not just paste it."""
    model = tiny_writer()
    a = model.sample(1, label=0, prefix_rows=torch.zeros(14, 28), generator=seeded(0))
    b = model.sample(1, label=0, prefix_rows=torch.ones(14, 28), generator=seeded(0))
    assert not torch.equal(a[..., 14:, :], b[..., 14:, :])


def test_row_by_row_iterator_ends_with_the_sample():
    model = tiny_writer()
    prefix = random_binary(1, seed=9)[0, :5]
    steps = list(model.iter_sample_rows(3, label=4, temperature=0.8, prefix_rows=prefix, generator=seeded(2)))
    assert [tuple(s.shape) for s in steps] == [(3, t + 1, 28) for t in range(5, 28)]
    for earlier, later in zip(steps, steps[1:]):
        assert torch.equal(later[:, :earlier.shape[1]], earlier)  # rows once written never change
    final = model.sample(3, label=4, temperature=0.8, prefix_rows=prefix, generator=seeded(2))
    assert torch.equal(steps[-1], final[:, 0])


def test_sampling_follows_the_model_distribution():
    """On a 2x2 writer the frequency of each of the 16 images matches exp(log_prob)."""
    model = tiny_writer(side=2, head_size=4)
    images = all_binary_images(2)
    with torch.no_grad():
        expected = model.log_prob(images, 1).exp()
    samples = model.sample(20_000, label=1, generator=seeded(0)).reshape(-1, 4)
    codes = (samples * torch.tensor([8.0, 4.0, 2.0, 1.0])).sum(1).long()
    observed = torch.bincount(codes, minlength=16).float() / len(codes)
    assert (observed - expected).abs().max() < 0.015


# -- writing one row at a time (the Write tab's Step) -------------------------------------------------
def write_by_rows(model, label, temperature, seed, prefix=None):
    """Write an image with 28 - len(prefix) calls of write_row (one seed throughout); return (rows, steps)."""
    rows = torch.zeros(1, 0, 28) if prefix is None else prefix[None]
    steps = []
    while rows.shape[1] < 28:
        step = model.write_row(1, label=label, temperature=temperature, prefix_rows=rows, generator=seeded(seed))
        assert step.row == rows.shape[1]
        rows = torch.cat([rows, step.pixels[:, None]], 1)
        steps.append(step)
    return rows, steps


@pytest.mark.parametrize("label, temperature", [(None, 1.0), (4, 0.6), (2, 1.7)])
def test_rows_written_one_step_at_a_time_are_the_sample_and_their_log_probs_add_up_to_log_prob(label, temperature):
    model = tiny_writer(num_layers=2)
    rows, steps = write_by_rows(model, label, temperature, seed=11)
    assert torch.equal(rows[:, None], model.sample(1, label=label, temperature=temperature, generator=seeded(11)))
    running = torch.zeros(1)
    for step in steps:  # the running log-likelihood is the sum of the rows' terms so far ...
        running += step.row_log_prob
        assert torch.allclose(step.log_prob, running, atol=1e-4)
    with torch.no_grad():  # ... and after the last row it is the image's exact log p(x | label), at temperature 1
        assert torch.allclose(steps[-1].log_prob, model.log_prob(rows, label), atol=1e-4)


def test_the_running_log_likelihood_is_that_of_the_rows_written_so_far():
    """After row t it is log p(rows 0..t): the teacher-forced terms of those rows, whatever comes below."""
    model = tiny_writer()
    rows, steps = write_by_rows(model, 3, 1.0, seed=12)
    with torch.no_grad():
        per_pixel = -F.binary_cross_entropy_with_logits(model(rows, 3), rows, reduction="none").sum(2)[0]
    for step in steps:
        assert step.log_prob.item() == pytest.approx(per_pixel[:step.row + 1].sum().item(), abs=1e-4)


def test_step_probabilities_are_the_conditionals_sampling_drew_from():
    model = tiny_writer()
    prefix = random_binary(1, seed=13)[0, :9]
    temperature = 0.7
    step = model.write_row(1, label=5, temperature=temperature, prefix_rows=prefix, generator=seeded(4))
    image = torch.cat([prefix, step.pixels, torch.zeros(28 - 10, 28)])[None]
    with torch.no_grad():  # the model's own conditional of each pixel given the rows above and the pixels to its left
        assert torch.allclose(step.logits, model(image, 5)[:, 9], atol=1e-4)
    assert torch.allclose(step.probabilities, torch.sigmoid(step.logits))
    # Pixel j is on exactly when the seed's uniform number for it falls below its tempered probability.
    u = torch.rand((1, 28, 28), generator=seeded(4))[:, 9]
    assert torch.equal(step.pixels, (u < step.tempered).float())
    assert torch.allclose(step.tempered, tempered_probabilities(step.logits, temperature))


def test_temperature_reshapes_the_probabilities_and_sampling_follows_the_reshaped_ones():
    model = tiny_writer()
    prefix = random_binary(1, seed=14)[0, :6]
    at = {t: model.write_row(1, label=1, temperature=t, prefix_rows=prefix, generator=seeded(0)) for t in (0.5, 1, 2)}
    # Pixel 0 of the row sees no pixel drawn at this temperature, so its logit is the same at every temperature.
    assert len({round(s.logits[0, 0].item(), 5) for s in at.values()}) == 1
    assert torch.equal(at[1].tempered, at[1].probabilities)
    p, cold, hot = at[1].probabilities[0, 0], at[0.5].tempered[0, 0], at[2].tempered[0, 0]
    assert abs(cold - 0.5) > abs(p - 0.5) > abs(hot - 0.5)  # colder: towards 0 or 1; hotter: towards 1/2
    assert cold.item() == pytest.approx(torch.sigmoid(2 * at[1].logits[0, 0]).item(), abs=1e-6)
    # Over many draws, pixel 0 comes out on as often as its tempered probability says.
    many = model.write_row(20_000, label=1, temperature=2.0, prefix_rows=prefix, generator=seeded(1))
    assert many.pixels[:, 0].mean().item() == pytest.approx(hot.item(), abs=0.012)
    assert torch.allclose(many.tempered[:, 0], hot.expand(20_000))


def test_write_row_refuses_a_finished_image_and_bad_arguments():
    model = tiny_writer()
    with pytest.raises(ValueError, match="already written"):
        model.write_row(1, prefix_rows=torch.zeros(28, 28))
    with pytest.raises(ValueError, match="temperature"):
        model.write_row(1, temperature=0)
    with pytest.raises(ValueError, match="binary"):
        model.write_row(1, prefix_rows=torch.full((2, 28), 0.5))
    with pytest.raises(ValueError, match="label must be a class"):
        model.write_row(1, label=10)


# -- checkpoints, config and bad input ----------------------------------------------------------------
def test_save_and_load_round_trip(tmp_path):
    model = tiny_writer(num_layers=2, dropout=0.1)
    folder = model.save_pretrained(tmp_path / "writer", metadata={"dataset": "mnist-5k"})
    loaded = RowWriter.from_pretrained(folder, device="cpu")
    assert loaded.config == model.config and not loaded.training
    assert loaded.checkpoint_info["dataset"] == "mnist-5k"
    x = random_binary(5, seed=10)
    labels = torch.tensor([0, 1, 2, 3, 4])
    with torch.no_grad():
        assert torch.equal(loaded.log_prob(x, labels), model.log_prob(x, labels))
        assert torch.equal(loaded.log_prob(x), model.log_prob(x))
    assert torch.equal(loaded.sample(2, label=5, generator=seeded(0)), model.sample(2, label=5, generator=seeded(0)))
    # The MADE masks are derived from the config, not stored.
    from safetensors.torch import load_file
    assert not any("mask" in key for key in load_file(str(folder / "model.safetensors")))


def test_loading_another_model_type_is_refused(tmp_path):
    from genmodels import RowRNN, RowRNNConfig

    RowRNN(RowRNNConfig(hidden_size=4)).save_pretrained(tmp_path / "rnn")
    with pytest.raises(ValueError, match="not a 'writer'"):
        RowWriter.from_pretrained(tmp_path / "rnn", device="cpu")


@pytest.mark.parametrize("settings, message", [
    ({"side": 1}, "Image side"), ({"side": 28, "head_size": 27}, "Head size"), ({"hidden_size": 0}, "Hidden size"),
    ({"label_dropout": 1.5}, "Label dropout"), ({"dropout": 1.0}, "Dropout"), ({"num_layers": 2.5}, "Layers"),
    ({"num_classes": 0}, "Classes"), ({"embed_dim": "8"}, "Class embedding"),
])
def test_bad_config_is_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        RowWriterConfig(**settings)


@pytest.mark.parametrize("call, message", [
    (lambda m: m.log_prob(torch.full((2, 28, 28), 0.5)), "binary"),
    (lambda m: m.log_prob(torch.zeros(2, 27, 28)), "shaped"),
    (lambda m: m.log_prob(torch.zeros(2, 2, 28, 28)), "shaped"),
    (lambda m: m.log_prob([[0.0] * 784]), "torch.Tensor"),
    (lambda m: m.log_prob(torch.zeros(2, 28, 28), 10), "label must be a class from 0 to 9"),
    (lambda m: m.log_prob(torch.zeros(2, 28, 28), -1), "label must be a class"),
    (lambda m: m.log_prob(torch.zeros(2, 28, 28), torch.tensor([1, 2, 3])), "Expected 2 labels"),
    (lambda m: m.log_prob(torch.zeros(2, 28, 28), torch.tensor([1.0, 2.0])), "integer"),
    (lambda m: m.log_prob(torch.zeros(2, 28, 28), torch.tensor([1, 12])), "from 0 to 9"),
    (lambda m: m.log_prob(torch.zeros(2, 28, 28), "3"), "labels must be None"),
    (lambda m: m.sample(2, label=10), "label must be a class"),
    (lambda m: m.sample(0), "positive number"),
    (lambda m: m.sample(2, temperature=0), "temperature"),
    (lambda m: m.sample(2, temperature=-1.0), "temperature"),
    (lambda m: m.sample(2, temperature=math.nan), "temperature"),
    (lambda m: m.sample(2, temperature=math.inf), "temperature"),
    (lambda m: m.sample(2, prefix_rows=torch.zeros(29, 28)), "has 29 rows but the image has only 28"),
    (lambda m: m.sample(2, prefix_rows=torch.zeros(3, 27)), "prefix_rows must be shaped"),
    (lambda m: m.sample(2, prefix_rows=torch.zeros(3, 3, 28)), "prefix_rows must be shaped"),
    (lambda m: m.sample(2, prefix_rows=torch.full((3, 28), 0.5)), "binary"),
    (lambda m: next(m.iter_sample_rows(2, temperature=0)), "temperature"),
])
def test_bad_input_is_refused_with_a_sentence(call, message):
    with pytest.raises(ValueError, match=message):
        call(tiny_writer())


def test_binarize_draws_bernoulli_pixels():
    x = torch.full((200, 28, 28), 0.25)
    b = binarize(x, seeded(0))
    assert ((b == 0) | (b == 1)).all() and abs(b.mean().item() - 0.25) < 0.01
    assert torch.equal(b, binarize(x, seeded(0)))
    assert torch.equal(binarize(torch.full((2, 3), 255, dtype=torch.uint8), seeded(0)), torch.ones(2, 3))


# -- the shipped checkpoint -----------------------------------------------------------------------------
def test_shipped_writer_loads_writes_and_beats_the_vae(digits):
    """checkpoints/writer-mnist: small, states its data, and its exact NLL is far below the VAE's ~98-nat bound."""
    import json

    from genmodels.checkpoints import CONFIG_FILE
    from genmodels.registry import CHECKPOINTS_DIR

    folder = CHECKPOINTS_DIR / "writer-mnist"
    config = json.loads((folder / CONFIG_FILE).read_text())
    assert config["model_type"] == "writer" and config["dataset"] == "mnist-5k" and config["epochs_trained"] >= 1
    assert {p.name for p in folder.iterdir()} == set(config["files"]) | {CONFIG_FILE}
    assert sum(p.stat().st_size for p in folder.iterdir()) < 8 * 1024 * 1024
    writer = RowWriter.from_pretrained(folder, device="cpu")
    assert not writer.training and writer.config.side == 28
    x, y = binarize(digits.val_x, seeded(0)), digits.val_y  # another draw than the trainer's: close, not equal
    with torch.no_grad():
        nll = -writer.log_prob(x, y).mean().item()
    assert nll < 90
    assert nll == pytest.approx(config["metrics"]["val_nll"], rel=0.03)
    samples = writer.sample(2, label=7, generator=seeded(0))
    assert samples.shape == (2, 1, 28, 28) and ((samples == 0) | (samples == 1)).all()
