"""RowRNN: every cell type, stacked layers, shapes, input checking, read_rows against predict_proba."""

import pytest
import torch

from genmodels import RowRNN, RowRNNConfig
from genmodels.data import to_float


@pytest.fixture(scope="module")
def images(digits):
    """The first 64 validation digits as float (64,1,28,28) in [0,1]."""
    return to_float(digits.val_x[:64])


def tiny_rnn(seed=0, **kwargs) -> RowRNN:
    torch.manual_seed(seed)
    return RowRNN(RowRNNConfig(hidden_size=32, **kwargs)).eval()


CONFIGS = [
    {"cell": "rnn"}, {"cell": "gru"}, {"cell": "lstm"},
    {"cell": "rnn", "num_layers": 2}, {"cell": "gru", "num_layers": 3, "dropout": 0.2},
    {"cell": "lstm", "num_layers": 2},
]


@pytest.mark.parametrize("kwargs", CONFIGS, ids=lambda k: "-".join(str(v) for v in k.values()))
def test_shapes_and_probabilities(kwargs, images):
    model = tiny_rnn(**kwargs)
    assert isinstance(model.rnn, {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[kwargs["cell"]])
    assert model.rnn.num_layers == kwargs.get("num_layers", 1)
    logits = model(images)
    assert logits.shape == (64, 10)
    proba = model.predict_proba(images)
    assert proba.shape == (64, 10) and (proba >= 0).all()
    assert torch.allclose(proba.sum(1), torch.ones(64), atol=1e-5)
    assert torch.allclose(proba, torch.softmax(logits, 1))
    rows = model.read_rows(images)
    assert rows.shape == (64, 28, 10)
    assert torch.allclose(rows.sum(-1), torch.ones(64, 28), atol=1e-5)


@pytest.mark.parametrize("kwargs", CONFIGS, ids=lambda k: "-".join(str(v) for v in k.values()))
def test_last_row_of_read_rows_is_predict_proba(kwargs, images):
    model = tiny_rnn(seed=3, **kwargs)
    rows = model.read_rows(images)
    assert torch.allclose(rows[:, -1], model.predict_proba(images), atol=1e-6)
    # Earlier rows are genuinely different answers (the model "changes its mind" as it reads).
    assert not torch.allclose(rows[:, 0], rows[:, -1], atol=1e-3)


def test_read_rows_row_t_is_the_answer_after_reading_t_rows(images):
    """Row t equals classifying an image whose rows after t are never read (a causal reader)."""
    model = tiny_rnn(cell="gru")
    rows = model.read_rows(images[:4])
    changed = images[:4].clone()
    changed[:, :, 10:] = 1.0  # rewrite rows 10..27: rows 0..9 of the answer must not move
    rows_changed = model.read_rows(changed)
    assert torch.allclose(rows[:, :10], rows_changed[:, :10], atol=1e-6)
    assert not torch.allclose(rows[:, 10:], rows_changed[:, 10:], atol=1e-3)


def test_all_three_input_shapes_give_the_same_result(images):
    model = tiny_rnn(cell="lstm")
    x = images[:8]
    reference = model.predict_proba(x)
    assert torch.equal(model.predict_proba(x.reshape(8, 28, 28)), reference)
    assert torch.equal(model.predict_proba(x.reshape(8, 784)), reference)
    assert torch.equal(model.read_rows(x.reshape(8, 784))[:, -1], model.read_rows(x)[:, -1])


def test_any_float_dtype_is_accepted(images):
    model = tiny_rnn(cell="gru")
    x = images[:8]
    assert torch.allclose(model.predict_proba(x.double()), model.predict_proba(x), atol=1e-6)


def test_rows_are_the_time_steps(images):
    """The image is read as 28 steps of 28 pixels, top row first (not columns, not flattened)."""
    model = tiny_rnn(cell="rnn")
    x = images[:2].reshape(2, 28, 28)
    outputs, _ = model.rnn(x)
    assert torch.allclose(model(images[:2]), model.head(outputs[:, -1]), atol=1e-6)


@pytest.mark.parametrize("bad_shape", [(4, 28, 29), (4, 3, 28, 28), (4, 785), (28, 28)])
def test_wrong_image_shape_is_a_value_error_naming_the_expected_shapes(bad_shape):
    model = tiny_rnn()
    for method in (model, model.predict_proba, model.read_rows):
        with pytest.raises(ValueError, match=r"\(N,1,28,28\), \(N,28,28\) or \(N,784\)"):
            method(torch.rand(bad_shape))


def test_non_float_images_are_a_value_error(digits):
    model = tiny_rnn()
    with pytest.raises(ValueError, match="float"):
        model.predict_proba(digits.val_x[:4])  # uint8 (4,28,28)
    with pytest.raises(ValueError, match="torch.Tensor"):
        model.read_rows(digits.val_x[:4].float().tolist())


def test_loss_is_cross_entropy_with_accuracy(digits, images):
    model = tiny_rnn()
    labels = digits.val_y[:64]
    parts = model.loss(images, labels)
    expected = torch.nn.functional.cross_entropy(model(images), labels)
    assert torch.allclose(parts["loss"], expected)
    assert abs(parts["loss"].item() - torch.log(torch.tensor(10.0)).item()) < 0.5  # untrained: ~ln 10
    assert 0 <= parts["accuracy"].item() <= 1


def test_default_is_a_plain_tanh_rnn_with_128_units():
    model = RowRNN()
    assert isinstance(model.rnn, torch.nn.RNN) and model.rnn.nonlinearity == "tanh"
    assert model.config.hidden_size == 128 and model.config.num_classes == 10
    assert model.head.in_features == 128 and model.head.out_features == 10


def test_invalid_config_values_are_value_errors():
    for kwargs in ({"cell": "transformer"}, {"hidden_size": 0}, {"num_layers": 0}, {"dropout": 1.0}):
        with pytest.raises(ValueError):
            RowRNNConfig(**kwargs)
