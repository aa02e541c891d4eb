"""What the trainer asks of a model: each model class declares it, so genmodels.train knows no model.

A model class inherits `Trainable` and overrides what differs from the defaults: its validation
figures (name, unit, which way is better), whether it learns binary images, its loss at a point of
training, what it logs per epoch, and the tensor files its checkpoint carries beside the weights.
As in minGPT's trainer, the loop calls these and nothing else of the model.
"""

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Figure:
    """One validation figure a model reports every epoch (a key of the trainer's history)."""

    key: str  # the history's key, e.g. "val_nelbo"
    name: str  # what people call it, e.g. "−ELBO"
    unit: str  # e.g. "nats per image", or "fraction" for an accuracy in [0, 1]
    higher_is_better: bool = False


class Trainable:
    """Defaults of the trainer's questions; a model class overrides the ones that differ."""

    validation_figures: tuple[Figure, ...] = ()  # the headline figures, the one the best epoch is chosen by first
    binary_data = False  # True: trained on fresh Bernoulli draws of the pixels, validated on one fixed draw
    binarize_option = False  # True: TrainConfig.binarize switches binary training on (validation stays grey)

    figures: tuple[str, ...] = ()  # their history keys, headline first (set from validation_figures)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.figures = tuple(f.key for f in cls.validation_figures)

    @classmethod
    def selection_score(cls, metrics: dict) -> tuple:
        """Return the best-epoch rule's key (lower is better): the validation figures in order, each made 'lower is better'."""
        return tuple(-metrics[f.key] if f.higher_is_better else metrics[f.key] for f in cls.selection_figures())

    @classmethod
    def selection_figures(cls) -> tuple[Figure, ...]:
        """Return the figures the best epoch is chosen by, most important first (default: the headline one)."""
        return cls.validation_figures[:1]

    def training_loss(self, x: torch.Tensor, labels: torch.Tensor, epochs_done: float) -> dict[str, torch.Tensor]:
        """Return the loss parts of a training batch after `epochs_done` epochs (fractional); 'loss' is minimised."""
        return self.loss(x, labels)

    def epoch_log(self, epochs_done: float) -> dict[str, float]:
        """Return extra values recorded in the history after `epochs_done` epochs (e.g. a schedule's weight)."""
        return {}

    def checkpoint_files(self, val_x: torch.Tensor, val_y: torch.Tensor, num_classes: int) -> dict[str, dict]:
        """Return the tensor files saved beside the weights, {file name: {tensor name: tensor}}, from validation data."""
        return {}
