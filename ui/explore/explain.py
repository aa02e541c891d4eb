"""The Explore tab's "How the VAE sees this digit": what the encoder says about the digit on screen.

For the digit being read (an upload or a drawing as the model sees it, or the decoded picture of
the sliders' code) it shows the encoder's q(z|x) = N(mu, sigma^2) per dimension next to the prior
N(0, 1) (and, through explore.js, as a band mu ± sigma on each slider), the reparameterization trick
with decodes of posterior samples, the negative ELBO's two terms, and the pipeline as a diagram whose
boxes hold the live values. Every figure comes from VAE.explain (actions.explain_digit), the same
call /explain answers with: the reconstruction term averages EXPLAIN_SAMPLES draws of eps from a fixed
torch seed (draw 0), so a digit always gets the same numbers until "Draw a new ε" asks for the next
seed.

Every word is a catalogue text (i18n/, keys explain.*): the accordion's own words are built into the
page (words()), the parts computed for a digit are rendered in the language of the call that asks
for them. The code holds the markup and the figures' formats; the catalogue holds the sentences.
The parts built with the page (one page for every visitor) are in English until the page's load
event, which sets the digit, has them computed again in the visitor's language.

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

import i18n
from genmodels.vae import Explanation
from ui.errors import user_errors
from ui.language import words

from . import actions, render
from .models import SLIDER_LIMIT, ModelView
from .page import QUIET, ExplorePage

SAMPLES_PER_ROW = 8  # posterior samples per row of the grid
PINNED_SIGMA = 0.5  # below this the digit pins a dimension down (the prior's sigma is 1)
PRIOR_KL = 0.05  # nats: below this a dimension is left to the prior (models.ACTIVE_KL for one digit)


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
    with gr.Accordion(words("explain.title"), open=True, elem_id="ll-explain") as section:
        gr.Markdown(words("explain.help"), elem_classes="ll-help")
        pipeline = gr.HTML(initial.get("pipeline", ""), elem_id="ll-explain-pipeline", js_on_load=None)
        with gr.Row(elem_id="ll-explain-row"):
            with gr.Column(scale=1, min_width=300, elem_id="ll-explain-dims-col"):
                dims = gr.HTML(initial.get("dims", ""), elem_id="ll-explain-dims", js_on_load=None)
            with gr.Column(scale=1, min_width=300, elem_id="ll-explain-right"):
                sampling = gr.HTML(initial.get("sampling", ""), elem_id="ll-explain-sampling", js_on_load=None)
                new_eps = gr.Button(words("explain.new_eps"), size="sm", elem_id="ll-explain-eps")
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


def _attribute(key: str, **params) -> str:
    """Return the catalogue text `key` in the current language, escaped for an HTML attribute."""
    return html.escape(i18n.text(key, **params))


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
    t = i18n.text
    boxes = [
        ("ll-pipe-data", "", t("explain.pipe.input.title"),
         f'<img class="ll-pipe-digit" alt="{_attribute("explain.pipe.input.alt")}" '
         f'src="{_data_url(render.png_bytes(digit))}">',
         t("explain.pipe.input.note", side=c.side)),
        ("ll-pipe-net", "encoder", t("explain.pipe.encoder.title"),
         f'<p class="ll-pipe-shape">{c.side ** 2} → {c.hidden_size} → 2 × {c.latent_dim}</p>',
         t("explain.pipe.encoder.note")),
        ("", "mu-sigma", t("explain.pipe.posterior.title"),
         bars_svg(mu, SLIDER_LIMIT, "#2563eb", t("explain.pipe.posterior.mu"))
         + bars_svg(logvar, 6.0, "#7c3aed", t("explain.pipe.posterior.logvar")),
         t("explain.pipe.posterior.note", kl=float(e.kl[0]))),
        ("ll-pipe-op", "reparameterization", t("explain.pipe.sampling.title"),
         '<p class="ll-formula">z = μ + σ ⊙ ε</p>' + bars_svg(eps, SLIDER_LIMIT, "#6b7280", t("explain.pipe.sampling.eps")),
         t("explain.pipe.sampling.note", draw=draw)),
        ("", "z", t("explain.pipe.code.title"), bars_svg(z, SLIDER_LIMIT, "#ea580c", t("explain.pipe.code.bars")),
         t("explain.pipe.code.note", dims=c.latent_dim)),
        ("ll-pipe-net", "decoder", t("explain.pipe.decoder.title"),
         f'<p class="ll-pipe-shape">{c.latent_dim} → {c.hidden_size} → {c.side ** 2}</p>',
         t("explain.pipe.decoder.note", output=output)),
        ("ll-pipe-data", "reconstruction", t("explain.pipe.output.title"),
         f'<img class="ll-pipe-digit" alt="{_attribute("explain.pipe.output.alt")}" '
         f'src="{_data_url(render.png_bytes(decoded))}">',
         t("explain.pipe.output.note", nll=float(e.sample_nll[0, 0]))),
    ]
    cells = []
    for i, (kind, term, title, body, note) in enumerate(boxes):
        if i:
            cells.append('<span class="ll-pipe-arrow" aria-hidden="true">→</span>')
        if term:  # the box's name opens the glossary at its term (ui/static/lesson.js)
            title = f'<span data-term="{term}">{title}</span>'
        cells.append(f'<div class="ll-pipe-box {kind}" style="--i:{i}" role="listitem"><h4>{title}</h4>{body}'
                     f'<p class="ll-pipe-note">{note}</p></div>')
    return (f'<div class="ll-pipe" role="list" aria-label="{_attribute("explain.pipe.label")}" '
            f'data-draw="{draw}">{"".join(cells)}</div>'
            f'<p class="ll-pipe-legend">{t("explain.pipe.legend", limit=SLIDER_LIMIT)}</p>')


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
    t = i18n.text
    summary = t("explain.dims.summary", pinned=f"<b>{pinned}</b>", total=len(order), sigma=PINNED_SIGMA,
                prior=f"<b>{prior}</b>", kl=PRIOR_KL)
    total = t("explain.dims.total", total=f'<b>{t("explain.nats", value=float(e.kl[0]))}</b>')
    prior_name = f'<span data-term="prior">{t("explain.dims.prior")}</span>'  # a word of the glossary (lesson.js)
    return (f'<div class="ll-dims" data-bands="{";".join(bands)}"><p class="ll-dims-summary">{summary}</p>'
            f'<p class="ll-dims-legend"><span class="ll-key ll-key-prior"></span>{prior_name} '
            f'<span class="ll-key ll-key-post"></span>{t("explain.dims.posterior")} <span class="ll-key ll-key-kl"></span>'
            f'{t("explain.dims.axis", limit=SLIDER_LIMIT)}</p>'
            f'{"".join(rows)}<p class="ll-dim-total">{total}</p></div>')


def sampling_html(view: ModelView, e: Explanation, draw: int) -> str:
    """Return the reparameterization trick: the formula, one worked dimension, and the grid of posterior decodes."""
    d = view.slider_dims()[0]
    mu, sigma, eps, z = (float(t) for t in (e.mu[0, d], e.sigma[0, d], e.eps[0, 0, d], e.z[0, 0, d]))
    nll = e.sample_nll[:, 0].cpu().numpy()
    count = len(nll)
    t = i18n.text
    equation = f"{_signed(mu)} + {sigma:.2f} × ({_signed(eps)}) = <b>{_signed(z)}</b>"
    worked = t("explain.sampling.worked", dim=d, equation=equation,
               trick=f'<i data-term="reparameterization">{t("explain.sampling.trick")}</i>')
    caption = t("explain.sampling.caption", count=count, draw=draw, low=float(nll.min()), high=float(nll.max()))
    return (f'<div class="ll-sampling" data-draw="{draw}">'
            '<p class="ll-formula-big">ε ~ N(0, I), &nbsp; z = μ + σ ⊙ ε</p>'
            f'<p>{worked}</p>'
            f'<img class="ll-samples" alt="{_attribute("explain.sampling.alt", count=count)}" '
            f'src="{_data_url(samples_png(e.images[:, 0]))}">'
            f'<p class="ll-caption">{caption}</p></div>')


def elbo_html(view: ModelView, e: Explanation, draw: int) -> str:
    """Return the negative ELBO of this digit as reconstruction + KL in nats, a bar of the two, and what each means."""
    c = view.vae.config
    recon, kl, nelbo = float(e.reconstruction[0]), float(e.kl[0]), float(e.nelbo[0])
    count = int(e.eps.shape[0])
    share = 100 * recon / nelbo if nelbo > 0 else 50.0
    t = i18n.text
    likelihood = t("explain.elbo.bernoulli" if c.likelihood == "bernoulli" else "explain.elbo.gaussian")
    # The words of the glossary here (the terms' own markup, data-term, opens it: ui/static/lesson.js).
    reconstruction = t("explain.elbo.recon", name=f'<b data-term="reconstruction">{t("explain.elbo.recon_name")}</b>',
                       formula="E<sub>q</sub>[−log p(x|z)]", pixels=c.side ** 2, likelihood=likelihood, count=count,
                       draw=draw)
    kl_text = t("explain.elbo.kl", formula='<b data-term="kl">KL</b>(q(z|x) ‖ N(0, I))')
    beta_text = t("explain.elbo.beta", beta=f'<b data-term="beta">β = {c.beta:g}</b>')
    return (f'<div class="ll-elbo" data-draw="{draw}">'
            f'<p class="ll-elbo-sum"><span data-term="elbo">−ELBO</span> = <span class="ll-recon">{_nats(recon)}</span> + '
            f'<span class="ll-kl">{_nats(kl)}</span> = <b>{t("explain.nats", value=nelbo)}</b></p>'
            f'<div class="ll-elbo-bar" role="img" aria-label="{_attribute("explain.elbo.bar", recon=recon, kl=kl)}">'
            f'<i class="ll-recon-bar" style="width:{share:.1f}%"></i><i class="ll-kl-bar"></i></div>'
            f'<p><span class="ll-key ll-key-recon"></span>{reconstruction}</p>'
            f'<p><span class="ll-key ll-key-kl"></span>{kl_text}</p><p>{beta_text}</p></div>')


def explain_html(view: ModelView, digit, draw: int = actions.EXPLAIN_DRAW) -> dict[str, str]:
    """Return the panel's HTML parts {pipeline, dims, sampling, elbo} for a digit (side, side) in [0,1] and eps draw
    `draw`, in the current language."""
    if not view.is_vae:  # nothing to explain, and no error on every digit: one sentence instead
        return {"pipeline": f'<p>{i18n.text("explain.not_a_vae")}</p>', "dims": "", "sampling": "", "elbo": ""}
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
