"""The trainer for every model in the package, usable from Python, the CLI and the job runner.

    python -m genmodels.train vae --dataset mnist-5k --epochs 30 --out checkpoints/my-vae
    python -m genmodels.train rnn --dataset mnist-5k --cell gru --epochs 20 --out checkpoints/my-rnn
    python -m genmodels.train vae --out checkpoints/my-vae --epochs 10 --resume   # 10 more epochs

The trainer knows nothing about the model beyond what every model class declares by inheriting
`genmodels.trainable.Trainable`: its training loss, its validation figures and best-epoch rule,
whether it learns binary images, what it logs per epoch and the files its checkpoint carries.
Progress leaves through callbacks (`on_step`, `on_epoch_end`) and a `should_stop()` flag is checked
before every step, so a caller can stop a run within one step. Validation runs every epoch; the
best-on-validation weights are saved with the last epoch's optimizer state so a run can resume.
"""

import argparse
import copy
import dataclasses
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from tqdm import tqdm
from torch.optim.swa_utils import AveragedModel

import i18n

from . import likelihood, settings
from .checkpoints import (TRAINING_STATE_FILE, WEIGHTS_FILE, check_state_dict,
                          flatten_optimizer_state, load_tensor_file, read_config, shown,
                          unflatten_optimizer_state)
from .augment import vary_strokes
from .data import DATASETS, DIGIT_CLASSES, Dataset, augment, binarize, iterate_batches, load_dataset
from .images import resolve_device
from .models import MODEL_TYPES
from .printed import mix_in
from .settings import setting

VALIDATION_SEED = 1234  # the same posterior noise and binarization at every validation


class TrainingDiverged(i18n.Sentence):
    """The loss stopped being a finite number; the message says when and what to try."""


@dataclass
class TrainConfig:
    dataset: str = setting("mnist-5k", "Data set", "the images to learn from (mnist-5k works offline)",
                           choices=DATASETS.keys())
    epochs: int = setting(10, "Epochs", "epochs to run in this call (on resume: epochs to add)", low=1, high=1000)
    batch_size: int = setting(128, "Batch size", "images per optimisation step", low=8, high=4096)
    lr: float = setting(1e-3, "Learning rate", "Adam learning rate", low=1e-6, high=1.0)
    weight_decay: float = setting(0.0, "Weight decay", "decoupled weight decay (AdamW); 0 = plain Adam",
                                  low=0.0, high=1.0)
    lr_schedule: str = setting("constant", "Schedule",
                               "constant, or cosine: each launch and each resume anneals from lr to 0 over its epochs",
                               choices=("constant", "cosine"))
    augment: bool = setting(False, "Augment", "random small rotations, shifts and scales of training images")
    augment_rotation: float = setting(10.0, "Rotation", "augmentation: degrees either way", low=0.0, high=45.0)
    augment_shift: float = setting(2.0, "Shift", "augmentation: pixels either way (0 keeps digits centred)",
                                   low=0.0, high=8.0)
    augment_scale: float = setting(0.1, "Scale", "augmentation: relative size change either way (0 keeps the box)",
                                   low=0.0, high=0.5)
    augment_strokes: bool = setting(False, "Vary strokes", "augmentation: random stroke width and ink contrast "
                                    "(genmodels.augment), for real handwriting")
    augment_printed: float = setting(0.0, "Printed digits",
                                     "digit data sets: the share of each training batch replaced by digits set in "
                                     "type (genmodels.printed): a 1 with a flag and foot, a 4 closed at the top",
                                     low=0.0, high=0.5)
    binarize: bool = setting(False, "Binarize",
                             "VAE: train on Bernoulli samples of the pixels, redrawn every step (validation stays grey)")
    ema_decay: float = setting(0.0, "EMA decay",
                               "above 0: validate and save an exponential moving average of the weights (e.g. 0.999)",
                               low=0.0, high=0.99999, flag="--ema")
    seed: int = setting(0, "Seed", "seed of initialisation, shuffling, augmentation and noise", low=0, high=2**31 - 1)
    device: str = setting("auto", "Device", "auto (CUDA when available), cpu, cuda or cuda:N")
    data_dir: str | None = setting(None, "Data folder", "folder with the raw MNIST-format files (for mnist)")
    eval_batch_size: int = setting(1000, "Validation batch", "images per validation batch", low=1, high=100_000)
    nll_samples: int = setting(likelihood.IWAE_K, "NLL samples",
                               "after the last epoch, measure the NLL on the binarized validation digits (the Write "
                               "tab's table): a VAE's importance samples; 0 measures nothing", low=0, high=10_000)

    def __post_init__(self):
        settings.check(self)
        if self.augment_printed > 0 and DATASETS[self.dataset].class_names != DIGIT_CLASSES:
            raise i18n.Sentence("genmodels.train.printed_needs_digits", dataset=self.dataset)


@dataclass
class TrainResult:
    """What a run leaves behind: the best model and the per-epoch history."""

    model: torch.nn.Module
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_metrics: dict = field(default_factory=dict)
    stopped: bool = False  # True when should_stop() ended the run early
    out: object = None  # the checkpoint folder written each epoch, if any
    nll: dict | None = None  # the best model's likelihood.measure record, measured after the last epoch


def _ema_with_warmup(decay: float) -> Callable:
    """Return an AveragedModel avg_fn: an exponential moving average whose decay grows from 0.1 to `decay`.

    The usual warm-up ((1 + n) / (10 + n)), so the random initial weights fade within the first
    steps instead of lingering for 1 / (1 - decay) of them.
    """
    def average(averaged: torch.Tensor, current: torch.Tensor, num_averaged: torch.Tensor) -> torch.Tensor:
        rate = torch.clamp((1 + num_averaged) / (10 + num_averaged), max=decay).to(averaged.device)
        return averaged + (current - averaged) * (1 - rate)
    return average


class Trainer:
    """Runs epochs of one model on one in-memory data set; reports through callbacks."""

    def __init__(self, model, config: TrainConfig, data: Dataset, out=None, save_training_state=True):
        self.model = model
        self.config = config
        self.data = data
        self.out = out
        self.save_training_state = save_training_state
        self.device = model.device
        opt_cls = torch.optim.AdamW if config.weight_decay > 0 else torch.optim.Adam
        # fused=True: one kernel for the whole update instead of a dozen per tensor (bench/train_speed.py).
        self.optimizer = opt_cls(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=True)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.callbacks: dict[str, list[Callable]] = {"on_step": [], "on_epoch_end": []}
        self.start_epoch = 0  # epochs already done (non-zero after resume)
        self.total_epochs = config.epochs
        self.history: list[dict] = []
        self.best_state = None
        self.best_metrics: dict = {}
        self.best_epoch = 0
        self.steps_done = 0
        # Polyak averaging: the averaged weights generalise better than the last iterate when a
        # small data set is overfitted; they are what gets validated and saved.
        self.ema = AveragedModel(model, avg_fn=_ema_with_warmup(config.ema_decay)) if config.ema_decay > 0 else None
        self.scheduler = None  # made by run(): one cosine cycle per launch or resume
        self.nll: dict | None = None  # the best model's NLL record (likelihood.measure), after the last epoch

    def add_callback(self, event: str, fn: Callable) -> None:
        """Register fn(trainer, info) for 'on_step' or 'on_epoch_end'."""
        self.callbacks[event].append(fn)

    def _trigger(self, event: str, info: dict) -> None:
        for fn in self.callbacks[event]:
            fn(self, info)

    @property
    def eval_model(self):
        """The weights that are validated and saved: the moving average when enabled."""
        return self.ema.module if self.ema is not None else self.model

    @property
    def binary_training(self) -> bool:
        """True when training batches are Bernoulli draws of the pixels: the model learns binary images,
        or it offers binarized training and the config asks for it."""
        return self.model.binary_data or (self.config.binarize and self.model.binarize_option)

    def train_epoch(self, epoch: int, should_stop: Callable[[], bool]) -> dict[str, float] | None:
        """Run one pass over the training data; return mean train metrics, or None if stopped mid-epoch."""
        c, data = self.config, self.data
        self.model.train()
        steps_per_epoch = math.ceil(len(data.train_x) / c.batch_size)
        sums: dict[str, float] = {}
        seen = 0
        batches = iterate_batches(data.train_x, data.train_y, c.batch_size, shuffle=True, generator=self.generator)
        for step, (xb, yb) in enumerate(batches):
            if should_stop():
                return None
            if c.augment_printed > 0:
                xb, yb = mix_in(xb, yb, c.augment_printed, self.generator)
            if c.augment:
                xb = augment(xb, self.generator, max_rotation=c.augment_rotation, max_shift=c.augment_shift,
                             scale_range=(1 - c.augment_scale, 1 + c.augment_scale))
            if c.augment_strokes:
                xb = vary_strokes(xb, self.generator)
            if self.binary_training:
                xb = binarize(xb, self.generator)
            parts = self.model.training_loss(xb, yb, epoch + step / steps_per_epoch)
            self.optimizer.zero_grad(set_to_none=True)
            parts["loss"].backward()
            values = {key: value.item() for key, value in parts.items()}  # one device sync per value
            if not math.isfinite(values["loss"]):
                raise TrainingDiverged("genmodels.train.diverged", epoch=epoch + 1, loss=str(values["loss"]))
            self.optimizer.step()
            if self.scheduler is not None:
                self.scheduler.step()
            if self.ema is not None:
                self.ema.update_parameters(self.model)
            self.steps_done += 1
            n = len(xb)
            seen += n
            for key, value in values.items():
                sums[key] = sums.get(key, 0.0) + value * n
            self._trigger("on_step", {"epoch": epoch + 1, "step": step + 1,
                                      "steps_per_epoch": steps_per_epoch, "loss": values["loss"]})
        return {f"train_{k}": v / seen for k, v in sums.items()}

    def _make_scheduler(self):
        if self.config.lr_schedule != "cosine":
            return None
        # A warm restart per launch or resume (Loshchilov & Hutter, SGDR, arXiv:1608.03983): the
        # cycle starts at the configured rate and reaches 0 at the end of this call's epochs.
        for group in self.optimizer.param_groups:
            group["lr"] = group["initial_lr"] = self.config.lr
        steps = (self.total_epochs - self.start_epoch) * math.ceil(len(self.data.train_x) / self.config.batch_size)
        return torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=max(1, steps))

    def run(self, should_stop: Callable[[], bool] | None = None) -> TrainResult:
        """Train for config.epochs more epochs (or until should_stop()); return the best model."""
        should_stop = should_stop or (lambda: False)
        stopped = False
        self.scheduler = self._make_scheduler()
        for epoch in range(self.start_epoch, self.total_epochs):
            started = time.perf_counter()
            train_metrics = self.train_epoch(epoch, should_stop)
            if train_metrics is None:
                stopped = True  # the partial epoch is dropped; the last saved epoch stands
                break
            metrics = {"epoch": epoch + 1, "lr": self.optimizer.param_groups[0]["lr"], **train_metrics}
            metrics.update(evaluate(self.eval_model, self.data.val_x, self.data.val_y, self.config.eval_batch_size,
                                    binary=self.model.binary_data))
            if not all(math.isfinite(v) for k, v in metrics.items() if k.startswith("val_")):
                raise TrainingDiverged("genmodels.train.diverged_validation", epoch=epoch + 1)
            metrics["seconds"] = time.perf_counter() - started
            metrics.update(self.model.epoch_log(epoch + 1))
            self.history.append(metrics)
            improved = self.best_epoch == 0 or is_better(type(self.model), metrics, self.best_metrics)
            if improved:
                self.best_metrics, self.best_epoch = metrics, epoch + 1
                self.best_state = copy.deepcopy(self.eval_model.state_dict())
            self.start_epoch = epoch + 1
            if (self.start_epoch == self.total_epochs and self.config.nll_samples > 0
                    and likelihood.measurable(self.model)):
                # Measured once, on the weights the run keeps, so that no reader of the checkpoint
                # has to (the Write tab's table shows it); a stop request skips it.
                self.nll = likelihood.measure(self.best_model(), self.data, should_stop, k=self.config.nll_samples)
                stopped = self.nll is None
            if self.out:
                self.save(self.out)
            self._trigger("on_epoch_end", {**metrics, "improved": improved, "total_epochs": self.total_epochs})
        return TrainResult(model=self.best_model(), history=self.history, best_epoch=self.best_epoch,
                           best_metrics=self.best_metrics, stopped=stopped, out=self.out, nll=self.nll)

    # -- checkpoints ---------------------------------------------------------------------
    def best_model(self):
        """Return a copy of the model holding the best-on-validation weights so far, in eval mode."""
        best = copy.deepcopy(self.eval_model)
        if self.best_state is not None:
            best.load_state_dict(self.best_state)
        return best.eval()

    def save(self, folder):
        """Write the best weights, the model's extra files (the VAE's latent analysis) and the resume state to `folder`."""
        best = self.best_model()
        metadata = {
            "dataset": self.data.name,
            "class_names": self.data.class_names,
            "data": self.data.summary(),
            "training": dataclasses.asdict(self.config),
            "epochs_trained": self.start_epoch,
            "best_epoch": self.best_epoch,
            "metrics": dict(self.best_metrics),
            "history": self.history,
        }
        if self.nll is not None:
            metadata[likelihood.NLL_KEY] = self.nll
        extra = best.checkpoint_files(self.data.val_x, self.data.val_y, len(self.data.class_names))
        if self.save_training_state:
            tensors, meta = flatten_optimizer_state(self.optimizer.state_dict())
            tensors.update({f"model.{k}": v for k, v in self.model.state_dict().items()})
            if self.ema is not None:
                tensors.update({f"ema.{k}": v for k, v in self.ema.state_dict().items()})
            extra[TRAINING_STATE_FILE] = tensors
            metadata["resume"] = {"optimizer": meta, "epoch": self.start_epoch, "steps": self.steps_done,
                                  "generator_state": self.generator.get_state().tolist()}
        return best.save_pretrained(folder, metadata=metadata, extra_files=extra)

    def load_resume_state(self, folder) -> None:
        """Continue from a checkpoint folder: last weights, optimizer, moving average, history, best so far."""
        config = read_config(folder)
        if "resume" not in config:
            raise i18n.Sentence("genmodels.train.no_resume_state", folder=shown(folder), file=TRAINING_STATE_FILE)
        tensors = load_tensor_file(folder, TRAINING_STATE_FILE, config)
        weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
        check_state_dict(self.model, weights, f"{folder}/{TRAINING_STATE_FILE}")
        self.model.load_state_dict(weights)
        if self.ema is not None:
            averaged = {k[len("ema."):]: v for k, v in tensors.items() if k.startswith("ema.")}
            if averaged:
                self.ema.load_state_dict(averaged)
            else:  # the run had no moving average before: start one from the current weights
                self.ema.update_parameters(self.model)
        self.optimizer.load_state_dict(unflatten_optimizer_state(tensors, config["resume"]["optimizer"]))
        for group in self.optimizer.param_groups:  # the new run's settings win over the saved ones
            group["lr"], group["weight_decay"] = self.config.lr, self.config.weight_decay
        best = load_tensor_file(folder, WEIGHTS_FILE, config)
        self.best_state = {k: v.to(self.device) for k, v in best.items()}
        self.best_metrics = config.get("metrics", {})
        self.best_epoch = config.get("best_epoch", 0)
        self.history = list(config.get("history", []))
        self.start_epoch = config["resume"]["epoch"]
        self.steps_done = config["resume"].get("steps", 0)
        self.total_epochs = self.start_epoch + self.config.epochs
        state = config["resume"].get("generator_state")
        if state is not None:
            self.generator.set_state(torch.tensor(state, dtype=torch.uint8))


def is_better(model_class, metrics: dict, best: dict) -> bool:
    """Return True when validation `metrics` beat `best` by the model class's rule (its selection_score)."""
    return model_class.selection_score(metrics) < model_class.selection_score(best)


def best_epoch(model_class, history: list[dict]) -> dict | None:
    """Return the epoch record of `history` that the trainer keeps as best (None for an empty history)."""
    best = None
    for metrics in history:
        if best is None or is_better(model_class, metrics, best):
            best = metrics
    return best


@torch.no_grad()
def evaluate(model, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000, binary: bool = False) -> dict[str, float]:
    """Return mean metrics on uint8 images x (N,side,side), each key prefixed 'val_'.

    VAE: val_nelbo, val_recon, val_kl in nats per image; RowRNN: val_loss (nats) and val_accuracy.
    With `binary`, the images are one fixed Bernoulli draw (the binarized-MNIST protocol).
    """
    was_training = model.training
    model.eval()
    sums: dict[str, float] = {}
    devices = [model.device] if model.device.type == "cuda" else []
    # The same posterior samples every evaluation (epochs compare fairly), without disturbing
    # the training run's random stream on the CPU or the GPU.
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(VALIDATION_SEED)
        generator = torch.Generator().manual_seed(VALIDATION_SEED)
        try:
            for xb, yb in iterate_batches(x, y, batch_size):
                xb, yb = xb.to(model.device), yb.to(model.device)
                if binary:
                    xb = binarize(xb, generator)
                for key, value in model.loss(xb, yb).items():
                    sums[key] = sums.get(key, 0.0) + value.item() * len(xb)
        finally:
            model.train(was_training)
    return {f"val_{k}": v / len(x) for k, v in sums.items()}


def fit_to_data(model_config, data: Dataset):
    """Return `model_config` with its data-shaped settings (image side, number of classes) taken from `data`.

    A setting left at its default follows the data set, so one config serves data sets of any side
    and class count; a setting chosen otherwise that disagrees with the data is a ValueError.
    """
    shape = {"side": ("image side", data.side), "num_classes": ("classes", len(data.class_names))}
    changes = {}
    for f in dataclasses.fields(model_config):
        if f.name not in shape:
            continue
        _, wanted = shape[f.name]
        value = getattr(model_config, f.name)
        if value == f.default:
            changes[f.name] = wanted
        elif value != wanted:
            raise i18n.Sentence(f"genmodels.train.misfit.{f.name}", value=value, dataset=data.name, wanted=wanted)
    return dataclasses.replace(model_config, **changes) if changes else model_config


def build_trainer(model_type: str, model_config=None, train_config: TrainConfig | None = None, out=None,
                  resume=False, data: Dataset | None = None, save_training_state=True) -> Trainer:
    """Return a ready Trainer: data loaded on the device, model built (or restored with resume=True)."""
    if model_type not in MODEL_TYPES:
        raise i18n.Sentence("genmodels.train.unknown_model_type", model_type=str(model_type)[:20],
                            choices=", ".join(MODEL_TYPES))
    model_cls = MODEL_TYPES[model_type]
    train_config = train_config or TrainConfig()
    model_config = model_config or model_cls.config_class()
    device = resolve_device(train_config.device)
    torch.manual_seed(train_config.seed)
    if resume:
        if out is None:
            raise i18n.Sentence("genmodels.train.resume_needs_out")
        saved = read_config(out)
        if saved["model_type"] != model_type:
            raise i18n.Sentence("genmodels.train.resume_other_type", out=shown(out), found=saved["model_type"],
                                wanted=model_type)
        model_config = model_cls.config_class(**saved["model"])
        if saved.get("dataset") and saved["dataset"] != train_config.dataset:
            raise i18n.Sentence("genmodels.train.resume_other_data", out=shown(out), dataset=saved["dataset"])
    if data is None:
        data = load_dataset(train_config.dataset, device=device, data_dir=train_config.data_dir)
    else:
        data = data.to(device)
    model_config = fit_to_data(model_config, data)
    model = model_cls(model_config).to(device)
    trainer = Trainer(model, train_config, data, out=out, save_training_state=save_training_state)
    if resume:
        trainer.load_resume_state(out)
    return trainer


def train(model_type: str, model_config=None, train_config: TrainConfig | None = None, out=None,
          resume=False, on_step=None, on_epoch_end=None, should_stop=None, data=None,
          save_training_state=True) -> TrainResult:
    """Train a model of `model_type` and return the TrainResult (best model, history); saves to `out` each epoch."""
    trainer = build_trainer(model_type, model_config, train_config, out=out, resume=resume, data=data,
                            save_training_state=save_training_state)
    if on_step:
        trainer.add_callback("on_step", on_step)
    if on_epoch_end:
        trainer.add_callback("on_epoch_end", on_epoch_end)
    return trainer.run(should_stop)


# -- command line ------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """Return the CLI parser: one sub-command per model type, every flag built from the configs' settings."""
    parser = argparse.ArgumentParser(prog="python -m genmodels.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="model", required=True, metavar="MODEL")
    for name, model_cls in MODEL_TYPES.items():
        sub = commands.add_parser(name, help=(model_cls.__doc__ or "").strip().splitlines()[0])
        sub.add_argument("--out", required=True, help="checkpoint folder to write (created or replaced)")
        sub.add_argument("--resume", action="store_true", help="continue the run saved in --out for --epochs more")
        sub.add_argument("--no-resume-state", action="store_true",
                         help="do not store optimizer state (smaller folder; the run cannot be resumed)")
        settings.add_arguments(sub.add_argument_group("training"), TrainConfig)
        settings.add_arguments(sub.add_argument_group(name), model_cls.config_class)
    return parser


def configs_from_args(args: argparse.Namespace) -> tuple:
    """Return (model_config, train_config) built from parsed CLI arguments."""
    model_cls = MODEL_TYPES[args.model]
    return settings.from_arguments(model_cls.config_class, args), settings.from_arguments(TrainConfig, args)


def _format(metrics: dict) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in metrics.items() if k.startswith("val_"))


def main(argv=None) -> int:
    """Run the command line; return the exit code (0 done, 2 bad settings, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    try:
        model_config, train_config = configs_from_args(args)
        trainer = build_trainer(args.model, model_config, train_config, out=args.out, resume=args.resume,
                                save_training_state=not args.no_resume_state)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(trainer.data.summary(), f"on {trainer.device}", file=sys.stderr)
    steps = math.ceil(len(trainer.data.train_x) / train_config.batch_size)
    bar = tqdm(total=(trainer.total_epochs - trainer.start_epoch) * steps, unit="step", dynamic_ncols=True)
    trainer.add_callback("on_step", lambda t, info: (bar.update(1), bar.set_postfix(loss=f"{info['loss']:.4g}")))
    trainer.add_callback("on_epoch_end", lambda t, m: bar.write(
        f"epoch {m['epoch']}/{m['total_epochs']}: {_format(m)} ({m['seconds']:.1f}s){' *' if m['improved'] else ''}"))
    try:
        result = trainer.run()
    except KeyboardInterrupt:
        bar.close()
        print(f"interrupted; the last completed epoch is saved in {args.out}", file=sys.stderr)
        return 130
    except TrainingDiverged as e:
        bar.close()
        print(f"error: {e}", file=sys.stderr)
        return 1
    bar.close()
    print(f"best epoch {result.best_epoch}: {_format(result.best_metrics)}; saved to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
