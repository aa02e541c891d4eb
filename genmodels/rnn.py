"""RowRNN: a recurrent classifier that reads a 28x28 image one row at a time.

Each of the 28 rows (28 pixels) is one time step; the hidden state after the last row goes
through a linear layer to 10 class logits, the classic "sequential MNIST by rows" setup
(e.g. Le, Jaitly & Hinton 2015, https://arxiv.org/abs/1504.00941, read pixel by pixel).
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .checkpoints import PretrainedMixin, check_field_types
from .images import IMAGE_SIDE, as_row_sequence

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


@dataclass
class RowRNNConfig:
    cell: str = "rnn"  # "rnn" (tanh Elman cell), "gru" or "lstm"
    hidden_size: int = 128  # width of the recurrent state
    num_layers: int = 1  # stacked recurrent layers
    dropout: float = 0.0  # dropout between stacked layers (ignored with one layer)
    num_classes: int = 10  # output classes (digits 0-9 or the 10 Fashion-MNIST classes)

    def __post_init__(self):
        check_field_types(self)
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {self.cell!r}.")
        if not 1 <= self.hidden_size <= 2048:
            raise ValueError(f"hidden_size must be between 1 and 2048, got {self.hidden_size}.")
        if not 1 <= self.num_layers <= 8:
            raise ValueError(f"num_layers must be between 1 and 8, got {self.num_layers}.")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}.")


class RowRNN(PretrainedMixin, nn.Module):
    """Reads rows top to bottom; classifies from the last hidden state."""

    model_type = "rnn"
    config_class = RowRNNConfig

    def __init__(self, config: RowRNNConfig | None = None):
        super().__init__()
        self.config = config or RowRNNConfig()
        c = self.config
        self.rnn = CELLS[c.cell](
            input_size=IMAGE_SIDE, hidden_size=c.hidden_size, num_layers=c.num_layers,
            batch_first=True, dropout=c.dropout if c.num_layers > 1 else 0.0,
        )
        self.head = nn.Linear(c.hidden_size, c.num_classes)

    @property
    def device(self) -> torch.device:
        return self.head.weight.device

    def _row_states(self, x: torch.Tensor) -> torch.Tensor:
        """Top-layer hidden state after each row, (N, 28, hidden_size)."""
        rows = as_row_sequence(x).to(self.device, torch.float32)
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
        """Return class probabilities (N, num_classes) after reading all 28 rows."""
        return F.softmax(self(x), dim=-1)

    @torch.no_grad()
    def read_rows(self, x: torch.Tensor) -> torch.Tensor:
        """Return class probabilities after each row, (N, 28, num_classes) (a single image gives (28, 10) at [0]).

        Row t is what the model would answer had it stopped reading after t+1 rows; the last row
        equals `predict_proba`.
        """
        return F.softmax(self.head(self._row_states(x)), dim=-1)
