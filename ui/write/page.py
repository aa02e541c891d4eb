"""The Write tab's page: components, per-session state and one method per event, wired at the end.

Model work is in ui/write/actions.py, pictures in ui/write/render.py, the layout in
ui/write/layout.py. Per-session values live in gr.State (the binarized prompt being completed);
the loaded models are shared and read-only.

The Write button streams: its handler is a generator that yields one small update per row
(a ~300-byte PNG and ten bars), paced by ROW_DELAY_S so the eye can follow the writing.
"""

import functools
import time

import gradio as gr
import numpy as np

from ui.errors import user_errors

from . import actions, render
from .layout import BARS_TITLE, build_compare_panel, build_complete_panel, build_write_panel, label_choices

ROW_DELAY_S = 0.035  # pause after each written row: a digit takes about a second to appear
WRITE_CONCURRENCY = dict(concurrency_id="write", concurrency_limit=4)
PRIVATE = dict(api_visibility="private")
QUIET = dict(api_visibility="private", show_progress="hidden")
_DONE = object()
# Runs in the page before the Write handler: on a phone the digit sits below the controls, so bring it
# into view (digit and caption, ~330 px) to watch it being written; no scrolling where it is visible already.
SHOW_DIGIT_JS = """(...inputs) => {
    const box = document.getElementById("ll-write-digit");
    const r = box && box.getBoundingClientRect();
    if (r && (r.top < 0 || r.top + 330 > window.innerHeight)) box.scrollIntoView({block: "center", behavior: "smooth"});
    return inputs; }"""


def streamed_user_errors(fn):
    """Like ui.errors.user_errors, for a generator handler: an error while streaming reaches the page as one sentence."""
    def next_update(iterator):
        return next(iterator, _DONE)

    next_update.__name__ = f"{fn.__name__} (streaming)"  # the name an unexpected error is logged under
    start, step = user_errors(fn), user_errors(next_update)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        iterator = start(*args, **kwargs)
        while (item := step(iterator)) is not _DONE:
            yield item
    return wrapper


class WritePage:
    """The Write tab's components, per-session state and event handlers (built inside the current Blocks)."""

    def __init__(self, registry):
        self.registry = registry
        names = registry.names("writer")
        self.default = actions.resolve_writer(registry, None) if names else None
        class_names = list(registry.entry(self.default).class_names) if self.default else [str(k) for k in range(10)]
        self.write = build_write_panel(names, self.default, class_names, "" if names else actions.NO_WRITER)
        self.complete = build_complete_panel()
        self.compare = build_compare_panel()
        self.prompt = gr.State(None)  # this session's binarized prompt, 28 rows of 28 floats in {0, 1}

    # ------------------------------------------------------------------ watch it write
    def on_write(self, model_name, label, temperature, seed):
        models = actions.load_models(self.registry, model_name)
        label = actions.check_label(label, len(models.class_names))
        temperature = actions.check_temperature(temperature)
        seed = actions.check_seed(seed)
        w = self.write
        for frame in actions.write_frames(models, label, temperature, actions.generator(seed)):
            done = frame.rows == 28
            caption = f"Done: 28 of 28 rows written (seed {seed})." if done else ""
            title = "The reader's final answer" if done else f"{BARS_TITLE} (after {frame.rows} rows)"
            yield {w.digit: render.writing_html(frame.canvas, frame.rows, done, caption),
                   w.bars: render.bars_html(frame.belief, models.class_names, title)}
            if not done:
                time.sleep(ROW_DELAY_S)

    def on_model_change(self, model_name):
        models = actions.load_models(self.registry, model_name)
        w, c = self.write, self.compare
        return {w.label: gr.update(choices=label_choices(models.class_names), value="any"),
                w.bars: render.waiting_bars_html(BARS_TITLE, "It reads along as the rows appear."),
                w.digit: render.empty_digit_html("Press Write to watch a digit appear row by row."),
                c.timer: gr.Timer(active=True)}

    def on_refresh(self, selected):
        names = self.registry.names("writer")
        value = selected if selected in names else (actions.resolve_writer(self.registry, None) if names else None)
        w = self.write
        return {w.model: gr.update(choices=names, value=value),
                w.notice: gr.update(value="" if names else actions.NO_WRITER, visible=not names),
                w.write: gr.update(interactive=bool(names)), self.compare.timer: gr.Timer(active=True)}

    # ------------------------------------------------------------------ complete my digit
    def completion_outputs(self, model_name, prompt, rows, temperature, seed) -> dict:
        """Return the prompt picture and the endings for a binarized prompt (28, 28)."""
        models = actions.load_models(self.registry, model_name)
        rows = actions.check_rows(rows)
        result = actions.complete(models, prompt, rows, actions.ENDINGS_SHOWN, actions.check_temperature(temperature),
                                  actions.generator(actions.check_seed(seed)))
        c = self.complete
        return {self.prompt: result.prompt.tolist(), c.prompt: render.prompt_html(result.prompt, rows),
                c.endings: render.endings_html(result.endings, rows, result.labels, result.probabilities)}

    def on_sketch(self, model_name, drawing, rows, temperature, seed):
        if drawing is None:
            raise ValueError("The canvas is empty: draw a digit first.")
        return self.completion_outputs(model_name, actions.image_to_prompt(drawing), rows, temperature, seed)

    def on_upload(self, model_name, path, rows, temperature, seed):
        if path is None:  # the file was cleared
            return {c: gr.skip() for c in (self.prompt, self.complete.prompt, self.complete.endings)}
        return self.completion_outputs(model_name, actions.image_to_prompt(path), rows, temperature, seed)

    def on_settings(self, model_name, prompt, rows, temperature, seed):
        if prompt is None:  # nothing drawn yet: only the hint changes
            return {self.prompt: gr.skip(), self.complete.prompt: gr.skip(), self.complete.endings: gr.skip()}
        return self.completion_outputs(model_name, np.asarray(prompt, dtype=np.float32), rows, temperature, seed)

    # ------------------------------------------------------------------ side by side
    def on_samples(self, model_name):
        c = self.compare
        if not self.registry.names("writer"):  # said once at the top of the tab; no toast
            return {c.vae_samples: gr.skip(), c.writer_samples: gr.skip()}
        models = actions.load_models(self.registry, model_name)
        vae_digits, written = actions.side_by_side(self.registry, models, actions.SAMPLES_SHOWN,
                                                   actions.generator(actions.check_seed(-1)))
        return {c.vae_samples: render.samples_html(vae_digits, f"VAE {models.vae_name or ''}: decoded prior samples",
                                                   "No VAE is trained on this data set."),
                c.writer_samples: render.samples_html(written, f"Writer {models.writer_name}: written samples")}

    def on_tick(self, model_name):
        c = self.compare
        if not self.registry.names("writer"):
            return {c.nll: "**Negative log-likelihood:** " + actions.NO_WRITER, c.timer: gr.Timer(active=False)}
        try:  # the figures are read from the checkpoints (measured when trained or benched), never measured here
            models = actions.load_models(self.registry, model_name)
            text = render.nll_markdown(actions.nll_figures(self.registry, models), models.writer_name, models.vae_name)
        except ValueError as error:  # said once in the table, not as a toast every tick
            return {c.nll: f"**Negative log-likelihood:** {error}", c.timer: gr.Timer(active=False)}
        return {c.nll: text, c.timer: gr.Timer(active=False)}

    # ------------------------------------------------------------------ wiring
    def wire(self):
        """Attach every listener of the tab."""
        w, c, cmp = self.write, self.complete, self.compare
        w.write.click(streamed_user_errors(self.on_write), [w.model, w.label, w.temperature, w.seed],
                      [w.digit, w.bars], js=SHOW_DIGIT_JS, **QUIET, **WRITE_CONCURRENCY)
        w.model.input(user_errors(self.on_model_change), w.model, [w.label, w.bars, w.digit, cmp.timer], **QUIET)
        w.refresh.click(user_errors(self.on_refresh), w.model, [w.model, w.notice, w.write, cmp.timer], **QUIET)

        completion = [self.prompt, c.prompt, c.endings]
        settings = [c.rows, c.temperature, c.seed]
        c.complete.click(user_errors(self.on_sketch), [w.model, c.sketch, *settings], completion, **PRIVATE)
        c.file.upload(user_errors(self.on_upload), [w.model, c.file, *settings], completion, **PRIVATE)
        # The endings follow the settings as they move (always_last: a fast drag runs only the last value).
        gr.on([c.rows.input, c.temperature.input, c.seed.submit], user_errors(self.on_settings),
              [w.model, self.prompt, *settings], completion, trigger_mode="always_last", **QUIET)

        gr.on([cmp.sample.click, w.shown.click], user_errors(self.on_samples), w.model,
              [cmp.vae_samples, cmp.writer_samples], **PRIVATE)
        gr.on([w.shown.click, cmp.timer.tick], user_errors(self.on_tick), w.model, [cmp.nll, cmp.timer], **QUIET)
