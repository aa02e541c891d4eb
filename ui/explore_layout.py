"""The Explore tab's layout: its explanations for students, its CSS, and one builder per panel.

Each builder creates its components inside the current Blocks context and returns them in a
small dataclass; ui/explore.py wires the events. No handlers here.
"""

from dataclasses import dataclass

import gradio as gr
import numpy as np

from . import explore_actions as actions
from . import explore_render as render
from .explore_models import LATENT_SLOTS, SLIDER_LIMIT, ModelView

EXPLORE_CSS = """
.ll-digit { width: 100%; max-width: 340px; aspect-ratio: 1; image-rendering: pixelated; display: block;
            margin: 0 auto; background: #000; border-radius: 6px; }
#ll-digit-box { min-height: 200px; }
#ll-sliders .block { padding: 2px 6px !important; }
#ll-sliders input[type=number] { width: 4.2em; }
#ll-sliders label span { font-size: 12px; }
#ll-sliders .min_value, #ll-sliders .max_value { display: none; }
#ll-sliders .reset-button { display: none; }
.ll-anim { image-rendering: pixelated; width: 168px; }
"""

INTRO = """**What am I looking at?** The VAE squeezes every 28x28 image into a *code* z of 20 numbers
and can turn any code back into an image. Each slider is one number of z (one *latent dimension*).
Drag one and watch how the picture changes. The sliders are **sorted by KL** (in nats): the KL
measures how much information the model stores in that dimension. Dimensions at the top matter
most; ones marked *unused* are ignored by the decoder, so moving them changes nothing."""

READOUT_HELP = """**The RNN reads the picture one row at a time**, top to bottom, like reading lines of
text. After each row it updates its guess. The heatmap shows its belief after every row
(darker = more likely, the dot = its favourite class); move *Rows read* to replay the reading."""

MAP_HELP = """**The latent map** flattens the codes of real validation images onto the two
directions where they spread most (PCA). Each dot is one image, coloured by its class; the black
ring is your current z. **Click a dot** to load that real image's code; click empty space to go to
that spot on the map's plane (the other directions at their average)."""

UPLOAD_HELP = """**Upload or draw a digit.** It is prepared the way MNIST was made: grey, inverted if
the paper is light, cropped to the ink, fitted into 20x20 and centred by its centre of mass in
28x28. On the left is what the model actually sees; on the right what the VAE rebuilt from its
code. The code (the mean of q(z|x)) is loaded into the sliders so you can edit your digit."""

INTERP_HELP = """**Interpolation** walks from one code to another and decodes every step. *Linear*
goes in a straight line; *spherical* follows a great circle, which keeps the length of z typical
for the prior N(0, I) and often gives crisper middle frames."""

TRAVERSAL_HELP = """**Traversal grid**: each row takes your current z and sweeps one dimension from
-3 to +3, keeping the others fixed. Rows are the dimensions in use, most KL first."""


@dataclass
class ModelPanel:
    """The checkpoint chooser and its one-line description."""

    selector: gr.Dropdown
    refresh: gr.Button
    info: gr.Markdown


@dataclass
class DigitPanel:
    """The decoded digit, the buttons that move z, the share link and the LATENT_SLOTS sliders (KL order)."""

    digit: gr.HTML
    random: gr.Button
    reset: gr.Button
    share: gr.Button
    link: gr.Textbox
    sliders: list


@dataclass
class ReadoutPanel:
    """The RNN's reading of the shown digit: top classes, the rows-read slider and the row-by-row picture."""

    caption: gr.Markdown
    probs: gr.Label
    rows_read: gr.Slider
    picture: gr.Image


@dataclass
class MapPanel:
    """The clickable latent map and one button per class centroid."""

    picture: gr.Image
    centroids: list


@dataclass
class UploadPanel:
    """File upload, sketchpad, and the two pictures: what the model saw and its reconstruction."""

    file: gr.File
    sketch: gr.Sketchpad
    read_sketch: gr.Button
    model_saw: gr.Image
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


def build_model_panel(vae_names: list[str], default: str | None, first: ModelView | None) -> ModelPanel:
    """Return the model chooser row and the model description."""
    with gr.Row(equal_height=True):
        selector = gr.Dropdown(choices=vae_names, value=default, label="Model (VAE checkpoint)", scale=3,
                               elem_id="ll-model", info="digits, fashion, and the runs you train in the Train tab")
        refresh = gr.Button("Refresh list", scale=0, min_width=120, elem_id="ll-refresh")
    info = gr.Markdown(first.describe() if first else "No VAE checkpoint found.")
    return ModelPanel(selector, refresh, info)


def build_digit_panel(first: ModelView | None) -> DigitPanel:
    """Return the large decoded digit with its buttons beside two columns of latent sliders."""
    with gr.Row():
        with gr.Column(scale=2, min_width=300):
            digit = gr.HTML(render.digit_html(first.decode(np.zeros(first.dims))) if first else "",
                            elem_id="ll-digit-box", js_on_load=None)  # no per-update script: hot path
            with gr.Row():
                random = gr.Button("Random sample", variant="primary", elem_id="ll-random")
                reset = gr.Button("Reset to origin", elem_id="ll-reset")
            with gr.Row():
                share = gr.Button("Copy link to this digit", size="sm", elem_id="ll-share")
            link = gr.Textbox(label="Link (opens this model and digit)", interactive=False,
                              elem_id="ll-link", buttons=["copy"])
        with gr.Column(scale=3, elem_id="ll-sliders"):
            sliders = []
            per_column = LATENT_SLOTS // 2
            with gr.Row():
                for column in range(2):
                    with gr.Column(min_width=220):
                        for slot in range(column * per_column, (column + 1) * per_column):
                            sliders.append(gr.Slider(
                                -SLIDER_LIMIT, SLIDER_LIMIT, value=0.0, step=0.05,
                                label=first.slider_label(slot) if first else f"z{slot}",
                                interactive=bool(first) and slot < first.shown_slots,
                                elem_id=f"ll-z{slot}", min_width=200))
    return DigitPanel(digit, random, reset, share, link, sliders)


def build_readout_panel() -> ReadoutPanel:
    """Return the RNN readout column (built inside the caller's row)."""
    gr.Markdown(READOUT_HELP)
    caption = gr.Markdown("Reading: the decoded image.")
    probs = gr.Label(num_top_classes=10, label="RNN's belief after the rows read", elem_id="ll-probs")
    rows_read = gr.Slider(1, 28, value=28, step=1, label="Rows read", elem_id="ll-rows-read")
    picture = gr.Image(type="pil", label="Row by row: the digit's rows beside the belief after each",
                       interactive=False, format="png", elem_id="ll-readout")
    return ReadoutPanel(caption, probs, rows_read, picture)


def build_map_panel(first: ModelView | None) -> MapPanel:
    """Return the latent map column with its centroid buttons (built inside the caller's row)."""
    gr.Markdown(MAP_HELP)
    picture = gr.Image(type="pil", label="Latent map (click to move z)", interactive=False,
                       format="png", elem_id="ll-map")
    gr.Markdown("**Jump to a class centroid** (the average code of that class):")
    with gr.Row():
        centroids = [gr.Button(first.class_names[k] if first else str(k), size="sm", min_width=40,
                               elem_id=f"ll-centroid-{k}") for k in range(10)]
    return MapPanel(picture, centroids)


def build_upload_panel() -> UploadPanel:
    """Return the upload / draw accordion."""
    with gr.Accordion("Upload or draw a digit", open=True):
        gr.Markdown(UPLOAD_HELP)
        with gr.Row():
            with gr.Column():
                with gr.Tab("Upload"):
                    file = gr.File(label="Image (PNG, JPEG or WebP, any size)", type="filepath",
                                   file_types=[".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"],
                                   elem_id="ll-upload")
                with gr.Tab("Draw", elem_id="ll-draw-tab"):
                    sketch = gr.Sketchpad(label="Draw a digit", type="numpy", canvas_size=(336, 336),
                                          brush=gr.Brush(default_size=22, colors=["#000000"], color_mode="fixed"),
                                          elem_id="ll-sketch")
                    read_sketch = gr.Button("Read my drawing", variant="primary", elem_id="ll-read-sketch")
            model_saw = gr.Image(type="pil", label="What the model sees (28x28)", interactive=False,
                                 format="png", elem_id="ll-model-saw")
            reconstruction = gr.Image(type="pil", label="VAE reconstruction", interactive=False, format="png",
                                      elem_id="ll-recon")
    return UploadPanel(file, sketch, read_sketch, model_saw, reconstruction)


def build_interpolation_panel(first: ModelView | None) -> InterpolationPanel:
    """Return the interpolation accordion."""
    with gr.Accordion("Interpolation", open=False, elem_id="ll-interp-section"):
        gr.Markdown(INTERP_HELP)
        choices = actions.endpoint_choices(first) if first else []
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
