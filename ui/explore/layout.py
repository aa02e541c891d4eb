"""The Explore tab's layout: its explanations for students and one builder per panel.

Each builder creates its components inside the current Blocks context and returns them in a
small dataclass; page.py wires the events. No handlers here. The look (explore.css) and the
in-page scripts (explore.js for the page, canvas.js for drawing) sit beside this file.
"""

from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from ui.gradio_internals import SCRIPT_HEAD as GRADIO_INTERNALS_HEAD
from ui.limits import UPLOAD_LIMIT_WORDS

from . import actions
from .models import LATENT_SLOTS, NO_READER_VALUE, SLIDER_LIMIT, explorable_entries

HERE = Path(__file__).resolve().parent
EXPLORE_CSS = (HERE / "explore.css").read_text()
PAGE_SCRIPT = (HERE / "explore.js").read_text()
CANVAS_SCRIPT = (HERE / "canvas.js").read_text()
PRESENTED_SLOTS = 10  # sliders shown in the presentation layout: the most informative ones

INTRO = """**What am I looking at?** The VAE squeezes every image into a *code* z of 20 numbers
and can turn any code back into an image. Each slider is one number of z (one *latent dimension*).
Drag one and watch how the picture changes. The sliders are **sorted by KL** (in nats): the KL
measures how much information the model stores in that dimension. Dimensions at the top matter
most; ones marked *unused* are ignored by the decoder, so moving them changes nothing."""

SLIDER_HELP = """Drag, use the arrow keys or type a value. The coloured part of a track runs from 0 to the
value. **Click a slider's name** to see what that dimension does."""

READOUT_HELP = """**The RNN reads the picture one row at a time**, top to bottom, like reading lines of
text. After each row it updates its guess. The heatmap shows its belief after every row
(darker = more likely, the dot = its favourite class); move *Rows read* to replay the reading."""

MAP_HELP = """**The latent map** flattens the codes of real validation images onto the two
directions where they spread most (PCA). Each dot is one image, coloured by its class; the black
ring is your current z (on the edge when z lies beyond the plot). **Click a dot** to load that real
image's code; click empty space to go to that spot on the map's plane (the other directions at their average)."""

MANIFOLD_HELP = """**The decoded manifold**: this model has only two latent dimensions, so every code is a
point on a plane. The grid decodes a regular grid of such points; click a cell to go there."""

UPLOAD_HELP = """**Upload or draw a digit.** It is prepared the way MNIST was made: grey, inverted if
the paper is light, cropped to the ink, fitted into 20x20 and centred by its centre of mass in
28x28. On the left is what the model actually sees; on the right what the VAE rebuilt from its
code. The code (the mean of q(z|x)) is loaded into the sliders so you can edit your digit."""

INTERP_HELP = """**Interpolation** walks from one code to another and decodes every step. *Linear*
goes in a straight line; *spherical* follows a great circle, which keeps the length of z typical
for the prior N(0, I) and often gives crisper middle frames."""

TRAVERSAL_HELP = """**Traversal grid**: each row takes your current z and sweeps one dimension from
-3 to +3, keeping the others fixed. Rows are the dimensions in use, most KL first."""

# A polite live region (screen readers say its new text when they are idle), visually hidden.
ANNOUNCER_HTML = '<p id="ll-announce" class="ll-sr-only" role="status" aria-live="polite"></p>'

# The drawing canvas: white paper, one black round brush. The script (explore.js) draws the
# strokes and hands the picture to the server as a PNG data URL.
CANVAS_HTML = """<div class="ll-canvas-box">
<canvas class="ll-canvas" width="280" height="280" aria-label="Drawing canvas: draw one digit"></canvas>
<button type="button" class="ll-canvas-clear lg secondary">Clear</button></div>"""


@dataclass
class ModelPanel:
    """The checkpoint chooser, the reader chooser and the model's one-line description."""

    selector: gr.Dropdown
    reader: gr.Dropdown
    refresh: gr.Button
    info: gr.Markdown


@dataclass
class DigitPanel:
    """The decoded digit, the buttons that move z, the link, the LATENT_SLOTS sliders (KL order) and their notes."""

    digit: gr.HTML
    random: gr.Button
    reset: gr.Button
    present: gr.Button
    share: gr.Button
    link: gr.Textbox
    sliders: list
    slider_note: gr.HTML
    preview: gr.HTML


@dataclass
class ReadoutPanel:
    """The RNN's reading of the shown digit: top classes, the rows-read slider and the row-by-row picture."""

    caption: gr.Markdown
    probs: gr.Label
    rows_read: gr.Slider
    picture: gr.Image


@dataclass
class MapPanel:
    """The clickable latent map, one button per class centroid, and a 2-D model's manifold grid."""

    picture: gr.Image
    centroids: list
    manifold_box: gr.Column
    manifold: gr.Image


@dataclass
class UploadPanel:
    """File upload, drawing canvas, and the pictures: what the model saw (with notes) and its reconstruction."""

    file: gr.File
    canvas: gr.HTML
    model_saw: gr.Image
    notes: gr.Markdown
    reconstruction: gr.Image


@dataclass
class InterpolationPanel:
    """Endpoint and path choices, and the strip, animation and GIF download they produce."""

    start: gr.Dropdown
    end: gr.Dropdown
    method: gr.Radio
    steps: gr.Slider
    run: gr.Button
    strip: gr.Image
    animation: gr.HTML
    gif: gr.File


@dataclass
class TraversalPanel:
    """The button and picture of the traversal grid."""

    run: gr.Button
    picture: gr.Image


def model_choices(registry) -> list[tuple[str, str]]:
    """Return the model dropdown's (label, name) choices: a run's own title where it has one."""
    return [(f"{e.title} ({e.name})" if e.title else e.name, e.name) for e in explorable_entries(registry)]


def reader_choices(registry) -> list[tuple[str, str]]:
    """Return the reader dropdown's choices: every RowRNN checkpoint, and 'none'."""
    return [(f"{e.title} ({e.name})" if e.title else e.name, e.name)
            for e in registry.entries("rnn")] + [("none", NO_READER_VALUE)]


def build_page_script() -> gr.HTML:
    """Return the invisible component whose script gives the page its keyboard, link and presentation behaviour."""
    # head: Gradio loads the script of its internals the page script uses before running it.
    return gr.HTML("", html_template="", js_on_load=PAGE_SCRIPT, head=GRADIO_INTERNALS_HEAD,
                   elem_id="ll-page-script", padding=False)


def build_model_panel(registry, default: str | None, default_reader: str | None, info_text: str) -> ModelPanel:
    """Return the model and reader choosers and the model description."""
    with gr.Row(equal_height=False, elem_id="ll-model-row"):
        selector = gr.Dropdown(choices=model_choices(registry), value=default, label="Model (VAE or autoencoder checkpoint)",
                               scale=3, elem_id="ll-model",
                               info="digits, fashion, and the runs you train in the Train tab")
        reader = gr.Dropdown(choices=reader_choices(registry), value=default_reader or NO_READER_VALUE,
                             label="Reader (RowRNN)", scale=2, elem_id="ll-reader",
                             info="the RNN that reads the picture")
        refresh = gr.Button("Refresh lists", size="sm", scale=0, min_width=110, elem_id="ll-refresh")
    info = gr.Markdown(info_text, elem_id="ll-model-info")
    return ModelPanel(selector, reader, refresh, info)


def build_digit_panel(digit_html: str, labels: list[str]) -> DigitPanel:
    """Return the large decoded digit with its buttons beside two columns of latent sliders labelled `labels`."""
    with gr.Row(elem_id="ll-main"):
        with gr.Column(scale=2, min_width=300, elem_id="ll-digit-col"):
            # js_on_load=None: gr.HTML's default script would run again with every picture (the hot path).
            digit = gr.HTML(digit_html, elem_id="ll-digit-box", js_on_load=None)
            with gr.Row(elem_id="ll-buttons"):
                random = gr.Button("Random sample", variant="primary", elem_id="ll-random", min_width=100)
                reset = gr.Button("Reset to origin", elem_id="ll-reset", min_width=100)
            with gr.Row(elem_id="ll-buttons-2"):
                present = gr.Button("Presentation mode (Esc leaves)", size="sm", elem_id="ll-present", min_width=100)
                share = gr.Button("Copy link to this digit", size="sm", elem_id="ll-share", min_width=100)
            link = gr.Textbox(label="Link (opens this model and digit)", interactive=False,
                              elem_id="ll-link", buttons=["copy"])
            # explore.js writes the reader's verdict and an upload's result here for screen readers.
            gr.HTML(ANNOUNCER_HTML, elem_id="ll-announce-box", js_on_load=None, padding=False)
        with gr.Column(scale=3, elem_id="ll-sliders"):
            gr.Markdown(INTRO + "\n\n" + SLIDER_HELP, elem_classes="ll-help")
            slider_note = gr.HTML("", elem_id="ll-slider-note", js_on_load=None)
            sliders = []
            per_column = LATENT_SLOTS // 2
            with gr.Row(elem_id="ll-slider-columns"):
                for column in range(2):
                    with gr.Column(min_width=220, elem_classes="ll-slider-column"):
                        for slot in range(column * per_column, (column + 1) * per_column):
                            sliders.append(gr.Slider(
                                -SLIDER_LIMIT, SLIDER_LIMIT, value=0.0, step=0.05, label=labels[slot],
                                elem_id=f"ll-z{slot}", min_width=200, buttons=[],
                                elem_classes="ll-slider" if slot < PRESENTED_SLOTS else "ll-slider ll-extra"))
            preview = gr.HTML("", elem_id="ll-preview", js_on_load=None)
    return DigitPanel(digit, random, reset, present, share, link, sliders, slider_note, preview)


def build_readout_panel(classes: int, rows: int) -> ReadoutPanel:
    """Return the RNN readout column (built inside the caller's row): a belief over up to `classes` classes
    and a slider of the rows read, up to `rows` (the picture's side)."""
    gr.Markdown(READOUT_HELP, elem_classes="ll-help")
    caption = gr.Markdown("Reading: the decoded image.", elem_id="ll-caption")
    probs = gr.Label(num_top_classes=classes, label="RNN's belief after the rows read", elem_id="ll-probs")
    rows_read = gr.Slider(1, rows, value=rows, step=1, label="Rows read", elem_id="ll-rows-read")
    picture = gr.Image(type="pil", label="Row by row: the digit's rows beside the belief after each",
                       interactive=False, format="png", elem_id="ll-readout")
    return ReadoutPanel(caption, probs, rows_read, picture)


def build_map_panel(class_names: list[str], buttons: int) -> MapPanel:
    """Return the latent map column with `buttons` centroid buttons (those beyond `class_names` hidden until a
    model with more classes is shown) and the manifold grid (built inside the caller's row)."""
    gr.Markdown(MAP_HELP, elem_classes="ll-help")
    picture = gr.Image(type="pil", label="Latent map (click to move z)", interactive=False,
                       format="png", elem_id="ll-map")
    gr.Markdown("**Jump to a class centroid** (the average code of that class):", elem_classes="ll-help")
    with gr.Row(elem_id="ll-centroids"):
        centroids = [gr.Button(class_names[k] if k < len(class_names) else "", size="sm", min_width=40,
                               visible=k < len(class_names), elem_id=f"ll-centroid-{k}") for k in range(buttons)]
    with gr.Column(visible=False, elem_id="ll-manifold-box") as manifold_box:
        gr.Markdown(MANIFOLD_HELP, elem_classes="ll-help")
        manifold = gr.Image(type="pil", label="Decoded manifold (click to move z)", interactive=False,
                            format="png", elem_id="ll-manifold")
    return MapPanel(picture, centroids, manifold_box, manifold)


def build_upload_panel() -> UploadPanel:
    """Return the upload / draw accordion."""
    with gr.Accordion("Upload or draw a digit", open=True, elem_id="ll-upload-section"):
        gr.Markdown(UPLOAD_HELP)
        with gr.Row():
            with gr.Column():
                with gr.Tab("Draw", elem_id="ll-draw-tab"):
                    canvas = gr.HTML("", html_template=CANVAS_HTML, elem_id="ll-canvas", js_on_load=CANVAS_SCRIPT)
                with gr.Tab("Upload"):
                    file = gr.File(label=f"Image (PNG, JPEG or WebP, any dimensions, {UPLOAD_LIMIT_WORDS})", type="filepath",
                                   file_types=[".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"],
                                   elem_id="ll-upload")
            with gr.Column():
                model_saw = gr.Image(type="pil", label="What the model sees (28x28)", interactive=False,
                                     format="png", elem_id="ll-model-saw")
                notes = gr.Markdown("", elem_id="ll-notes")
            reconstruction = gr.Image(type="pil", label="VAE reconstruction", interactive=False, format="png",
                                      elem_id="ll-recon")
    return UploadPanel(file, canvas, model_saw, notes, reconstruction)


def build_interpolation_panel(choices) -> InterpolationPanel:
    """Return the interpolation accordion."""
    with gr.Accordion("Interpolation", open=False, elem_id="ll-interp-section"):
        gr.Markdown(INTERP_HELP)
        with gr.Row():
            start = gr.Dropdown(choices=choices, value="current", label="From", elem_id="ll-interp-from")
            end = gr.Dropdown(choices=choices, value="random", label="To", elem_id="ll-interp-to")
            method = gr.Radio(list(actions.INTERPOLATION_METHODS), value="spherical", label="Path")
            steps = gr.Slider(2, 24, value=10, step=1, label="Steps")
        run = gr.Button("Interpolate", elem_id="ll-interp")
        strip = gr.Image(type="pil", label="Interpolation strip", interactive=False, format="png",
                         elem_id="ll-interp-strip")
        with gr.Row():
            animation = gr.HTML("", elem_id="ll-interp-anim")
            gif = gr.File(label="Animated GIF (download)", interactive=False, elem_id="ll-interp-gif")
    return InterpolationPanel(start, end, method, steps, run, strip, animation, gif)


def build_traversal_panel() -> TraversalPanel:
    """Return the traversal-grid accordion."""
    with gr.Accordion("Traversal grid", open=False, elem_id="ll-grid-section"):
        gr.Markdown(TRAVERSAL_HELP)
        run = gr.Button("Draw traversal grid around current z", elem_id="ll-grid")
        picture = gr.Image(type="pil", label="Traversal grid", interactive=False, format="png",
                           elem_id="ll-grid-img")
    return TraversalPanel(run, picture)
