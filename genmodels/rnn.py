"""RowRNN: a recurrent classifier that reads a square image (28x28 for MNIST) one row at a time.

Each row is one time step; the hidden state after the last row goes
through a linear layer to one logit per class, the classic "sequential MNIST by rows" setup
(e.g. Le, Jaitly & Hinton 2015, https://arxiv.org/abs/1504.00941, read pixel by pixel).
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .checkpoints import PretrainedMixin
from .images import IMAGE_SIDE, as_row_sequence
from .settings import check, setting
from .trainable import Figure, Trainable

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


@dataclass
class RowRNNConfig:
    cell: str = setting("rnn", "Cell", "rnn (tanh Elman cell), gru or lstm", choices=tuple(CELLS))
    hidden_size: int = setting(128, "Hidden size", "width of the recurrent state", low=4, high=1024)
    num_layers: int = setting(1, "Layers", "stacked recurrent layers", low=1, high=8, flag="--layers")
    dropout: float = setting(0.0, "Dropout", "dropout between stacked layers (none with one layer)",
                             low=0.0, high=0.9)
    num_classes: int = setting(10, "Classes", "output classes (the data set's)", low=2, high=1000)
    side: int = setting(IMAGE_SIDE, "Image side", "square images of side x side pixels, read as side rows",
                        low=2, high=64)

    def __post_init__(self):
        check(self)


class RowRNN(Trainable, PretrainedMixin, nn.Module):
    """Reads rows top to bottom; classifies from the last hidden state."""

    model_type = "rnn"
    config_class = RowRNNConfig
    validation_figures = (Figure("val_accuracy", "accuracy", "fraction", higher_is_better=True),
                          Figure("val_loss", "cross-entropy", "nats per image"))

    @classmethod
    def selection_figures(cls) -> tuple[Figure, ...]:
        """Return both figures: the best epoch has the highest accuracy, then the lowest loss."""
        return cls.validation_figures

    def __init__(self, config: RowRNNConfig | None = None):
        super().__init__()
        self.config = config or RowRNNConfig()
        c = self.config
        self.rnn = CELLS[c.cell](
            input_size=c.side, hidden_size=c.hidden_size, num_layers=c.num_layers,
            batch_first=True, dropout=c.dropout if c.num_layers > 1 else 0.0,
        )
        self.head = nn.Linear(c.hidden_size, c.num_classes)

    @property
    def device(self) -> torch.device:
        return self.head.weight.device

    def _row_states(self, x: torch.Tensor) -> torch.Tensor:
        """Top-layer hidden state after each row, (N, side, hidden_size)."""
        rows = as_row_sequence(x, self.config.side).to(self.device, torch.float32)
        outputs, _ = self.rnn(rows)
        return outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class logits (N, num_classes) from the state after the last row."""
        return self.head(self._row_states(x)[:, -1])

    def loss(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """Return mean cross-entropy in nats ('loss') and the batch accuracy ('accuracy')."""
        logits = self(x)
        accuracy = (logits.argmax(1) == labels).float().mean()
        return {"loss": F.cross_entropy(logits, labels), "accuracy": accuracy}

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """Return class probabilities (N, num_classes) after reading all rows."""
        return F.softmax(self(x), dim=-1)

    @torch.no_grad()
    def read_rows(self, x: torch.Tensor) -> torch.Tensor:
        """Return class probabilities after each row, (N, side, num_classes).

        Row t is what the model would answer had it stopped reading after t+1 rows; the last row
        equals `predict_proba`.
        """
        return F.softmax(self.head(self._row_states(x)), dim=-1)
