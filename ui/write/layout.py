"""The Write tab's layout: one builder per panel returning a small dataclass of components.

No handlers and no model work here: ui/write/page.py fills the components and wires the events.
Every word is the catalogue's (i18n/, keys write.*): `words()` for what Gradio shows in the page's
language; the pictures' words (render.said) are said again in the visitor's language by SAY_JS.
"""

from dataclasses import dataclass

import gradio as gr

from ui.gradio_internals import SCRIPT_HEAD as GRADIO_INTERNALS_HEAD
from ui.language import words
from ui.limits import MAX_UPLOAD_BYTES

from . import render
from .actions import MAX_SEED, TEMPERATURE_RANGE, class_name, prompt_rows_range

PLAY_INTERVAL_S = 0.6  # Play writes a row this often: slow enough for a class to follow each one

BRUSH_RADIUS = 16  # pixels of the 336 px canvas

# Gradio's Sketchpad starts with no tool chosen ("select the draw tool to start"). Whenever this
# tab's canvas shows that prompt, choose its brush (ui/static/gradio_internals.js, loaded by `head`).
SELECT_BRUSH_JS = "window.llGradio.keepSketchBrush('#ll-complete-sketch');"


# The NLL table is read (and the side-by-side samples drawn) on first sight of the tab, not on every
# page load: an empty HTML clicks itself once its tab's panel is on screen (a tab not shown is not laid
# out). The panel, not the element itself: a longer text above can push the element below the fold,
# and a jump to the table below would pass it unseen.
SHOWN_JS = """
const seen = new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting)) { seen.disconnect(); trigger('click'); }
});
seen.observe(element.closest('[role="tabpanel"]') || element);
"""

# A picture built into the page is rendered once, in English; its words carry their keys (render.said), and
# this says them again in the visitor's language when it is shown. Later pictures come from handlers,
# already in the caller's language.
SAY_JS = """
llLanguage.ready.then(() => {
  for (const span of element.querySelectorAll('[data-ll-key]')) span.textContent = llLanguage.t(span.dataset.llKey);
});
"""


@dataclass
class WritePanel:
    """Watch it write: the writer and the class, temperature and seed to write with, the digit and the reader's bars."""

    model: gr.Dropdown
    refresh: gr.Button
    present: gr.Button  # the presentation layout (ui/explore/explore.js), for this tab too
    notice: gr.Markdown
    label: gr.Dropdown
    temperature: gr.Slider
    seed: gr.Number
    write: gr.Button
    step: gr.Button  # one row, with its probabilities
    play: gr.Button  # steps on a timer
    stop: gr.Button
    digit: gr.HTML
    next_row: gr.HTML  # the heat strips of the row just stepped
    play_timer: gr.Timer  # ticks while playing (per session)
    bars: gr.HTML
    shown: gr.HTML  # empty; fires its click event the first time the tab is on screen (SHOWN_JS)


@dataclass
class CompletePanel:
    """Complete my digit: sketchpad or upload, rows kept, temperature and seed; the prompt and its endings."""

    sketch: gr.Sketchpad
    complete: gr.Button
    file: gr.File
    rows: gr.Slider
    temperature: gr.Slider
    seed: gr.Number
    prompt: gr.HTML
    endings: gr.HTML


@dataclass
class ComparePanel:
    """Side by side with the VAE: new samples button, both sample grids and the NLL table."""

    sample: gr.Button
    vae_samples: gr.HTML
    writer_samples: gr.HTML
    nll: gr.Markdown


def _html(value: str, css: str = render.WRITE_CSS, **kwargs) -> gr.HTML:
    """Return a gr.HTML styled by the tab's stylesheet (scoped to it), its words said in the visitor's language."""
    return gr.HTML(value, css_template=css, js_on_load=SAY_JS, **kwargs)


def label_choices(dataset: str, class_names, say) -> list[tuple[str, str]]:
    """Return the class dropdown's (shown, value) choices: 'any class' then one per class; the values are the
    same in every language. `say`: ui.language.words when building the page, i18n.text in a handler."""
    return [(say("write.label.any"), "any")] + [(class_name(dataset, k, name, say), str(k))
                                                 for k, name in enumerate(class_names)]


def _temperature(elem_id: str) -> gr.Slider:
    low, high = TEMPERATURE_RANGE
    return gr.Slider(low, high, value=1.0, step=0.05, label=words("write.temperature.label"),
                     info=words("write.temperature.info"), elem_id=elem_id)


def _seed(elem_id: str) -> gr.Number:
    return gr.Number(value=-1, precision=0, minimum=-1, maximum=MAX_SEED, label=words("write.seed.label"),
                     info=words("write.seed.info"), elem_id=elem_id)


def build_write_panel(writer_names: list[str], default: str | None, dataset: str, class_names) -> WritePanel:
    """Return the controls beside the digit being written and the reader's bars (a notice when there is no writer)."""
    gr.Markdown(words("write.intro"))
    notice_md = gr.Markdown(words("write.no_writer") if not writer_names else "", elem_id="ll-write-notice",
                            visible=not writer_names)
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            model = gr.Dropdown(choices=writer_names, value=default, label=words("write.model.label"),
                                elem_id="ll-write-model", allow_custom_value=False, info=words("write.model.info"))
            refresh = gr.Button(words("write.refresh"), size="sm", elem_id="ll-write-refresh")
            present = gr.Button(words("write.present"), size="sm", elem_id="ll-write-present")
            label = gr.Dropdown(choices=label_choices(dataset, class_names, words), value="any",
                                label=words("write.label.label"), elem_id="ll-write-label")
            temperature = _temperature("ll-write-temperature")
            seed = _seed("ll-write-seed")
        with gr.Column(scale=1, min_width=260):
            digit = _html(render.empty_digit_html(), elem_id="ll-write-digit")
            # Right under the digit, so on a phone too the digit stays in view while a class steps through it.
            with gr.Row(elem_id="ll-write-buttons"):
                ready = bool(default)
                write = gr.Button(words("write.button.write"), variant="primary", elem_id="ll-write-go",
                                  interactive=ready, min_width=60)
                step = gr.Button(words("write.button.step"), elem_id="ll-write-step", interactive=ready, min_width=60)
                play = gr.Button(words("write.button.play"), elem_id="ll-write-play", interactive=ready, min_width=60)
                stop = gr.Button(words("write.button.stop"), variant="stop", elem_id="ll-write-stop", interactive=False,
                                 min_width=60)
            next_row = _html(render.next_row_waiting_html(), render.WRITE_CSS + render.NEXT_ROW_CSS,
                             elem_id="ll-write-next")
            play_timer = gr.Timer(PLAY_INTERVAL_S, active=False)
            # Under the digit, where its (empty) block adds no visible gap.
            shown = gr.HTML("", js_on_load=SHOWN_JS, elem_id="ll-write-shown", padding=False)
        with gr.Column(scale=1, min_width=260):
            bars = _html(render.waiting_bars_html(), elem_id="ll-write-bars")
            gr.Markdown(words("write.step.help"), elem_id="ll-write-step-help")
    return WritePanel(model, refresh, present, notice_md, label, temperature, seed, write, step, play, stop, digit, next_row,
                      play_timer, bars, shown)


def build_complete_panel(side: int) -> CompletePanel:
    """Return the completion section for a writer of side x side images: input (draw or upload), its settings,
    the prompt and the endings."""
    with gr.Accordion(words("write.complete.title"), open=True, elem_id="ll-complete-section"):
        gr.Markdown(words("write.complete.help"))
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                with gr.Tab(words("write.complete.draw_tab")):
                    # One black brush and no layers; SELECT_BRUSH_JS picks the brush, so the canvas is ready
                    # to draw on at once. A digit drawn ~250 px tall on the 336 px canvas is fitted into
                    # MNIST's 20 px box: a brush of radius BRUSH_RADIUS draws strokes ~2.5 px wide, like MNIST's.
                    sketch = gr.Sketchpad(label=words("write.complete.sketch_label"), type="numpy", canvas_size=(336, 336),
                                          brush=gr.Brush(default_size=BRUSH_RADIUS, colors=["#000000"],
                                                         color_mode="fixed"),
                                          layers=False, elem_id="ll-complete-sketch")
                    complete = gr.Button(words("write.complete.go"), variant="primary", elem_id="ll-complete-go")
                with gr.Tab(words("write.complete.upload_tab")):
                    file = gr.File(label=words("write.complete.file_label", mb=MAX_UPLOAD_BYTES // 2**20), type="filepath",
                                   file_types=[".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"],
                                   elem_id="ll-complete-upload")
            with gr.Column(scale=1, min_width=300):
                low, high = prompt_rows_range(side)
                rows = gr.Slider(low, high, value=side // 2, step=1, label=words("write.complete.rows_label"),
                                 info=words("write.complete.rows_info"), elem_id="ll-complete-rows")
                temperature = _temperature("ll-complete-temperature")
                seed = _seed("ll-complete-seed")
                prompt = _html(render.prompt_html(None, side // 2), elem_id="ll-complete-prompt")
        endings = gr.HTML("", css_template=render.WRITE_CSS, elem_id="ll-complete-endings", js_on_load=SELECT_BRUSH_JS,
                          head=GRADIO_INTERNALS_HEAD)
    return CompletePanel(sketch, complete, file, rows, temperature, seed, prompt, endings)


def build_compare_panel() -> ComparePanel:
    """Return the side-by-side section: both models' samples and the NLL table (filled in when the tab is first shown)."""
    with gr.Accordion(words("write.compare.title"), open=True, elem_id="ll-compare-section"):
        gr.Markdown(words("write.compare.help"))
        sample = gr.Button(words("write.compare.go"), elem_id="ll-compare-go")
        with gr.Row():
            vae_samples = _html(render.samples_waiting_html("write.compare.vae"),
                                elem_id="ll-compare-vae")
            writer_samples = _html(render.samples_waiting_html("write.compare.writer"),
                                   elem_id="ll-compare-writer")
        nll = gr.Markdown(words("write.nll.reading_all"), elem_id="ll-write-nll")
    return ComparePanel(sample, vae_samples, writer_samples, nll)

