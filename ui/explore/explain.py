"""The Explore tab's "How the VAE sees this digit": what the encoder says about the digit on screen.

For the digit being read (an upload or a drawing as the model sees it, or the decoded picture of
the sliders' code) it shows the encoder's q(z|x) = N(mu, sigma^2) per dimension next to the prior
N(0, 1) (and, through explore.js, as a band mu ± sigma on each slider), the reparameterization trick
with decodes of posterior samples, the negative ELBO's two terms, and the pipeline as a diagram whose
boxes hold the live values. Every figure comes from VAE.explain (actions.explain_digit), the same
call /explain answers with: the reconstruction term averages EXPLAIN_SAMPLES draws of eps from a fixed
torch seed (draw 0), so a digit always gets the same numbers until "Draw a new ε" asks for the next
seed.

It follows the digit, not the drag: it is computed when the page's digit state changes (a release,
a click, an upload, a stroke), never for the frames of a drag, which the page paints itself.
"""

import base64
import html
import io
from dataclasses import dataclass

import gradio as gr
import numpy as np
import torch
from torchvision.transforms.functional import to_pil_image
from torchvision.utils import make_grid

from genmodels.vae import Explanation
from ui.errors import user_errors

from . import actions, render
from .models import SLIDER_LIMIT, ModelView
from .page import QUIET, ExplorePage

SAMPLES_PER_ROW = 8  # posterior samples per row of the grid
PINNED_SIGMA = 0.5  # below this the digit pins a dimension down (the prior's sigma is 1)
NOT_A_VAE = ("<p>This is a plain autoencoder: its encoder gives one code per digit, with no q(z|x), no KL and no "
             "ELBO to show here. Choose a VAE to see them.</p>")
PRIOR_KL = 0.05  # nats: below this a dimension is left to the prior (models.ACTIVE_KL for one digit)

HELP = """**How the VAE sees this digit.** The encoder does not output one code: it outputs a
distribution q(z|x), a mean μ and a spread σ for every latent dimension. The blue band on each slider
is μ ± σ for the digit on screen (your upload or drawing as the model sees it, or the picture the
sliders decode to). A narrow band means the digit pins that dimension down; a band as wide as the
prior N(0, 1) means the digit leaves it to the prior. It is recomputed whenever you let go of a slider."""


@dataclass
class ExplainPanel:
    """The explanation accordion: the pipeline diagram, the per-dimension posterior, the samples and the ELBO."""

    section: gr.Accordion
    pipeline: gr.HTML
    dims: gr.HTML
    sampling: gr.HTML
    new_eps: gr.Button
    elbo: gr.HTML
    draw: gr.State


def build_explain_panel(initial: dict | None) -> ExplainPanel:
    """Return the explanation accordion (open), filled with `initial` (explain_html's parts) when given."""
    initial = initial or {}
    with gr.Accordion("How the VAE sees this digit", open=True, elem_id="ll-explain") as section:
        gr.Markdown(HELP, elem_classes="ll-help")
        pipeline = gr.HTML(initial.get("pipeline", ""), elem_id="ll-explain-pipeline", js_on_load=None)
        with gr.Row(elem_id="ll-explain-row"):
            with gr.Column(scale=1, min_width=300, elem_id="ll-explain-dims-col"):
                dims = gr.HTML(initial.get("dims", ""), elem_id="ll-explain-dims", js_on_load=None)
            with gr.Column(scale=1, min_width=300, elem_id="ll-explain-right"):
                sampling = gr.HTML(initial.get("sampling", ""), elem_id="ll-explain-sampling", js_on_load=None)
                new_eps = gr.Button("Draw a new ε (new posterior samples)", size="sm", elem_id="ll-explain-eps")
                elbo = gr.HTML(initial.get("elbo", ""), elem_id="ll-explain-elbo", js_on_load=None)
    return ExplainPanel(section, pipeline, dims, sampling, new_eps, elbo, gr.State(actions.EXPLAIN_DRAW))


# ------------------------------------------------------------------ pictures and HTML (pure functions)
def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def samples_png(images: torch.Tensor) -> bytes:
    """Return a PNG of posterior decodes (S, 1, 28, 28) in [0,1] laid out by torchvision's make_grid."""
    grid = make_grid(images.detach().cpu().float().clamp(0, 1), nrow=SAMPLES_PER_ROW, padding=2, pad_value=0.45)
    buffer = io.BytesIO()
    to_pil_image(grid[0]).save(buffer, format="PNG", compress_level=1)  # grey: one channel of the RGB grid
    return buffer.getvalue()


def fraction(value: float, limit: float = SLIDER_LIMIT) -> float:
    """Return where `value` sits along a slider's range -limit..limit, as a fraction 0..1 (clipped)."""
    return float(np.clip((value + limit) / (2 * limit), 0.0, 1.0))


def bars_svg(values, limit: float, colour: str, label: str) -> str:
    """Return a small SVG bar chart of `values` (one bar per dimension, up or down from zero, clipped at ±limit)."""
    values = np.clip(np.asarray(values, dtype=np.float64), -limit, limit)
    width, height, n = 100.0, 40.0, max(len(values), 1)
    step = width / n
    bars = "".join(
        f'<rect x="{k * step + 0.15 * step:.2f}" y="{min(20, 20 - v / limit * 19):.2f}" width="{0.7 * step:.2f}" '
        f'height="{max(abs(v) / limit * 19, 0.6):.2f}" fill="{colour}"/>' for k, v in enumerate(values))
    return (f'<svg class="ll-bars" viewBox="0 0 {width:g} {height:g}" preserveAspectRatio="none" role="img" '
            f'aria-label="{html.escape(label)}"><line x1="0" y1="20" x2="100" y2="20" stroke="#9ca3af" '
            f'stroke-width="0.5"/>{bars}</svg>')


def _nats(value: float) -> str:
    return f"{value:.1f}"


def _signed(value: float) -> str:
    return f"{value:+.2f}".replace("-", "−")


def pipeline_html(view: ModelView, digit, e: Explanation, draw: int) -> str:
    """Return the diagram input -> encoder -> (mu, log sigma^2) -> sampling -> z -> decoder -> pixel
    probabilities, each box holding this digit's live values (dimensions in slider order)."""
    order = view.slider_dims()
    c = view.vae.config
    mu, logvar = e.mu[0, order].cpu().numpy(), e.logvar[0, order].cpu().numpy()
    eps, z = e.eps[0, 0, order].cpu().numpy(), e.z[0, 0, order].cpu().numpy()
    decoded = e.images[0, 0, 0].cpu().numpy()
    output = "sigmoid" if c.likelihood == "bernoulli" else "tanh"
    boxes = [
        ("ll-pipe-data", "x: the input",
         f'<img class="ll-pipe-digit" alt="the digit explained" src="{_data_url(render.png_bytes(digit))}">',
         f"{c.side}×{c.side} pixels in [0, 1]"),
        ("ll-pipe-net", "encoder", f'<p class="ll-pipe-shape">{c.side ** 2} → {c.hidden_size} → 2 × {c.latent_dim}</p>',
         "one linear layer, ReLU, two heads"),
        ("", "μ and log σ²",
         bars_svg(mu, SLIDER_LIMIT, "#2563eb", "the posterior mean of each dimension")
         + bars_svg(logvar, 6.0, "#7c3aed", "the log variance of each dimension"),
         f"KL(q ‖ prior) = {_nats(float(e.kl[0]))} nats"),
        ("ll-pipe-op", "sampling",
         '<p class="ll-formula">z = μ + σ ⊙ ε</p>' + bars_svg(eps, SLIDER_LIMIT, "#6b7280", "the draw of eps"),
         f"ε ~ N(0, I), draw {draw}"),
        ("", "z: one code", bars_svg(z, SLIDER_LIMIT, "#ea580c", "the code drawn"),
         f"{c.latent_dim} numbers, one per slider"),
        ("ll-pipe-net", "decoder", f'<p class="ll-pipe-shape">{c.latent_dim} → {c.hidden_size} → {c.side ** 2}</p>',
         f"ReLU, then {output} per pixel"),
        ("ll-pipe-data", "p(x|z): pixel probabilities",
         f'<img class="ll-pipe-digit" alt="the decoded pixel probabilities" src="{_data_url(render.png_bytes(decoded))}">',
         f"−log p(x|z) = {_nats(float(e.sample_nll[0, 0]))} nats"),
    ]
    cells = []
    for i, (kind, title, body, note) in enumerate(boxes):
        if i:
            cells.append('<span class="ll-pipe-arrow" aria-hidden="true">→</span>')
        cells.append(f'<div class="ll-pipe-box {kind}" style="--i:{i}" role="listitem"><h4>{title}</h4>{body}'
                     f'<p class="ll-pipe-note">{note}</p></div>')
    return (f'<div class="ll-pipe" role="list" aria-label="The VAE, step by step, with this digit\'s values" '
            f'data-draw="{draw}">{"".join(cells)}</div>'
            '<p class="ll-pipe-legend">Bars: one per latent dimension, in slider order (most KL first); '
            f'μ, ε and z are drawn to ±{SLIDER_LIMIT:g}, log σ² to ±6.</p>')


def dims_html(view: ModelView, e: Explanation) -> str:
    """Return the per-dimension panel: q(z_i|x) = N(mu_i, sigma_i^2) beside the prior N(0, 1) and each
    dimension's KL bar, in slider order; data-bands holds (mu - sigma, mu, mu + sigma) per slider as
    fractions of its range, for the bands explore.js draws on the sliders."""
    order = view.slider_dims()
    mu, sigma = e.mu[0].cpu().numpy(), e.sigma[0].cpu().numpy()
    kl = e.kl_per_dim[0].cpu().numpy()
    top = max(float(kl[order].max()), 1e-6)
    bands, rows = [], []
    prior_lo, prior_hi = fraction(-1.0), fraction(1.0)
    for d in order:
        lo, at, hi = fraction(mu[d] - sigma[d]), fraction(mu[d]), fraction(mu[d] + sigma[d])
        bands.append(f"{lo:.4f},{at:.4f},{hi:.4f}")
        rows.append(
            f'<div class="ll-dim-row" data-dim="{d}"><span class="ll-dim-name">z{d}</span>'
            f'<span class="ll-dim-axis" style="--plo:{prior_lo:.4f};--phi:{prior_hi:.4f};--lo:{lo:.4f};'
            f'--mu:{at:.4f};--hi:{hi:.4f}" title="μ {mu[d]:.3f}, σ {sigma[d]:.3f}">'
            '<i class="ll-dim-prior"></i><i class="ll-dim-post"></i><i class="ll-dim-mu"></i></span>'
            f'<span class="ll-dim-num">μ {_signed(float(mu[d]))} · σ {sigma[d]:.2f}</span>'
            f'<span class="ll-dim-kl"><i style="--w:{kl[d] / top:.3f}"></i><b>{kl[d]:.2f}</b></span></div>')
    pinned = int((sigma[order] < PINNED_SIGMA).sum())
    prior = int((kl[order] < PRIOR_KL).sum())
    summary = (f"This digit pins down <b>{pinned}</b> of {len(order)} dimensions (σ below {PINNED_SIGMA:g}) and "
               f"leaves <b>{prior}</b> to the prior (KL below {PRIOR_KL:g} nats).")
    return (f'<div class="ll-dims" data-bands="{";".join(bands)}"><p class="ll-dims-summary">{summary}</p>'
            '<p class="ll-dims-legend"><span class="ll-key ll-key-prior"></span>prior N(0, 1), ±1 '
            '<span class="ll-key ll-key-post"></span>q(z|x): μ ± σ <span class="ll-key ll-key-kl"></span>'
            f'KL in nats · axis −{SLIDER_LIMIT:g} to {SLIDER_LIMIT:g} as on the sliders</p>'
            f'{"".join(rows)}<p class="ll-dim-total">KL summed over the dimensions: '
            f'<b>{_nats(float(e.kl[0]))} nats</b> (the bars above, exact: closed form)</p></div>')


def sampling_html(view: ModelView, e: Explanation, draw: int) -> str:
    """Return the reparameterization trick: the formula, one worked dimension, and the grid of posterior decodes."""
    d = view.slider_dims()[0]
    mu, sigma, eps, z = (float(t) for t in (e.mu[0, d], e.sigma[0, d], e.eps[0, 0, d], e.z[0, 0, d]))
    nll = e.sample_nll[:, 0].cpu().numpy()
    count = len(nll)
    return (f'<div class="ll-sampling" data-draw="{draw}">'
            '<p class="ll-formula-big">ε ~ N(0, I), &nbsp; z = μ + σ ⊙ ε</p>'
            f'<p>For z{d} in the first draw: {_signed(mu)} + {sigma:.2f} × ({_signed(eps)}) = <b>{_signed(z)}</b>. '
            'Written this way z is a smooth function of μ and σ, so training can pass gradients through the '
            'random draw: the <i>reparameterization trick</i>.</p>'
            f'<img class="ll-samples" alt="{count} decodes of codes drawn from q(z|x)" '
            f'src="{_data_url(samples_png(e.images[:, 0]))}">'
            f'<p class="ll-caption">{count} codes drawn from q(z|x) (ε draw {draw}) and decoded: what "the encoder '
            'outputs a distribution" looks like. The first is the one in the diagram. Their −log p(x|z) runs '
            f'from {nll.min():.1f} to {nll.max():.1f} nats.</p></div>')


def elbo_html(view: ModelView, e: Explanation, draw: int) -> str:
    """Return the negative ELBO of this digit as reconstruction + KL in nats, a bar of the two, and what each means."""
    c = view.vae.config
    recon, kl, nelbo = float(e.reconstruction[0]), float(e.kl[0]), float(e.nelbo[0])
    count = int(e.eps.shape[0])
    share = 100 * recon / nelbo if nelbo > 0 else 50.0
    pixels = ("the Bernoulli likelihood of each pixel" if c.likelihood == "bernoulli"
              else "half the squared error on [−1, 1] (a unit-variance Gaussian, up to a constant)")
    beta = f"{c.beta:g}"
    return (f'<div class="ll-elbo" data-draw="{draw}">'
            f'<p class="ll-elbo-sum">−ELBO = <span class="ll-recon">{_nats(recon)}</span> + '
            f'<span class="ll-kl">{_nats(kl)}</span> = <b>{_nats(nelbo)} nats</b></p>'
            f'<div class="ll-elbo-bar" role="img" aria-label="reconstruction {_nats(recon)}, KL {_nats(kl)} nats">'
            f'<i class="ll-recon-bar" style="width:{share:.1f}%"></i><i class="ll-kl-bar"></i></div>'
            f'<p><span class="ll-key ll-key-recon"></span><b>Reconstruction</b> E<sub>q</sub>[−log p(x|z)]: '
            f'how many nats the decoder needs to describe this digit\'s {c.side ** 2} pixels ({pixels}) from a code drawn '
            f'from q(z|x); the mean over the {count} draws above, from a fixed seed (draw {draw}; /explain reports '
            'draw 0), so the figure repeats.</p>'
            '<p><span class="ll-key ll-key-kl"></span><b>KL</b>(q(z|x) ‖ N(0, I)): how far the encoder\'s '
            'distribution for this digit is from the prior, the nats the code spends on this digit; exact, the '
            'sum of the per-dimension bars.</p>'
            f'<p><b>β = {beta}</b> for this model: training minimises reconstruction + β × KL over the data. '
            'β = 1 is the true ELBO (a bound on −log p(x)); a larger β charges more for every nat of KL, so '
            'codes stay nearer the prior and pictures get blurrier.</p></div>')


def explain_html(view: ModelView, digit, draw: int = actions.EXPLAIN_DRAW) -> dict[str, str]:
    """Return the panel's HTML parts {pipeline, dims, sampling, elbo} for a digit (side, side) in [0,1] and eps draw `draw`."""
    if not view.is_vae:  # nothing to explain, and no error on every digit: one sentence instead
        return {"pipeline": NOT_A_VAE, "dims": "", "sampling": "", "elbo": ""}
    digit = np.asarray(digit, dtype=np.float32).reshape(view.side, view.side)
    e = actions.explain_digit(view, digit, draw)
    return {"pipeline": pipeline_html(view, digit, e, draw), "dims": dims_html(view, e),
            "sampling": sampling_html(view, e, draw), "elbo": elbo_html(view, e, draw)}


# ------------------------------------------------------------------ the section and its events
class ExplainSection:
    """The explanation panel of an ExplorePage, following the digit that page reads (its `shown` state)."""

    def __init__(self, page: ExplorePage):
        self.page = page
        initial = None
        if page.default:
            view = page.views.get(page.default)
            initial = explain_html(view, view.decode(np.zeros(view.dims, dtype=np.float32)))
        self.panel = build_explain_panel(initial)

    def on_digit(self, model_name, digit):
        """Return the whole panel for a new digit, with the first draw of eps (the one /explain reports)."""
        p = self.panel
        if digit is None:
            return {c: gr.skip() for c in (p.pipeline, p.dims, p.sampling, p.elbo, p.draw)}
        parts = explain_html(self.page.views.get(model_name), digit)
        return {p.pipeline: parts["pipeline"], p.dims: parts["dims"], p.sampling: parts["sampling"],
                p.elbo: parts["elbo"], p.draw: actions.EXPLAIN_DRAW}

    def on_new_eps(self, model_name, digit, draw):
        """Return the parts that depend on eps (diagram, samples, ELBO) for the next draw of the same digit."""
        view = self.page.views.get(model_name)
        if digit is None:
            digit = view.decode(np.zeros(view.dims, dtype=np.float32))
        draw = (int(draw or 0) + 1) % (actions.MAX_SEED + 1)
        parts = explain_html(view, digit, draw)
        p = self.panel
        return {p.pipeline: parts["pipeline"], p.sampling: parts["sampling"], p.elbo: parts["elbo"], p.draw: draw}

    def wire(self):
        """Attach the panel's listeners: every new digit on the page, and the new-eps button."""
        p, page = self.panel, self.page
        # The digit state changes once per release, click, upload or stroke: never during a drag.
        page.shown.change(user_errors(self.on_digit), [page.model_name, page.shown],
                          [p.pipeline, p.dims, p.sampling, p.elbo, p.draw], trigger_mode="always_last", **QUIET)
        p.new_eps.click(user_errors(self.on_new_eps), [page.model_name, page.shown, p.draw],
                        [p.pipeline, p.sampling, p.elbo, p.draw], **QUIET)
