"""The Explore tab's layout: its explanations for students and one builder per panel.

Each builder creates its components inside the current Blocks context and returns them in a
small dataclass; page.py wires the events. No handlers here. The look (explore.css) and the
in-page scripts (explore.js for the page, canvas.js for drawing) sit beside this file.
"""

from dataclasses import dataclass
from pathlib import Path

import gradio as gr

import i18n
from i18n import Text
from genmodels.preprocess import MNIST_SIDE
from ui.gradio_internals import SCRIPT_HEAD as GRADIO_INTERNALS_HEAD
from ui.language import words
from ui.limits import MAX_UPLOAD_BYTES

from . import actions
from .models import LATENT_SLOTS, NO_READER_VALUE, SLIDER_LIMIT, explorable_entries

HERE = Path(__file__).resolve().parent
EXPLORE_CSS = (HERE / "explore.css").read_text()
PAGE_SCRIPT = (HERE / "explore.js").read_text()
CANVAS_SCRIPT = (HERE / "canvas.js").read_text()
PRESENTED_SLOTS = 10  # sliders shown in the presentation layout: the most informative ones
OWN_PICTURE_PX = 190  # height of what the model sees of an upload and of its reconstruction, side by side

# A polite live region (screen readers say its new text when they are idle), visually hidden.
ANNOUNCER_HTML = '<p id="ll-announce" role="status" aria-live="polite"></p>'
# Beside "Copy link": explore.js says there that the link was copied (or shows it to copy by hand).
SHARE_NOTE_HTML = '<p id="ll-share-note" class="ll-share-note"></p>'
# Under the file field: explore.js refuses a file over the limit there, in the page's language (Gradio's own
# refusal is an English toast), and says why.
UPLOAD_NOTE_HTML = (f'<p id="ll-upload-note" class="ll-upload-note" role="alert" '
                    f'data-limit-bytes="{MAX_UPLOAD_BYTES}"></p>')

# The drawing canvas: white paper, one black round brush. The script (canvas.js) draws the
# strokes, hands the picture to the server as a PNG data URL and names the canvas and its button
# in the page's language (explore.canvas_name, explore.canvas_clear).
CANVAS_HTML = """<div class="ll-canvas-box">
<canvas class="ll-canvas" width="280" height="280"></canvas>
<button type="button" class="ll-canvas-clear lg secondary"></button></div>"""

# What a button runs to turn the presentation layout on or off (explore.js, window.llTogglePresenting): the
# same class and the same Esc to leave on every tab; each tab's pictures grow in it by its own stylesheet.
PRESENT_JS = "() => { window.llTogglePresenting?.(); }"


def shown(text: Text):
    """Return a catalogue text kept as key and parameters (i18n.Text) as words() for a component built into the page."""
    return words(text.key, **text.params)


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
    share_note: gr.HTML
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


def reader_choices(registry, say=i18n.text) -> list[tuple]:
    """Return the reader dropdown's choices: every RowRNN checkpoint, and 'none' (its shown text from `say`:
    i18n.text while answering a call, words while building the page)."""
    return [(f"{e.title} ({e.name})" if e.title else e.name, e.name)
            for e in registry.entries("rnn")] + [(say("explore.reader_none"), NO_READER_VALUE)]


def build_page_script() -> gr.HTML:
    """Return the invisible component whose script gives the page its keyboard, link and presentation behaviour."""
    # head: Gradio loads the script of its internals the page script uses before running it.
    return gr.HTML("", html_template="", js_on_load=PAGE_SCRIPT, head=GRADIO_INTERNALS_HEAD,
                   elem_id="ll-page-script", padding=False)


def build_model_panel(registry, default: str | None, default_reader: str | None, info_text: Text) -> ModelPanel:
    """Return the model and reader choosers and the model description."""
    with gr.Row(equal_height=False, elem_id="ll-model-row"):
        selector = gr.Dropdown(choices=model_choices(registry), value=default, label=words("explore.model_label"),
                               scale=3, elem_id="ll-model", info=words("explore.model_info"))
        reader = gr.Dropdown(choices=reader_choices(registry, words), value=default_reader or NO_READER_VALUE,
                             label=words("explore.reader_label"), scale=2, elem_id="ll-reader",
                             info=words("explore.reader_info"))
        refresh = gr.Button(words("explore.refresh"), size="sm", scale=0, min_width=110, elem_id="ll-refresh")
    info = gr.Markdown(shown(info_text), elem_id="ll-model-info")
    return ModelPanel(selector, reader, refresh, info)


def build_digit_panel(digit_html: str, labels: list[Text]) -> DigitPanel:
    """Return the large decoded digit with its buttons beside two columns of latent sliders labelled `labels`
    (built inside the caller's row, #ll-main: two of its columns)."""
    with gr.Column(scale=2, min_width=300, elem_id="ll-digit-col"):
        # js_on_load=None: gr.HTML's default script would run again with every picture (the hot path).
        digit = gr.HTML(digit_html, elem_id="ll-digit-box", js_on_load=None)
        with gr.Row(elem_id="ll-buttons"):
            random = gr.Button(words("explore.random"), variant="primary", elem_id="ll-random", min_width=100)
            reset = gr.Button(words("explore.reset"), elem_id="ll-reset", min_width=100)
        with gr.Row(elem_id="ll-buttons-2"):
            present = gr.Button(words("explore.present"), size="sm", elem_id="ll-present", min_width=100)
            share = gr.Button(words("explore.share"), size="sm", elem_id="ll-share", min_width=100)
        # explore.js says here (and in the live region) that the link was copied, or how to copy it.
        share_note = gr.HTML(SHARE_NOTE_HTML, elem_id="ll-share-note-box", js_on_load=None, padding=False)
        link = gr.Textbox(label=words("explore.link_label"), interactive=False,
                          elem_id="ll-link", buttons=["copy"])
        # explore.js writes the reader's verdict and an upload's result here for screen readers; the whole block is
        # visually hidden (its padding took an empty band under the buttons).
        gr.HTML(ANNOUNCER_HTML, elem_id="ll-announce-box", elem_classes="ll-sr-only", js_on_load=None, padding=False)
    with gr.Column(scale=3, elem_id="ll-sliders"):
        slider_note = gr.HTML("", elem_id="ll-slider-note", js_on_load=None)
        sliders = []
        per_column = LATENT_SLOTS // 2
        with gr.Row(elem_id="ll-slider-columns"):
            for column in range(2):
                with gr.Column(min_width=220, elem_classes="ll-slider-column"):
                    for slot in range(column * per_column, (column + 1) * per_column):
                        sliders.append(gr.Slider(
                            -SLIDER_LIMIT, SLIDER_LIMIT, value=0.0, step=0.05, label=shown(labels[slot]),
                            elem_id=f"ll-z{slot}", min_width=200, buttons=[],
                            elem_classes="ll-slider" if slot < PRESENTED_SLOTS else "ll-slider ll-extra"))
        preview = gr.HTML("", elem_id="ll-preview", js_on_load=None)
    return DigitPanel(digit, random, reset, present, share, share_note, link, sliders, slider_note, preview)


def build_readout_panel(classes: int, rows: int) -> ReadoutPanel:
    """Return the RNN readout column (built inside the caller's row): a belief over up to `classes` classes
    and a slider of the rows read, up to `rows` (the picture's side)."""
    gr.Markdown(words("explore.readout_help"), elem_classes="ll-help")
    caption = gr.Markdown(words("explore.caption_decoded"), elem_id="ll-caption")
    probs = gr.Label(num_top_classes=classes, label=words("explore.probs_label"), elem_id="ll-probs")
    rows_read = gr.Slider(1, rows, value=rows, step=1, label=words("explore.rows_read"), elem_id="ll-rows-read")
    picture = gr.Image(type="pil", label=words("explore.readout_label"),
                       interactive=False, format="png", elem_id="ll-readout")
    return ReadoutPanel(caption, probs, rows_read, picture)


def build_map_panel(class_names: list[str], buttons: int) -> MapPanel:
    """Return the latent map column with `buttons` centroid buttons (those beyond `class_names` hidden until a
    model with more classes is shown) and the manifold grid (built inside the caller's row)."""
    gr.Markdown(words("explore.map_help"), elem_classes="ll-help")
    picture = gr.Image(type="pil", label=words("explore.map_label"), interactive=False,
                       format="png", elem_id="ll-map")
    gr.Markdown(words("explore.centroids_help"), elem_classes="ll-help")
    with gr.Row(elem_id="ll-centroids"):
        centroids = [gr.Button(class_names[k] if k < len(class_names) else "", size="sm", min_width=40,
                               visible=k < len(class_names), elem_id=f"ll-centroid-{k}") for k in range(buttons)]
    with gr.Column(visible=False, elem_id="ll-manifold-box") as manifold_box:
        gr.Markdown(words("explore.manifold_help"), elem_classes="ll-help")
        manifold = gr.Image(type="pil", label=words("explore.manifold_label"), interactive=False,
                            format="png", elem_id="ll-manifold")
    return MapPanel(picture, centroids, manifold_box, manifold)


def build_upload_panel() -> UploadPanel:
    """Return the upload / draw panel (built inside the caller's column, beside the sliders): the canvas or the
    file, what the model sees of it beside its reconstruction, the notes, then how it is prepared."""
    with gr.Accordion(words("explore.upload_section"), open=True, elem_id="ll-upload-section"):
        with gr.Tab(words("explore.draw_tab"), elem_id="ll-draw-tab"):
            canvas = gr.HTML("", html_template=CANVAS_HTML, elem_id="ll-canvas", js_on_load=CANVAS_SCRIPT)
        with gr.Tab(words("explore.upload_tab"), elem_id="ll-upload-tab"):
            file = gr.File(label=words("explore.upload_label", mb=MAX_UPLOAD_BYTES // 2**20), type="filepath",
                           file_types=[".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"], elem_id="ll-upload")
            gr.HTML(UPLOAD_NOTE_HTML, elem_id="ll-upload-note-box", js_on_load=None, padding=False)
        with gr.Row(elem_id="ll-own-pictures"):
            # No buttons: on a phone the two pictures share a row, and Gradio's three buttons covered their titles.
            model_saw = gr.Image(type="pil", label=words("explore.model_saw", side=MNIST_SIDE), interactive=False,
                                 format="png", elem_id="ll-model-saw", height=OWN_PICTURE_PX, min_width=120,
                                 buttons=[])
            reconstruction = gr.Image(type="pil", label=words("explore.reconstruction"), interactive=False, format="png",
                                      elem_id="ll-recon", height=OWN_PICTURE_PX, min_width=120, buttons=[])
        notes = gr.Markdown("", elem_id="ll-notes")
        gr.Markdown(words("explore.upload_help"), elem_classes="ll-help")
    return UploadPanel(file, canvas, model_saw, notes, reconstruction)


def build_intro() -> gr.Markdown:
    """Return what the tab shows and how to use the sliders, for students (below the digit, sliders and upload)."""
    return gr.Markdown(words("explore.intro"), elem_classes="ll-help", elem_id="ll-intro")


def build_interpolation_panel(choices) -> InterpolationPanel:
    """Return the interpolation accordion."""
    with gr.Accordion(words("explore.interp_section"), open=False, elem_id="ll-interp-section"):
        gr.Markdown(words("explore.interp_help"))
        with gr.Row():
            start = gr.Dropdown(choices=choices, value="current", label=words("explore.interp_from"), elem_id="ll-interp-from")
            end = gr.Dropdown(choices=choices, value="random", label=words("explore.interp_to"), elem_id="ll-interp-to")
            # The value is the method's name in every language (API callers send it); only its shown name changes.
            method = gr.Radio([(words(f"explore.method_{name}"), name) for name in actions.INTERPOLATION_METHODS],
                              value="spherical", label=words("explore.interp_path"))
            steps = gr.Slider(2, 24, value=10, step=1, label=words("explore.interp_steps"))
        run = gr.Button(words("explore.interpolate"), elem_id="ll-interp")
        strip = gr.Image(type="pil", label=words("explore.interp_strip"), interactive=False, format="png",
                         elem_id="ll-interp-strip")
        with gr.Row():
            animation = gr.HTML("", elem_id="ll-interp-anim")
            gif = gr.File(label=words("explore.interp_gif"), interactive=False, elem_id="ll-interp-gif")
    return InterpolationPanel(start, end, method, steps, run, strip, animation, gif)


def build_traversal_panel() -> TraversalPanel:
    """Return the traversal-grid accordion."""
    with gr.Accordion(words("explore.grid_section"), open=False, elem_id="ll-grid-section"):
        gr.Markdown(words("explore.grid_help", low=f"{-SLIDER_LIMIT:g}", high=f"{SLIDER_LIMIT:g}"))
        run = gr.Button(words("explore.grid_run"), elem_id="ll-grid")
        picture = gr.Image(type="pil", label=words("explore.grid_label"), interactive=False, format="png",
                           elem_id="ll-grid-img")
    return TraversalPanel(run, picture)
