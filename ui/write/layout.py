"""The Write tab's layout: its explanations, and one builder per panel returning a small dataclass of components.

No handlers and no model work here: ui/write/page.py fills the components and wires the events.
"""

from dataclasses import dataclass

import gradio as gr

from ui.gradio_internals import SCRIPT_HEAD as GRADIO_INTERNALS_HEAD
from ui.limits import UPLOAD_LIMIT_WORDS

from . import render
from .actions import ENDINGS_SHOWN, MAX_SEED, SAMPLES_SHOWN, TEMPERATURE_RANGE, prompt_rows_range

INTRO = """**The writer** draws a digit like a language model writes a sentence: one row at a time, top to
bottom, each pixel drawn from its probability given all the rows above. So it knows *exactly* how
likely any black-and-white digit is, which the VAE cannot say. The RNN reader reads along."""

BARS_TITLE = "The reader's guess so far"
PLAY_INTERVAL_S = 0.6  # Play writes a row this often: slow enough for a class to follow each one
STEP_HINT = ("Step writes one row and shows, before you see the next, the writer's probability of ink for "
             "pixel of the row; Play steps on its own and Stop pauses.")

STEP_HELP = """**Step by step.** A row is the writer's "next token". Its pixels are drawn left to right, so each
pixel's probability is the one the writer gave it *given the rows above and the pixels already drawn to its
left in the row*, exactly as it was used to draw it. **Temperature** *T* divides each logit:
p<sub>T</sub> = σ(logit / *T*); below 1 it pushes every probability towards 0 or 1, above 1 towards ½.
The log-likelihood is the model's own (at temperature 1): the sum of log p(pixel drawn) over every pixel
written, which for a finished digit is exactly the writer's log p(digit | class)."""
TEMPERATURE_HELP = "below 1: bolder, more typical; above 1: wilder, noisier"

COMPLETE_HELP = f"""**Complete my digit.** Draw or upload a digit. It is prepared like MNIST and turned
into black and white (a pixel is ink when it is more than half grey). The writer keeps its top
*k* rows as a prompt and writes {ENDINGS_SHOWN} different endings below them, like a language model
completing a sentence; the reader says what each ending looks like. White rows are yours, amber
rows are the writer's. **Temperature is the trade between safe and surprising:** low temperatures
give the likeliest, most similar endings, high ones more varied and stranger endings."""

COMPARE_HELP = f"""**Side by side with the VAE.** {SAMPLES_SHOWN} digits from each model, both starting
from nothing: the VAE decodes codes z drawn from its prior (grey = the probability of ink), the
writer writes binary digits row by row. Below, how well each model explains real digits it never
trained on."""


BRUSH_RADIUS = 16  # pixels of the 336 px canvas

# Gradio's Sketchpad starts with no tool chosen ("select the draw tool to start"). Whenever this
# tab's canvas shows that prompt, choose its brush (ui/static/gradio_internals.js, loaded by `head`).
SELECT_BRUSH_JS = "window.llGradio.keepSketchBrush('#ll-complete-sketch');"


# The NLL table is read (and the side-by-side samples drawn) on first sight of the tab, not on every
# page load: an empty HTML under the digit clicks itself once it is on screen (a tab not shown is not laid out).
SHOWN_JS = """
const seen = new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting)) { seen.disconnect(); trigger('click'); }
});
seen.observe(element);
"""


@dataclass
class WritePanel:
    """Watch it write: the writer and the class, temperature and seed to write with, the digit and the reader's bars."""

    model: gr.Dropdown
    refresh: gr.Button
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


def _html(value: str, **kwargs) -> gr.HTML:
    """Return a gr.HTML styled by the tab's stylesheet (scoped to it)."""
    return gr.HTML(value, css_template=render.WRITE_CSS, **kwargs)


def label_choices(class_names) -> list[tuple[str, str]]:
    """Return the class dropdown's (label, value) choices: 'any class' then one per class."""
    return [("any class (the writer chooses)", "any")] + [(str(name), str(k)) for k, name in enumerate(class_names)]


def _temperature(elem_id: str) -> gr.Slider:
    low, high = TEMPERATURE_RANGE
    return gr.Slider(low, high, value=1.0, step=0.05, label="Temperature", info=TEMPERATURE_HELP, elem_id=elem_id)


def _seed(elem_id: str) -> gr.Number:
    return gr.Number(value=-1, precision=0, minimum=-1, maximum=MAX_SEED, label="Seed",
                     info="-1: new every time; a number repeats its result",
                     elem_id=elem_id)


def build_write_panel(writer_names: list[str], default: str | None, class_names, notice: str) -> WritePanel:
    """Return the controls beside the digit being written and the reader's bars."""
    gr.Markdown(INTRO)
    notice_md = gr.Markdown(notice, elem_id="ll-write-notice", visible=bool(notice))
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            model = gr.Dropdown(choices=writer_names, value=default, label="Writer (checkpoint)",
                                elem_id="ll-write-model", allow_custom_value=False,
                                info="the shipped writer and the writers you train in the Train tab")
            refresh = gr.Button("Refresh the list of writers", size="sm", elem_id="ll-write-refresh")
            label = gr.Dropdown(choices=label_choices(class_names), value="any", label="Class to write",
                                elem_id="ll-write-label")
            temperature = _temperature("ll-write-temperature")
            seed = _seed("ll-write-seed")
        with gr.Column(scale=1, min_width=260):
            digit = _html(render.empty_digit_html("Press Write to watch a digit appear row by row."),
                          elem_id="ll-write-digit")
            # Right under the digit, so on a phone too the digit stays in view while a class steps through it.
            with gr.Row(elem_id="ll-write-buttons"):
                ready = bool(default)
                write = gr.Button("Write", variant="primary", elem_id="ll-write-go", interactive=ready, min_width=60)
                step = gr.Button("Step", elem_id="ll-write-step", interactive=ready, min_width=60)
                play = gr.Button("Play", elem_id="ll-write-play", interactive=ready, min_width=60)
                stop = gr.Button("Stop", variant="stop", elem_id="ll-write-stop", interactive=False, min_width=60)
            next_row = gr.HTML(render.next_row_waiting_html(STEP_HINT), elem_id="ll-write-next",
                               css_template=render.WRITE_CSS + render.NEXT_ROW_CSS)
            play_timer = gr.Timer(PLAY_INTERVAL_S, active=False)
            # Under the digit, where its (empty) block adds no visible gap.
            shown = gr.HTML("", js_on_load=SHOWN_JS, elem_id="ll-write-shown", padding=False)
        with gr.Column(scale=1, min_width=260):
            bars = _html(render.waiting_bars_html(BARS_TITLE, "It reads along as the rows appear."),
                           elem_id="ll-write-bars")
            gr.Markdown(STEP_HELP, elem_id="ll-write-step-help")
    return WritePanel(model, refresh, notice_md, label, temperature, seed, write, step, play, stop, digit, next_row,
                      play_timer, bars, shown)


def build_complete_panel(side: int) -> CompletePanel:
    """Return the completion section for a writer of side x side images: input (draw or upload), its settings,
    the prompt and the endings."""
    with gr.Accordion("Complete my digit", open=True, elem_id="ll-complete-section"):
        gr.Markdown(COMPLETE_HELP)
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                with gr.Tab("Draw"):
                    # One black brush and no layers; SELECT_BRUSH_JS picks the brush, so the canvas is ready
                    # to draw on at once. A digit drawn ~250 px tall on the 336 px canvas is fitted into
                    # MNIST's 20 px box: a brush of radius BRUSH_RADIUS draws strokes ~2.5 px wide, like MNIST's.
                    sketch = gr.Sketchpad(label="Draw a digit", type="numpy", canvas_size=(336, 336),
                                          brush=gr.Brush(default_size=BRUSH_RADIUS, colors=["#000000"],
                                                         color_mode="fixed"),
                                          layers=False, elem_id="ll-complete-sketch")
                    complete = gr.Button("Complete my drawing", variant="primary", elem_id="ll-complete-go")
                with gr.Tab("Upload"):
                    file = gr.File(label=f"Image (PNG, JPEG or WebP, {UPLOAD_LIMIT_WORDS})", type="filepath",
                                   file_types=[".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"],
                                   elem_id="ll-complete-upload")
            with gr.Column(scale=1, min_width=300):
                low, high = prompt_rows_range(side)
                rows = gr.Slider(low, high, value=side // 2, step=1, label="Rows kept (k)",
                                 info="the prompt: the top k rows of your digit", elem_id="ll-complete-rows")
                temperature = _temperature("ll-complete-temperature")
                seed = _seed("ll-complete-seed")
                prompt = _html(render.prompt_html(None, side // 2), elem_id="ll-complete-prompt")
        endings = _html("", elem_id="ll-complete-endings", js_on_load=SELECT_BRUSH_JS, head=GRADIO_INTERNALS_HEAD)
    return CompletePanel(sketch, complete, file, rows, temperature, seed, prompt, endings)


def build_compare_panel() -> ComparePanel:
    """Return the side-by-side section: both models' samples and the NLL table (filled in when the tab is first shown)."""
    with gr.Accordion("Side by side with the VAE", open=True, elem_id="ll-compare-section"):
        gr.Markdown(COMPARE_HELP)
        sample = gr.Button("New samples from both", elem_id="ll-compare-go")
        with gr.Row():
            vae_samples = _html(render.samples_html(None, "VAE", "Press the button to draw samples."),
                                  elem_id="ll-compare-vae")
            writer_samples = _html(render.samples_html(None, "Writer", "Press the button to draw samples."),
                                     elem_id="ll-compare-writer")
        nll = gr.Markdown("**Negative log-likelihood:** reading the checkpoints…", elem_id="ll-write-nll")
    return ComparePanel(sample, vae_samples, writer_samples, nll)

