"""RowWriter: an autoregressive model that writes binarized digits row by row, top to bottom.

It gives an exact likelihood, the product of every pixel's conditional in raster order,

    p(x | c) = prod_t prod_j p(x[t, j] | rows above t, x[t, :j], c),

where c is a class or "none" (Larochelle & Murray 2011, NADE; van den Oord et al. 2016, PixelRNN,
https://arxiv.org/abs/1601.06759). Two parts share the work:

- Between rows, a GRU. Its input at step t is row t-1 (zeros for t = 0) next to a class embedding,
  so its output h_t has seen every row above row t and the class.
- Within a row, a MADE head (Germain et al. 2015, https://arxiv.org/abs/1502.03509): a one-hidden-layer
  MLP whose weight masks let pixel j see only pixels 0..j-1 of its own row, plus h_t everywhere:
      a = W1m row_t + U h_t + b1,   logits_t = W2m relu(a) + V h_t + b2.
  A hidden unit of degree m sees pixels 0..m-1 and feeds outputs j >= m. Degree-0 units see only
  h_t and feed every output (pixel 0 too).

The class embedding has num_classes + 1 entries. The last one means "no class". Training swaps the
label for "none" with probability `label_dropout`, as in classifier-free guidance (Ho & Salimans 2022),
so one set of weights samples both with a class and without one.

Why this design, and what it costs:
- Training is fully parallel (teacher forcing): one GRU pass over 28 rows and one masked MLP over all 784
  pixels. There is one recurrent step per row, not per pixel. PixelRNN's Row LSTM and Diagonal BiLSTM
  run a recurrent or convolutional state over every pixel.
- Sampling takes 28 GRU steps. Each row then takes 28 cheap steps. The head has a single hidden layer,
  so writing pixel j only adds x_j times one column of W1m to the pre-activation `a`, an O(head_size)
  update, before pixel j+1's logit (one dot product). A PixelCNN would run the whole network once per
  pixel, 784 times. Writing one digit takes a few tens of milliseconds on one CPU core
  (bench/writer_figures.py).
- The price: everything above row t reaches row t through one vector h_t. Dependencies within a row
  pass through one masked hidden layer. The single layer is what makes the incremental update above
  exact. A PixelCNN++-class model gets a better likelihood on full MNIST. Ours is small and quick,
  and on the 4,500 training digits of mnist-5k overfitting limits it more than capacity does.

Temperature T divides every logit: sampling at T draws pixel j with probability sigmoid(logit / T)
(`tempered_probabilities`). Below 1 it pushes each probability towards 0 or 1, above 1 towards 1/2.
Likelihoods (`log_prob`, `RowStep.log_prob`) are always the model's own, at T = 1.

One step of writing, for watching it happen (`write_row`), is one row: a row is the writer's
"token", with 2**side possible values. Its distribution factorises within the row, so the step
reports each pixel's conditional probability given the rows above *and the pixels drawn to its
left*, exactly as sampling used it. We show these rather than per-pixel marginals p(x[t, j] | rows
above): a marginal has no closed form here (it sums over 2**j left contexts), so it could only be a
Monte Carlo estimate, whereas the conditionals are exact and their log terms add up to `log_prob`.
"""

import math
import numbers
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from i18n import Sentence

from .checkpoints import PretrainedMixin
from .settings import check, setting
from .trainable import Figure, Trainable


def tempered_probabilities(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Return the probabilities in [0,1] that sampling at `temperature` draws pixels with: sigmoid(logit / T)."""
    return torch.sigmoid(logits / temperature)


@dataclass
class RowStep:
    """One row written by `RowWriter.write_row`: the pixels drawn and the exact conditionals they were drawn from.

    For pixel j of row `row`, logits[:, j] is the logit of it being on given the class, the rows
    above and pixels 0..j-1 of this row as drawn (what sampling used, at temperature 1).
    """

    row: int  # the row written, 0 = top
    pixels: torch.Tensor  # (n, side) in {0, 1}
    logits: torch.Tensor  # (n, side)
    temperature: float  # the temperature the pixels were drawn at
    row_log_prob: torch.Tensor  # (n,) log p(this row | rows above, class), nats, at temperature 1
    log_prob: torch.Tensor  # (n,) log p(rows 0..row | class), nats: the image's log_prob once row = side - 1

    @property
    def probabilities(self) -> torch.Tensor:
        """Return each pixel's probability of being on at temperature 1, (n, side)."""
        return torch.sigmoid(self.logits)

    @property
    def tempered(self) -> torch.Tensor:
        """Return each pixel's probability of being on at the step's temperature, (n, side): what it was drawn from."""
        return tempered_probabilities(self.logits, self.temperature)


@dataclass
class RowWriterConfig:
    side: int = setting(28, "Image side", "square images of side x side pixels, written as side rows", low=2, high=64)
    hidden_size: int = setting(256, "Hidden size", "width of the GRU state that carries the rows above down the image",
                               low=4, high=4096)
    num_layers: int = setting(1, "Layers", "stacked GRU layers", low=1, high=8, flag="--layers")
    head_size: int = setting(256, "Head size", "hidden units of the masked per-row MLP (at least the image side)",
                             low=2, high=8192)
    embed_dim: int = setting(16, "Class embedding", "width of the class embedding (classes + 1 for 'no class')",
                             low=1, high=1024)
    num_classes: int = setting(10, "Classes", "classes a sample can be asked for", low=1, high=1000)
    label_dropout: float = setting(0.1, "Label dropout", "training: probability a label is replaced by 'no class'",
                                   low=0.0, high=1.0)
    dropout: float = setting(0.0, "Dropout", "training: dropout on the GRU outputs", low=0.0, high=0.9)

    def __post_init__(self):
        check(self)
        if self.head_size < self.side:
            raise Sentence("genmodels.writer.head_size", side=self.side, head_size=self.head_size)


def _made_masks(side: int, head_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the MADE masks (head_size, side) into the hidden layer and (side, head_size) out of it.

    Hidden unit k has degree m_k = k mod side. It sees pixels i < m_k and feeds outputs j >= m_k,
    so output j depends only on pixels i < j.
    """
    degrees = torch.arange(head_size) % side
    pixels = torch.arange(side)
    mask_in = (pixels[None, :] < degrees[:, None]).float()
    mask_out = (degrees[None, :] <= pixels[:, None]).float()
    return mask_in, mask_out


class RowWriter(Trainable, PretrainedMixin, nn.Module):
    """GRU over rows + masked MLP within a row: exact log p(x | class) and row-by-row sampling."""

    model_type = "writer"
    config_class = RowWriterConfig
    binary_data = True  # the trainer binarizes its batches (fresh Bernoulli draws) and validation (one fixed draw)
    # The NLL given the true class; the best epoch has the lowest.
    validation_figures = (Figure("val_nll", "NLL", "nats per image"),)

    def __init__(self, config: RowWriterConfig | None = None):
        super().__init__()
        self.config = config or RowWriterConfig()
        c = self.config
        self.embed = nn.Embedding(c.num_classes + 1, c.embed_dim)  # the last entry is "no class"
        self.rnn = nn.GRU(c.side + c.embed_dim, c.hidden_size, num_layers=c.num_layers, batch_first=True,
                          dropout=c.dropout if c.num_layers > 1 else 0.0)
        self.drop = nn.Dropout(c.dropout)
        self.head_in = nn.Linear(c.side, c.head_size, bias=False)  # W1, masked
        self.head_ctx = nn.Linear(c.hidden_size, c.head_size)  # U, b1
        self.head_out = nn.Linear(c.head_size, c.side, bias=False)  # W2, masked
        self.out_ctx = nn.Linear(c.hidden_size, c.side)  # V, b2
        mask_in, mask_out = _made_masks(c.side, c.head_size)
        # Derived from the config, so not saved with the weights (persistent=False).
        self.register_buffer("mask_in", mask_in, persistent=False)
        self.register_buffer("mask_out", mask_out, persistent=False)
        with torch.no_grad():  # start near MNIST's ink density (~13% of binarized pixels are on)
            self.out_ctx.bias.fill_(-2.0)

    @property
    def device(self) -> torch.device:
        """Return the device the weights live on."""
        return self.out_ctx.weight.device

    @property
    def none_label(self) -> int:
        """Return the embedding index meaning "no class" (num_classes)."""
        return self.config.num_classes

    # -- checking inputs ------------------------------------------------------------------
    def _as_rows(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        """Return `x` as float rows (N, side, side) on the model's device; accepts (N,1,s,s), (N,s,s), (N,s*s)."""
        s = self.config.side
        if not isinstance(x, torch.Tensor):
            raise Sentence("genmodels.writer.not_tensor", name=name, kind=type(x).__name__)
        shape = tuple(x.shape)
        valid = ((x.dim() == 4 and shape[1:] == (1, s, s)) or (x.dim() == 3 and shape[1:] == (s, s))
                 or (x.dim() == 2 and shape[1] == s * s))
        if not valid:
            raise Sentence("genmodels.writer.shape", name=name, side=s, pixels=s * s, shape=shape)
        if x.is_complex():
            raise Sentence("genmodels.writer.complex", name=name, dtype=x.dtype)
        return x.reshape(shape[0], s, s).to(self.device, torch.float32)

    def _as_binary_rows(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        """Like `_as_rows`, and raise a ValueError unless every pixel is exactly 0 or 1."""
        rows = self._as_rows(x, name)
        if not ((rows == 0) | (rows == 1)).all():
            raise Sentence("genmodels.writer.not_binary", name=name)
        return rows

    def _labels(self, labels, n: int) -> torch.Tensor:
        """Return embedding indices (n,) on the model's device for labels None, an int or an (n,) integer tensor."""
        k = self.config.num_classes
        if labels is None:
            return torch.full((n,), self.none_label, dtype=torch.long, device=self.device)
        if isinstance(labels, numbers.Integral) and not isinstance(labels, bool):
            if not 0 <= labels < k:
                raise Sentence("genmodels.writer.label_range", last=k - 1, label=labels)
            return torch.full((n,), int(labels), dtype=torch.long, device=self.device)
        if not isinstance(labels, torch.Tensor):
            raise Sentence("genmodels.writer.labels_type", n=n, kind=type(labels).__name__)
        if labels.dtype == torch.bool or labels.is_floating_point() or labels.is_complex():
            raise Sentence("genmodels.writer.labels_dtype", dtype=labels.dtype)
        if labels.dim() == 0:
            return self._labels(int(labels), n)
        if tuple(labels.shape) != (n,):
            raise Sentence("genmodels.writer.labels_count", n=n, shape=tuple(labels.shape))
        if n and (labels.min() < 0 or labels.max() >= k):
            raise Sentence("genmodels.writer.labels_values", last=k - 1, low=labels.min().item(), high=labels.max().item())
        return labels.to(self.device, torch.long)

    # -- the exact likelihood (teacher forcing: all rows in parallel) ---------------------
    def _masked_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head_in.weight * self.mask_in, self.head_out.weight * self.mask_out

    def _logits(self, rows: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """Return every pixel's Bernoulli logit (N, side, side) given float rows and embedding indices."""
        n, s = rows.shape[0], self.config.side
        above = torch.cat([rows.new_zeros(n, 1, s), rows[:, :-1]], 1)  # step t reads row t-1
        emb = self.embed(index)[:, None].expand(n, s, -1)
        h, _ = self.rnn(torch.cat([above, emb], -1))
        h = self.drop(h)
        w_in, w_out = self._masked_weights()
        hidden = F.relu(F.linear(rows, w_in) + self.head_ctx(h))
        return F.linear(hidden, w_out) + self.out_ctx(h)

    def forward(self, x: torch.Tensor, labels=None) -> torch.Tensor:
        """Return every pixel's logit of being on given the pixels before it, (N, side, side); None = no class."""
        rows = self._as_rows(x)
        return self._logits(rows, self._labels(labels, rows.shape[0]))

    def _row_log_probs(self, rows: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """Return log p(row t | rows above, class) for every row, (N, side), nats, for binary float rows."""
        logits = self._logits(rows, index)
        return -F.binary_cross_entropy_with_logits(logits, rows, reduction="none").sum(2)

    def log_prob(self, x: torch.Tensor, labels=None) -> torch.Tensor:
        """Return the exact log p(x) (or log p(x | labels)) per image, (N,), in nats, for binary images x."""
        rows = self._as_binary_rows(x)
        return self._row_log_probs(rows, self._labels(labels, rows.shape[0])).sum(1)

    def loss(self, x: torch.Tensor, labels=None) -> dict[str, torch.Tensor]:
        """Return the mean negative log-likelihood in nats per image ('loss', equal to 'nll').

        For x in [0,1] rather than {0,1} it is the cross-entropy, an unbiased estimate of the NLL of
        Bernoulli samples of x. While training, each label becomes "no class" with probability
        config.label_dropout; in eval mode labels are used as given.
        """
        rows = self._as_rows(x)
        if rows.numel() and (rows.min() < 0 or rows.max() > 1):
            raise Sentence("genmodels.writer.pixel_range")
        index = self._labels(labels, rows.shape[0])
        if self.training and self.config.label_dropout > 0:
            dropped = torch.rand(index.shape, device=index.device) < self.config.label_dropout
            index = torch.where(dropped, torch.full_like(index, self.none_label), index)
        logits = self._logits(rows, index)
        nll = F.binary_cross_entropy_with_logits(logits, rows, reduction="none").sum((1, 2)).mean()
        return {"loss": nll, "nll": nll}

    # -- writing (the same conditionals, one pixel at a time) -----------------------------
    def _check_sampling(self, n, temperature, prefix_rows) -> torch.Tensor:
        """Check n and temperature; return the prefix as binary rows (n, k, side) (k = 0 without one)."""
        s = self.config.side
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
            raise Sentence("genmodels.writer.count", n=repr(n))
        if (not isinstance(temperature, numbers.Real) or isinstance(temperature, bool)
                or not math.isfinite(temperature) or temperature <= 0):
            raise Sentence("genmodels.writer.temperature", value=repr(temperature))
        if prefix_rows is None:
            return torch.zeros(n, 0, s, device=self.device)
        if not isinstance(prefix_rows, torch.Tensor):
            raise Sentence("genmodels.writer.prefix_type", kind=type(prefix_rows).__name__)
        p = prefix_rows
        if p.dim() == 2:
            p = p[None]
        if p.dim() != 3 or p.shape[-1] != s or p.shape[0] not in (1, n):
            raise Sentence("genmodels.writer.prefix_shape", side=s, n=n, shape=tuple(prefix_rows.shape))
        if p.shape[1] > s:
            raise Sentence("genmodels.writer.prefix_rows", rows=p.shape[1], side=s)
        p = p.to(self.device, torch.float32)
        if not ((p == 0) | (p == 1)).all():
            raise Sentence("genmodels.writer.prefix_binary")
        return p.expand(n, -1, -1)

    @torch.no_grad()
    def _write_rows(self, index: torch.Tensor, prefix: torch.Tensor, temperature: float = 1.0,
                    noise: torch.Tensor | None = None, target: torch.Tensor | None = None
                    ) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
        """Yield (t, canvas (n, side, side), logits of row t (n, side)) for each row t after the prefix.

        Pixel j of row t is on when its logit / temperature exceeds the logistic noise
        log(u / (1 - u)) of u = noise[:, t, j], that is when u < tempered_probabilities(logit, temperature).
        With `target` (n, side, side) the pixels are copied from it instead: teacher forcing through
        this path, to check it against `log_prob`.
        """
        n, k, s = prefix.shape[0], prefix.shape[1], self.config.side
        canvas = torch.zeros(n, s, s, device=self.device)
        canvas[:, :k] = prefix
        emb = self.embed(index)  # (n, embed_dim)
        w_in, w_out = self._masked_weights()
        w_in_rows = w_in.t().contiguous().unbind(0)  # pixel j adds x_j * w_in_rows[j] to the hidden layer
        w_out_rows = w_out.unbind(0)  # logit j = V h + b2 + relu(hidden) . w_out_rows[j]
        if target is None:
            # Thresholds in logit space: on iff logit > temperature * log(u / (1 - u)). One comparison
            # per pixel instead of a sigmoid, a division and a comparison (sampling is per-op overhead bound).
            thresholds = temperature * (torch.log(noise) - torch.log1p(-noise))
        # The GRU reads the zero row and the prefix in one pass; its last output parametrises row k.
        above = torch.cat([canvas.new_zeros(n, 1, s), canvas[:, :k]], 1)
        out, state = self.rnn(torch.cat([above, emb[:, None].expand(n, k + 1, -1)], -1))
        h = out[:, -1]
        for t in range(k, s):
            if t > k:
                out, state = self.rnn(torch.cat([canvas[:, t - 1], emb], -1)[:, None], state)
                h = out[:, 0]
            pre = self.head_ctx(h)  # (n, head_size): the hidden pre-activation before any pixel of row t
            base = self.out_ctx(h).t().unbind(0)  # V h_t + b2, pixel by pixel
            given = (target[:, t] if target is not None else thresholds[:, t]).t().unbind(0)
            logits, pixels = [], []
            for j in range(s):
                logit = torch.addmv(base[j], F.relu(pre), w_out_rows[j])
                x = given[j] if target is not None else (logit > given[j]).float()
                pre.addcmul_(x[:, None], w_in_rows[j][None])
                logits.append(logit)
                pixels.append(x)
            canvas[:, t] = torch.stack(pixels, 1)
            yield t, canvas, torch.stack(logits, 1)

    def iter_sample_rows(self, n: int, label=None, temperature: float = 1.0, prefix_rows: torch.Tensor | None = None,
                         generator: torch.Generator | None = None) -> Iterator[torch.Tensor]:
        """Yield the rows written so far, (n, t+1, side) in {0,1}, after each new row t (for animation).

        The first yield holds the prefix plus the first written row; the last one is the whole
        image. A prefix that fills the image is yielded once, unchanged. Arguments as in `sample`.
        """
        prefix = self._check_sampling(n, temperature, prefix_rows)
        index = self._labels(label, n)
        noise = self._noise(n, generator)
        if prefix.shape[1] == self.config.side:
            yield prefix.clone()
            return
        for t, canvas, _ in self._write_rows(index, prefix, float(temperature), noise):
            yield canvas[:, :t + 1].clone()

    def _noise(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        """Return uniform noise (n, side, side), one number per pixel, on the model's device.

        All of it is drawn up front: a seed fixes the image whatever the prefix, so writing a row
        at a time (`write_row`) with one seed writes the image `sample` writes with it.
        """
        s = self.config.side
        device = generator.device if generator is not None else self.device
        return torch.rand((n, s, s), generator=generator, device=device).to(self.device)

    @torch.no_grad()
    def write_row(self, n: int = 1, label=None, temperature: float = 1.0, prefix_rows: torch.Tensor | None = None,
                  generator: torch.Generator | None = None) -> RowStep:
        """Return the RowStep writing the row below `prefix_rows` (row 0 without one): pixels, conditionals, nats.

        Arguments as in `sample`; the prefix must leave a row to write. Called with the rows written
        so far and a generator seeded the same way each time, 28 calls write the image `sample`
        writes with that seed. The step costs one GRU pass over the prefix and one row of the head.
        """
        prefix = self._check_sampling(n, temperature, prefix_rows)
        k, s = prefix.shape[1], self.config.side
        if k == s:
            raise Sentence("genmodels.writer.all_written", side=s)
        index = self._labels(label, n)
        rows = self._write_rows(index, prefix, float(temperature), self._noise(n, generator))
        t, canvas, logits = next(rows)
        rows.close()
        pixels = canvas[:, t].clone()
        row_log_prob = -F.binary_cross_entropy_with_logits(logits, pixels, reduction="none").sum(1)
        # The rows above by teacher forcing (rows below t are zeros here and cannot reach them).
        above = self._row_log_probs(canvas, index)[:, :t].sum(1)
        return RowStep(t, pixels, logits, float(temperature), row_log_prob, above + row_log_prob)

    @torch.no_grad()
    def sample(self, n: int, label=None, temperature: float = 1.0, prefix_rows: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Return n written images (n, 1, side, side) in {0,1}.

        label: None (no class), an int, or an (n,) tensor of classes. temperature divides every
        logit (<1: bolder, more typical digits; >1: noisier). prefix_rows, (k, side), (1, k, side)
        or (n, k, side) binary: the top k rows, kept exactly; writing continues below them.
        generator: a torch.Generator for reproducible samples.
        """
        for rows in self.iter_sample_rows(n, label, temperature, prefix_rows, generator):
            pass
        return rows.reshape(n, 1, self.config.side, self.config.side)
