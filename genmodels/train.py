"""Training loops for the VAE and the RowRNN, usable from Python, the CLI and the job runner.

    python -m genmodels.train vae --dataset mnist-5k --epochs 30 --out checkpoints/my-vae
    python -m genmodels.train rnn --dataset mnist-5k --cell gru --epochs 20 --out checkpoints/my-rnn
    python -m genmodels.train vae --out checkpoints/my-vae --epochs 10 --resume   # 10 more epochs

The trainer knows nothing about the UI: progress leaves through callbacks (`on_step`,
`on_epoch_end`) and a `should_stop()` flag is checked before every step, so a caller can stop
a run within one step. Validation runs every epoch; the best-on-validation weights are saved
with the last epoch's optimizer state so a run can resume.
"""

import argparse
import copy
import dataclasses
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from . import latent, precision, vae_step
from .checkpoints import (LATENT_FILE, TRAINING_STATE_FILE, WEIGHTS_FILE, check_state_dict,
                          flatten_optimizer_state, load_tensor_file, read_config,
                          unflatten_optimizer_state)
from .data import DATASETS, Dataset, augment, iterate_batches, load_dataset
from .images import resolve_device
from .rnn import CELLS, RowRNN, RowRNNConfig
from .vae import LIKELIHOODS, VAE, VAEConfig

MODEL_TYPES = {"vae": (VAE, VAEConfig), "rnn": (RowRNN, RowRNNConfig)}
MAX_EPOCHS = 1000


@dataclass
class TrainConfig:
    dataset: str = "mnist-5k"  # a name from genmodels.data.DATASETS
    epochs: int = 10  # epochs to run in this call (on resume: epochs to add)
    batch_size: int = 128
    lr: float = 1e-3  # Adam learning rate
    weight_decay: float = 0.0  # decoupled weight decay (AdamW); 0 = plain Adam
    lr_schedule: str = "constant"  # "constant" or "cosine" (decays to 0 over the run's epochs)
    augment: bool = False  # random small rotations/shifts/scales of training images
    augment_rotation: float = 10.0  # degrees, either way
    augment_shift: float = 2.0  # pixels, either way (0 keeps digits centred by centre of mass)
    augment_scale: float = 0.1  # relative, either way (0 keeps MNIST's 20-pixel box)
    binarize: bool = False  # VAE: train on Bernoulli samples of the pixels, redrawn every step
    ema_decay: float = 0.0  # >0: validate and save an exponential moving average of the weights
    seed: int = 0
    device: str = "auto"  # "auto" = CUDA when available, else CPU
    matmul_precision: str = "auto"  # training products: "fp32", "bf16" (CPU AMX) or "auto" (bf16 where AMX exists)
    data_dir: str | None = None  # folder with raw MNIST-format files (for 'mnist')
    eval_batch_size: int = 1000

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ValueError(f"Unknown data set {self.dataset!r}; choose one of {', '.join(DATASETS)}.")
        if not 1 <= self.epochs <= MAX_EPOCHS:
            raise ValueError(f"epochs must be between 1 and {MAX_EPOCHS}, got {self.epochs}.")
        if not 1 <= self.batch_size <= 8192:
            raise ValueError(f"batch_size must be between 1 and 8192, got {self.batch_size}.")
        if not (0 < self.lr <= 1) or math.isnan(self.lr):
            raise ValueError(f"lr must be in (0, 1], got {self.lr}.")
        if not 0 <= self.weight_decay <= 1:
            raise ValueError(f"weight_decay must be in [0, 1], got {self.weight_decay}.")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}.")
        if not (0 <= self.augment_rotation <= 45 and 0 <= self.augment_shift <= 8 and 0 <= self.augment_scale <= 0.5):
            raise ValueError("Augmentation must stay small: rotation 0-45 degrees, shift 0-8 pixels, scale 0-0.5.")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {self.lr_schedule!r}.")
        if self.matmul_precision not in precision.MATMUL_PRECISIONS:
            raise ValueError(f"matmul_precision must be one of {precision.MATMUL_PRECISIONS}, "
                             f"got {self.matmul_precision!r}.")


@dataclass
class TrainResult:
    """What a run leaves behind: the best model and the per-epoch history."""

    model: torch.nn.Module
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_metrics: dict = field(default_factory=dict)
    stopped: bool = False  # True when should_stop() ended the run early
    out: Path | None = None


class Trainer:
    """Runs epochs of one model on one in-memory data set; reports through callbacks."""

    def __init__(self, model, config: TrainConfig, data: Dataset, out=None, save_training_state=True):
        self.model = model
        self.config = config
        self.data = data
        self.out = Path(out) if out else None
        self.save_training_state = save_training_state
        self.device = model.device
        self.matmul_precision = precision.resolve(config.matmul_precision, self.device)  # "fp32" or "bf16"
        self.is_vae = isinstance(model, VAE)
        opt_cls = torch.optim.AdamW if config.weight_decay > 0 else torch.optim.Adam
        # fused=True: one kernel for the whole update instead of a dozen per tensor; it took the
        # optimisation steps of a digit-VAE epoch from 175 to ~130 ms on the CPU (the "floor" line
        # of bench/train_speed.py before and after).
        self.optimizer = opt_cls(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=True)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.callbacks: dict[str, list[Callable]] = {"on_step": [], "on_epoch_end": []}
        self.start_epoch = 0  # epochs already done (non-zero after resume)
        self.history: list[dict] = []
        self.best_state = None
        self.best_metrics: dict = {}
        self.best_epoch = 0
        self.total_epochs = config.epochs
        # Polyak averaging: the averaged weights generalise better than the last iterate when a
        # small data set is overfitted; they are what gets validated and saved.
        self.ema = copy.deepcopy(model).requires_grad_(False) if config.ema_decay > 0 else None
        self.steps_done = 0
        # The VAE's gradients are derived by hand (same objective, 10-13% shorter epochs: see
        # genmodels/vae_step.py); set False to train through autograd instead.
        self.hand_written_backward = vae_step.supports(model)

    def add_callback(self, event: str, fn: Callable) -> None:
        """Register fn(trainer, info) for 'on_step' or 'on_epoch_end'."""
        self.callbacks[event].append(fn)

    def _trigger(self, event: str, info: dict) -> None:
        for fn in self.callbacks[event]:
            fn(self, info)

    # -- the model-specific parts ---------------------------------------------------------
    def _kl_weight(self, epoch_progress: float) -> float:
        c = self.model.config
        if c.kl_warmup_epochs <= 0:
            return c.beta
        return c.beta * min(1.0, epoch_progress / c.kl_warmup_epochs)

    def _loss_and_gradients(self, xb, yb, epoch_progress: float) -> dict:
        """Return the step's loss parts (tensors) with every parameter's .grad set for this batch."""
        if self.is_vae and self.hand_written_backward:
            return vae_step.loss_and_gradients(self.model, xb, kl_weight=self._kl_weight(epoch_progress))
        if self.is_vae:
            parts = self.model.loss(xb, kl_weight=self._kl_weight(epoch_progress))
        else:
            parts = self.model.loss(xb, yb)
        self.optimizer.zero_grad(set_to_none=True)
        parts["loss"].backward()
        return parts

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        """Return mean validation metrics over (x, y) with a fixed noise seed (VAE) so epochs compare fairly."""
        return evaluate(self.eval_model, x, y, self.config.eval_batch_size)

    def _is_better(self, metrics: dict) -> bool:
        if not self.best_metrics:
            return True
        if self.is_vae:
            return metrics["val_nelbo"] < self.best_metrics["val_nelbo"]
        return (metrics["val_accuracy"], -metrics["val_loss"]) > (
            self.best_metrics["val_accuracy"], -self.best_metrics["val_loss"])

    # -- the loop ------------------------------------------------------------------------
    def _lr_at(self, epoch_progress: float) -> float:
        if self.config.lr_schedule == "cosine":
            return 0.5 * self.config.lr * (1 + math.cos(math.pi * epoch_progress / self.total_epochs))
        return self.config.lr

    @torch.no_grad()
    def _update_ema(self) -> None:
        self.steps_done += 1
        if self.ema is None:
            return
        # The usual warm-up (decay grows from 0.1 towards ema_decay) so early weights fade fast.
        decay = min(self.config.ema_decay, (1 + self.steps_done) / (10 + self.steps_done))
        for averaged, current in zip(self.ema.parameters(), self.model.parameters()):
            averaged.lerp_(current, 1 - decay)

    @property
    def eval_model(self):
        """The weights that are validated and saved: the moving average when enabled."""
        return self.ema if self.ema is not None else self.model

    def train_epoch(self, epoch: int, should_stop: Callable[[], bool]) -> dict[str, float] | None:
        """Run one pass over the training data; return mean train metrics, or None if stopped mid-epoch."""
        c, data = self.config, self.data
        self.model.train()
        steps_per_epoch = math.ceil(len(data.train_x) / c.batch_size)
        sums: dict[str, float] = {}
        seen = 0
        batches = iterate_batches(data.train_x, data.train_y, c.batch_size, shuffle=True,
                                  generator=self.generator)
        for step, (xb, yb) in enumerate(batches):
            if should_stop():
                return None
            progress = epoch + step / steps_per_epoch
            for group in self.optimizer.param_groups:
                group["lr"] = self._lr_at(progress)
            if c.augment:
                xb = augment(xb, self.generator, max_rotation=c.augment_rotation, max_shift=c.augment_shift,
                             scale_range=(1 - c.augment_scale, 1 + c.augment_scale))
            if c.binarize and self.is_vae:
                # Dynamic binarization: BCE is linear in the target, so this is an unbiased,
                # noisier estimate of the same loss; the noise fights overfitting on small data.
                xb = (torch.rand(xb.shape, generator=self.generator).to(xb.device) < xb).float()
            with precision.matmul_precision(self.matmul_precision):
                parts = self._loss_and_gradients(xb, yb, progress)
            self.optimizer.step()
            self._update_ema()
            n = len(xb)
            seen += n
            values = {key: value.item() for key, value in parts.items()}  # one device sync per value
            for key, value in values.items():
                sums[key] = sums.get(key, 0.0) + value * n
            self._trigger("on_step", {"epoch": epoch + 1, "step": step + 1,
                                      "steps_per_epoch": steps_per_epoch, "loss": values["loss"]})
        return {f"train_{k}": v / seen for k, v in sums.items()}

    def run(self, should_stop: Callable[[], bool] | None = None) -> TrainResult:
        """Train for config.epochs more epochs (or until should_stop()); return the best model."""
        should_stop = should_stop or (lambda: False)
        stopped = False
        for epoch in range(self.start_epoch, self.total_epochs):
            started = time.perf_counter()
            train_metrics = self.train_epoch(epoch, should_stop)
            if train_metrics is None:
                stopped = True  # the partial epoch is dropped; the last saved epoch stands
                break
            self.model.eval()
            metrics = {"epoch": epoch + 1, "lr": self._lr_at(epoch + 1), **train_metrics}
            metrics.update(self.evaluate(self.data.val_x, self.data.val_y))
            metrics["seconds"] = time.perf_counter() - started
            if self.is_vae:
                metrics["kl_weight"] = self._kl_weight(epoch + 1)
            self.history.append(metrics)
            improved = self._is_better(metrics)
            if improved:
                self.best_metrics, self.best_epoch = metrics, epoch + 1
                self.best_state = copy.deepcopy(self.eval_model.state_dict())
            self.start_epoch = epoch + 1
            if self.out:
                self.save(self.out)
            self._trigger("on_epoch_end", {**metrics, "improved": improved, "total_epochs": self.total_epochs})
        return TrainResult(model=self.best_model(), history=self.history, best_epoch=self.best_epoch,
                           best_metrics=self.best_metrics, stopped=stopped, out=self.out)

    # -- checkpoints ---------------------------------------------------------------------
    def best_model(self):
        """Return a copy of the model holding the best-on-validation weights so far, in eval mode."""
        best = copy.deepcopy(self.model)
        if self.best_state is not None:
            best.load_state_dict(self.best_state)
        return best.eval()

    def save(self, folder) -> Path:
        """Write the best weights, the latent analysis (VAE) and the resume state to `folder`."""
        best = self.best_model()
        metadata = {
            "dataset": self.data.name,
            "class_names": self.data.class_names,
            "data": self.data.summary(),
            # "auto" is recorded as chosen, beside what it resolved to on this machine.
            "training": {**dataclasses.asdict(self.config), "matmul_precision_used": self.matmul_precision},
            "epochs_trained": self.start_epoch,
            "best_epoch": self.best_epoch,
            "metrics": {k: v for k, v in self.best_metrics.items()},
            "history": self.history,
        }
        extra = {}
        if self.is_vae:
            extra[LATENT_FILE] = latent.analyze(best, self.data.val_x, self.data.val_y,
                                                num_classes=len(self.data.class_names))
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
        """Continue from a checkpoint folder: last weights, optimizer, history, best so far."""
        config = read_config(folder)
        if "resume" not in config:
            raise ValueError(f"{folder} has no {TRAINING_STATE_FILE}: it was saved without resume state.")
        tensors = load_tensor_file(folder, TRAINING_STATE_FILE, config)
        weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
        check_state_dict(self.model, weights, str(Path(folder) / TRAINING_STATE_FILE))
        self.model.load_state_dict(weights)
        if self.ema is not None:
            averaged = {k[len("ema."):]: v for k, v in tensors.items() if k.startswith("ema.")}
            self.ema.load_state_dict(averaged if averaged else weights)
        self.optimizer.load_state_dict(unflatten_optimizer_state(tensors, config["resume"]["optimizer"]))
        for group in self.optimizer.param_groups:  # the new run's settings win over the saved ones
            group["weight_decay"] = self.config.weight_decay
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


@torch.no_grad()
def evaluate(model, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> dict[str, float]:
    """Return mean metrics on uint8 images x (N,28,28).

    VAE: val_nelbo, val_recon, val_kl in nats per image; RowRNN: val_loss (nats) and val_accuracy.
    """
    was_training = model.training
    model.eval()
    sums: dict[str, float] = {}
    devices = [model.device] if model.device.type == "cuda" else []
    # The same posterior samples every evaluation (epochs compare fairly), without disturbing
    # the training run's random stream on the CPU or the GPU.
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(1234)
        try:
            for xb, yb in iterate_batches(x, y, batch_size):
                xb = xb.to(model.device)
                parts = model.loss(xb) if isinstance(model, VAE) else model.loss(xb, yb.to(model.device))
                for key, value in parts.items():
                    if key == "loss" and isinstance(model, VAE):
                        continue  # the weighted training objective; nelbo is the comparable figure
                    sums[key] = sums.get(key, 0.0) + value.item() * len(xb)
        finally:
            model.train(was_training)
    return {f"val_{k}": v / len(x) for k, v in sums.items()}


def build_trainer(model_type: str, model_config, train_config: TrainConfig, out=None, resume=False,
                  data: Dataset | None = None, save_training_state=True) -> Trainer:
    """Return a ready Trainer: data loaded on the device, model built (or restored with resume=True)."""
    if model_type not in MODEL_TYPES:
        raise ValueError(f"Unknown model type {model_type!r}; choose 'vae' or 'rnn'.")
    model_cls, _ = MODEL_TYPES[model_type]
    device = resolve_device(train_config.device)
    torch.manual_seed(train_config.seed)
    if resume:
        if out is None:
            raise ValueError("Resuming needs the checkpoint folder (--out) of the run to continue.")
        saved = read_config(out)
        if saved["model_type"] != model_type:
            raise ValueError(f"{out} holds a {saved['model_type']!r} run, not {model_type!r}.")
        model_config = model_cls.config_class(**saved["model"])
        if saved.get("dataset") and saved["dataset"] != train_config.dataset:
            raise ValueError(f"{out} was trained on {saved['dataset']!r}; resume it with that data set.")
    if data is None:
        data = load_dataset(train_config.dataset, device=device, data_dir=train_config.data_dir)
    else:
        data = data.to(device)
    if model_type == "rnn" and model_config.num_classes != len(data.class_names):
        raise ValueError(f"The RNN has {model_config.num_classes} classes, the data set {len(data.class_names)}.")
    model = model_cls(model_config).to(device)
    trainer = Trainer(model, train_config, data, out=out, save_training_state=save_training_state)
    if resume:
        trainer.load_resume_state(out)
    return trainer


def train(model_type: str, model_config=None, train_config: TrainConfig | None = None, out=None,
          resume=False, on_step=None, on_epoch_end=None, should_stop=None, data=None,
          save_training_state=True) -> TrainResult:
    """Train a 'vae' or 'rnn' and return the TrainResult (best model, history); saves to `out` each epoch."""
    train_config = train_config or TrainConfig()
    if model_config is None:
        model_config = MODEL_TYPES[model_type][1]() if model_type in MODEL_TYPES else None
    trainer = build_trainer(model_type, model_config, train_config, out=out, resume=resume, data=data,
                            save_training_state=save_training_state)
    if on_step:
        trainer.add_callback("on_step", on_step)
    if on_epoch_end:
        trainer.add_callback("on_epoch_end", on_epoch_end)
    return trainer.run(should_stop)


# -- command line ------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """Return the CLI parser (shared with the job runner's --background path)."""
    p = argparse.ArgumentParser(prog="python -m genmodels.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=sorted(MODEL_TYPES))
    p.add_argument("--out", required=True, help="checkpoint folder to write (created or replaced)")
    p.add_argument("--dataset", default="mnist-5k", choices=DATASETS)
    p.add_argument("--data-dir", default=None, help="folder with the raw MNIST-format files")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant")
    p.add_argument("--augment", action="store_true", help="random rotations/shifts/scales of training images")
    p.add_argument("--augment-rotation", type=float, default=10.0, help="degrees either way")
    p.add_argument("--augment-shift", type=float, default=2.0, help="pixels either way")
    p.add_argument("--augment-scale", type=float, default=0.1, help="relative size change either way")
    p.add_argument("--binarize", action="store_true",
                   help="VAE: train on Bernoulli samples of the pixels, redrawn every step")
    p.add_argument("--ema", type=float, default=0.0, dest="ema_decay",
                   help="decay of a moving average of the weights that is validated and saved (e.g. 0.999)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda, cuda:1 ...")
    p.add_argument("--matmul-precision", choices=precision.MATMUL_PRECISIONS, default="auto",
                   help="precision of the training steps' matrix products: bf16 needs a CPU with AMX; "
                        "auto uses it where available, else fp32")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out for --epochs more")
    p.add_argument("--no-resume-state", action="store_true",
                   help="do not store optimizer state (smaller folder; the run cannot be resumed)")
    p.add_argument("--background", action="store_true",
                   help="run through the job runner (own process, listed in the app's Train tab)")
    vae = p.add_argument_group("VAE")
    vae.add_argument("--latent-dim", type=int, default=20)
    vae.add_argument("--hidden-dim", type=int, default=400)
    vae.add_argument("--likelihood", choices=LIKELIHOODS, default="bernoulli")
    vae.add_argument("--beta", type=float, default=1.0)
    vae.add_argument("--kl-warmup", type=int, default=0, help="epochs of linear KL warm-up")
    vae.add_argument("--vae-dropout", type=float, default=0.0, help="dropout on the hidden layers")
    rnn = p.add_argument_group("RowRNN")
    rnn.add_argument("--cell", choices=sorted(CELLS), default="rnn")
    rnn.add_argument("--hidden-size", type=int, default=128)
    rnn.add_argument("--layers", type=int, default=1)
    rnn.add_argument("--dropout", type=float, default=0.0)
    return p


def configs_from_args(args) -> tuple:
    """Return (model_config, train_config) built from parsed CLI arguments."""
    if args.model == "vae":
        model_config = VAEConfig(latent_dim=args.latent_dim, hidden_dim=args.hidden_dim,
                                 likelihood=args.likelihood, beta=args.beta, kl_warmup_epochs=args.kl_warmup,
                                 dropout=args.vae_dropout)
    else:
        model_config = RowRNNConfig(cell=args.cell, hidden_size=args.hidden_size,
                                    num_layers=args.layers, dropout=args.dropout)
    train_config = TrainConfig(dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size,
                               lr=args.lr, weight_decay=args.weight_decay, lr_schedule=args.lr_schedule,
                               augment=args.augment, augment_rotation=args.augment_rotation,
                               augment_shift=args.augment_shift, augment_scale=args.augment_scale,
                               binarize=args.binarize, ema_decay=args.ema_decay, seed=args.seed, device=args.device,
                               matmul_precision=args.matmul_precision, data_dir=args.data_dir)
    return model_config, train_config


def _format(metrics: dict) -> str:
    keys = [k for k in metrics if k.startswith("val_")]
    return ", ".join(f"{k}={metrics[k]:.4g}" for k in keys)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        model_config, train_config = configs_from_args(args)
        if args.background:
            from .jobs import submit_from_cli  # the job runner is optional for the CLI
            return submit_from_cli(args.model, model_config, train_config, args)
        trainer = build_trainer(args.model, model_config, train_config, out=args.out, resume=args.resume,
                                save_training_state=not args.no_resume_state)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    from tqdm import tqdm

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
    bar.close()
    print(f"best epoch {result.best_epoch}: {_format(result.best_metrics)}; saved to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
