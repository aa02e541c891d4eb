"""The Write tab's actions as plain functions of (models, values): no gradio; errors users can cause are ValueErrors.

The page (ui/write/page.py) and the named endpoints (ui/write/api.py) call the same functions,
so the browser and an HTTP client get the same digits for the same seed. Digits are numpy
float32 arrays (side, side) with every pixel 0 or 1 (the writer models binarized images); the side
is the writer's (its data set's), never assumed here.
"""

import math
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

import i18n
from genmodels import likelihood
from genmodels.checkpoints import WEIGHTS_FILE
from genmodels.preprocess import load_image_file, prepare_digit
from genmodels.registry import same_images

DEFAULT_WRITER = "writer-mnist"
DEFAULT_VAE = "vae-mnist"
TEMPERATURE_RANGE = (0.1, 2.0)  # below 0.1 every digit is the same blob; above 2 it is noise
ENDINGS_RANGE = (1, 16)  # endings per completion (the page writes ENDINGS_SHOWN)
ENDINGS_SHOWN = 6
PROMPT_THRESHOLD = 0.5  # a prompt pixel is on when its grey level is above this (no random binarization)
SAMPLES_SHOWN = 8  # samples of each model side by side
MAX_SEED = 2**31 - 1


# ---------------------------------------------------------------------- checking arguments
def _number(value, what: str) -> float:
    """Return `value` as a finite float, or raise a ValueError naming `what` (a write.what.* key)."""
    what = i18n.Text(f"write.what.{what}")
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
        raise i18n.Sentence("write.check.not_number", what=what, kind=type(value).__name__)
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise i18n.Sentence("write.check.not_number_text", what=what, value=str(value)[:30]) from None
    if not math.isfinite(number):
        raise i18n.Sentence("write.check.not_finite", what=what)
    return number


def _whole(value, what: str, low: int, high: int) -> int:
    """Return `value` as an int within [low, high], or raise a ValueError saying the allowed range."""
    number = _number(value, what)
    if number != int(number) or not low <= number <= high:
        raise i18n.Sentence("write.check.whole", what=i18n.Text(f"write.what.{what}"), low=low, high=high)
    return int(number)


def check_temperature(value) -> float:
    """Return the sampling temperature as a float within TEMPERATURE_RANGE."""
    low, high = TEMPERATURE_RANGE
    t = _number(value, "temperature")
    if not low <= t <= high:
        raise i18n.Sentence("write.check.temperature", low=low, high=high, value=t)
    return t


def check_label(value, num_classes: int) -> int | None:
    """Return a class index 0..num_classes-1, or None for -1 / 'any' (the writer picks the class)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("any", "")):
        return None
    label = _whole(value, "label", -1, num_classes - 1)
    return None if label == -1 else label


def prompt_rows_range(side: int) -> tuple[int, int]:
    """Return the fewest and most rows of a side x side prompt that can be kept: at least one, and one left to write."""
    return 1, side - 1


def check_rows(value, side: int) -> int:
    """Return the number of prompt rows to keep, within prompt_rows_range(side)."""
    return _whole(value, "rows_kept", *prompt_rows_range(side))


def check_count(value) -> int:
    """Return the number of endings to write, within ENDINGS_RANGE."""
    return _whole(value, "endings", *ENDINGS_RANGE)


def check_seed(value) -> int:
    """Return the seed as an int 0..MAX_SEED; -1 (or None) draws a fresh one, returned so the result can be repeated."""
    seed = -1 if value is None else _whole(value, "seed", -1, MAX_SEED)
    return int(torch.randint(0, MAX_SEED, ()).item()) if seed == -1 else seed


def generator(seed: int) -> torch.Generator:
    """Return a CPU torch.Generator seeded with `seed` (a checked seed from check_seed)."""
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------------- models
@dataclass
class Models:
    """A writer and the models that go with it: the reader (RowRNN) and the VAE of the same data set (or None)."""

    writer_name: str
    writer: object
    class_names: list
    dataset: str
    reader_name: str | None
    reader: object | None
    vae_name: str | None
    writer_stamp: str = ""  # the SHA-256 of the writer's weights (config.json): changes when it is retrained

    @property
    def side(self) -> int:
        """Return the side of the writer's square images, in pixels (its rows, and the pixels in a row)."""
        return self.writer.config.side


def resolve_writer(registry, name) -> str:
    """Return the writer checkpoint to use: `name`, else DEFAULT_WRITER, else the first one; ValueError if none."""
    names = registry.names("writer")
    if not names:
        raise i18n.Sentence("write.no_writer")
    if name in (None, ""):
        return DEFAULT_WRITER if DEFAULT_WRITER in names else names[0]
    if not isinstance(name, str):
        raise i18n.Sentence("write.check.model_type")
    if name not in names:
        if name in registry.names():
            kind = registry.entry(name).model_type.upper()
            raise i18n.Sentence("write.check.not_a_writer", name=name[:60], kind=kind, names=_listed(names[:5]))
        raise i18n.Sentence("write.check.unknown_writer", name=name[:60], names=_listed(names[:5]))
    return name


def _listed(names) -> str:
    """Return names joined as a list in a sentence of the current language."""
    return i18n.text("write.list_separator").join(names)


def class_name(dataset: str, index: int, name, say=i18n.text) -> str:
    """Return how a class is shown: `say` of its catalogue text (data.<dataset>.class.<index>) where the
    catalogue has one, else its name as declared. `say`: i18n.text in a handler, ui.language.words when building."""
    key = f"data.{dataset}.class.{index}"
    return say(key) if key in i18n.catalogue(i18n.DEFAULT) else str(name)


def companion_vae(registry, writer_name: str) -> str | None:
    """Return the VAE to compare the writer with: one trained on the same images as recorded in their configs
    (DEFAULT_VAE first, then the same data set, then shipped ones), if any."""
    writer = registry.entry(writer_name)
    same = [e for e in registry.entries("vae") if same_images(e, writer)]
    shipped = [e for e in same if e.path.parent == registry.checkpoints_dir]
    if any(e.name == DEFAULT_VAE for e in shipped):
        return DEFAULT_VAE
    same_data = [e for e in same if e.dataset == writer.dataset]
    pick = [e for e in shipped if e in same_data] or same_data or shipped or same
    return pick[0].name if pick else None


def load_models(registry, name) -> Models:
    """Return the writer called `name` (default: DEFAULT_WRITER) with its reader and the VAE of its data set."""
    writer_name = resolve_writer(registry, name)
    entry = registry.entry(writer_name)
    writer = registry.load(writer_name)
    reader_name = registry.classifier_for(writer_name)
    reader = registry.load(reader_name) if reader_name else None
    stamp = str(registry.config(entry.path).get("files", {}).get(WEIGHTS_FILE, ""))
    return Models(writer_name, writer, list(entry.class_names), entry.dataset, reader_name, reader,
                  companion_vae(registry, writer_name), stamp)


# ---------------------------------------------------------------------- writing
@dataclass
class Frame:
    """One step of the animation: the canvas after `rows` rows (rows below are 0) and the reader's belief then."""

    rows: int
    canvas: np.ndarray  # (side, side) in {0, 1}
    belief: np.ndarray | None  # (num_classes,) probabilities, None without a reader


def read(reader, digits: np.ndarray) -> np.ndarray | None:
    """Return the reader's class probabilities after each row, (N, side, classes), for digits (N, side, side)."""
    if reader is None:
        return None
    side = reader.config.side
    x = torch.as_tensor(np.asarray(digits, dtype=np.float32)).reshape(-1, 1, side, side)
    return reader.read_rows(x.to(reader.device)).cpu().numpy()


def write_frames(models: Models, label, temperature: float, generator: torch.Generator) -> Iterator[Frame]:
    """Yield a Frame after each row the writer writes (side in all), the reader's belief following the rows."""
    writer = models.writer
    for rows in writer.iter_sample_rows(1, label=label, temperature=temperature, generator=generator):
        t = rows.shape[1]
        canvas = np.zeros((models.side, models.side), dtype=np.float32)
        canvas[:t] = rows[0].cpu().numpy()
        # The reader reads the partial picture, rows not yet written as zeros; it reads top to bottom,
        # so its belief after row t is what it would say had it stopped there.
        belief = read(models.reader, canvas)
        yield Frame(t, canvas, None if belief is None else belief[0, t - 1])


def write_digit(models: Models, label, temperature: float, generator: torch.Generator) -> np.ndarray:
    """Return one written digit (side, side) in {0, 1}: the last frame of write_frames for the same generator."""
    digit = models.writer.sample(1, label=label, temperature=temperature, generator=generator)
    return digit.reshape(models.side, models.side).cpu().numpy()


def check_written_rows(value, side: int) -> np.ndarray:
    """Return the rows written so far as a float32 array (k, side) in {0, 1}, k from 0 to side - 1 (None or [] = none yet)."""
    if value is None:
        return np.zeros((0, side), dtype=np.float32)
    if not isinstance(value, (list, tuple)):
        raise i18n.Sentence("write.check.rows_type", side=side, kind=type(value).__name__)
    if len(value) > side:
        raise i18n.Sentence("write.check.rows_count", side=side, most=side - 1, count=len(value))
    for t, row in enumerate(value):
        if not (isinstance(row, (list, tuple)) and len(row) == side
                and all(isinstance(x, numbers.Real) and not isinstance(x, bool) and x in (0, 1) for x in row)):
            raise i18n.Sentence("write.check.row", row=t, side=side)
    if len(value) == side:
        raise i18n.Sentence("write.check.all_written", side=side)
    return np.asarray(value, dtype=np.float32).reshape(len(value), side)


@dataclass
class Step:
    """One row written by write_step: the probabilities it was drawn from, the pixels, and the log-likelihood so far."""

    row: int  # the row just written, 0 = top
    probabilities: np.ndarray  # (side,) each pixel's p(on) at temperature 1, given the rows above and pixels to its left
    tempered: np.ndarray  # (side,) the same at the chosen temperature: what the pixels were drawn from
    pixels: np.ndarray  # (side,) in {0, 1}
    rows: np.ndarray  # (row + 1, side): every row written so far, this one last
    row_log_likelihood: float  # log p(this row | rows above, class), nats, at temperature 1
    log_likelihood: float  # log p(rows written so far | class), nats: the writer's log_prob once all rows are written
    temperature: float
    belief: np.ndarray | None  # the reader's class probabilities after these rows, None without a reader

    @property
    def done(self) -> bool:
        """Return whether the digit is finished (as many rows as pixels in a row)."""
        return self.row == len(self.pixels) - 1


def write_step(models: Models, rows: np.ndarray, label, temperature: float, seed: int) -> Step:
    """Return the next row below `rows` (k, side) written with `seed`; one seed for every row writes write_digit's digit."""
    step = models.writer.write_row(1, label=label, temperature=temperature, prefix_rows=torch.from_numpy(rows),
                                   generator=generator(seed))
    pixels = step.pixels[0].cpu().numpy()
    written = np.concatenate([rows, pixels[None]]).astype(np.float32)
    canvas = np.zeros((models.side, models.side), dtype=np.float32)
    canvas[:len(written)] = written
    belief = read(models.reader, canvas)
    return Step(step.row, step.probabilities[0].cpu().numpy(), step.tempered[0].cpu().numpy(), pixels, written,
                float(step.row_log_prob[0]), float(step.log_prob[0]), temperature,
                None if belief is None else belief[0, step.row])


def image_to_prompt(image) -> np.ndarray:
    """Return the user's digit prepared as MNIST (side, side) and binarized at PROMPT_THRESHOLD, in {0, 1}.

    `image`: a file path or bytes, a PIL image, an array, or a Sketchpad value (a dict with 'composite').
    """
    if isinstance(image, dict):
        image = image.get("composite")
        if image is None:
            raise i18n.Sentence("write.canvas_empty")
    if isinstance(image, (str, Path, bytes, bytearray)):
        image = load_image_file(image)
    if image is None:
        raise i18n.Sentence("write.no_image")
    grey = prepare_digit(image)[0].numpy()
    return (grey > PROMPT_THRESHOLD).astype(np.float32)


@dataclass
class Completion:
    """Endings of a prompt: the prompt (side, side), rows kept, endings (n, side, side), and the reader's view of each."""

    prompt: np.ndarray
    rows: int
    endings: np.ndarray
    labels: list  # the reader's top class name per ending ("" without a reader)
    probabilities: list  # its probability


def complete(models: Models, prompt: np.ndarray, rows: int, n: int, temperature: float,
             generator: torch.Generator) -> Completion:
    """Return n endings written below the top `rows` rows of `prompt`, each labelled by the reader."""
    side = models.side
    prompt = np.asarray(prompt, dtype=np.float32)
    if prompt.size != side * side:
        raise i18n.Sentence("write.prompt_size", side=side)
    prompt = prompt.reshape(side, side)
    prefix = torch.from_numpy(prompt[:rows].copy())
    endings = models.writer.sample(n, label=None, temperature=temperature, prefix_rows=prefix,
                                   generator=generator).reshape(n, side, side).cpu().numpy()
    beliefs = read(models.reader, endings)
    labels, probabilities = [], []
    for k in range(n):
        if beliefs is None:
            labels.append("")
            probabilities.append(0.0)
            continue
        final = beliefs[k, -1]
        best = int(np.argmax(final))
        labels.append(models.class_names[best] if best < len(models.class_names) else str(best))
        probabilities.append(float(final[best]))
    return Completion(prompt, rows, endings, labels, probabilities)


def side_by_side(registry, models: Models, n: int, generator: torch.Generator) -> tuple[np.ndarray | None, np.ndarray]:
    """Return (n VAE prior samples as pixel probabilities (n, side, side) or None without a VAE, n writer samples in {0,1})."""
    vae = registry.load(models.vae_name) if models.vae_name else None
    with torch.no_grad():
        vae_samples = None
        if vae is not None:
            z = torch.randn((n, vae.config.latent_dim), generator=generator).to(vae.device)
            vae_samples = vae.decode(z)[:, 0].cpu().numpy()
        written = models.writer.sample(n, label=None, generator=generator)[:, 0].cpu().numpy()
    return vae_samples, written


# ---------------------------------------------------------------------- the NLL table
@dataclass
class NllFigures:
    """The NLL table's records (genmodels.likelihood.measure, nats per image) as stored with the checkpoints.

    A record is None when that checkpoint was never measured; `no_vae` says why there is no VAE row.
    """

    writer: dict | None
    vae: dict | None
    no_vae: str = ""


def nll_figures(registry, models: Models) -> NllFigures:
    """Return the writer's and its VAE's stored NLL records: read from their config.json, never measured here
    (the IWAE bound takes seconds to minutes: the trainer and bench/writer_figures.py measure it)."""
    writer = likelihood.stored(registry.config(registry.entry(models.writer_name).path))
    if models.vae_name is None:
        return NllFigures(writer, None, i18n.text("write.no_vae", dataset=models.dataset))
    return NllFigures(writer, likelihood.stored(registry.config(registry.entry(models.vae_name).path)))
