"""The Write tab's page: components, per-session state and one method per event, wired at the end.

Model work is in ui/write/actions.py, pictures in ui/write/render.py, the layout in
ui/write/layout.py. Per-session values live in gr.State (the binarized prompt being completed);
the loaded models are shared and read-only.

The Write button streams: its handler is a generator that yields one small update per row
(a ~300-byte PNG and ten bars), paced by ROW_DELAY_S so the eye can follow the writing.

Step writes one row (actions.write_step) and shows the probabilities it was drawn from; the digit
being stepped lives in this session's gr.State (the rows so far and the seed), never on the model.
Play is a gr.Timer that Steps every PLAY_INTERVAL_S: each tick is a short event, so a class playing
at once holds no worker between rows (a generator would hold one for the whole digit), and Stop
just switches the timer off.
"""

import functools
import time

import gradio as gr
import numpy as np

import i18n
from genmodels.images import IMAGE_SIDE
from ui.errors import user_errors
from ui.explore.layout import PRESENT_JS
from ui.limits import IMAGE_CONCURRENCY

from . import actions, render
from .layout import build_compare_panel, build_complete_panel, build_write_panel, label_choices

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




def shown_class_names(models: actions.Models) -> list[str]:
    """Return the writer's class names as the page shows them, in the caller's language."""
    return [actions.class_name(models.dataset, k, name) for k, name in enumerate(models.class_names)]


def bars_title(rows: int, done: bool) -> str:
    """Return the title over the reader's bars after `rows` rows."""
    return i18n.text("write.bars.final") if done else i18n.text("write.bars.title_after", rows=rows)


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
        entry = registry.entry(self.default) if self.default else None
        side = registry.load(self.default).config.side if self.default else IMAGE_SIDE
        self.write = build_write_panel(names, self.default, entry.dataset if entry else "",
                                       list(entry.class_names) if entry else [])
        self.complete = build_complete_panel(side)
        self.compare = build_compare_panel()
        self.prompt = gr.State(None)  # this session's binarized prompt, side rows of side floats in {0, 1}
        # This session's digit being stepped: {"model", "label", "seed_box", "seed", "rows": k lists of side 0/1}.
        self.steps = gr.State(None)

    # ------------------------------------------------------------------ watch it write
    def on_write(self, model_name, label, temperature, seed):
        models = actions.load_models(self.registry, model_name)
        label = actions.check_label(label, len(models.class_names))
        temperature = actions.check_temperature(temperature)
        seed = actions.check_seed(seed)
        w = self.write
        first = self.stopped(steps=None)  # Write starts afresh: any digit being stepped or played is dropped
        names = shown_class_names(models)
        for frame in actions.write_frames(models, label, temperature, actions.generator(seed)):
            done = frame.rows == models.side
            caption = i18n.text("write.digit.done_seed", rows=models.side, side=models.side, seed=seed) if done else ""
            yield {**first, w.digit: render.writing_html(frame.canvas, frame.rows, done, caption),
                   w.bars: render.bars_html(frame.belief, names, bars_title(frame.rows, done))}
            first = {}
            if not done:
                time.sleep(ROW_DELAY_S)

    # ------------------------------------------------------------------ step by step
    def stopped(self, **state) -> dict:
        """Return the updates that end Play (timer off, Play and Step usable again); `steps=None` also drops the digit."""
        w = self.write
        out = {w.play_timer: gr.Timer(active=False), w.play: gr.update(interactive=True),
               w.stop: gr.update(interactive=False), w.step: gr.update(interactive=True)}
        if "steps" in state:
            out.update({self.steps: state["steps"], w.next_row: render.next_row_waiting_html()})
        return out

    def step_outputs(self, model_name, label, temperature, seed, state, start: bool = True) -> dict | None:
        """Return the updates of one Step: the next row of this session's digit, or row 0 of a new one.

        A new digit starts when there is none, the last is finished, or the writer, class or seed
        box changed; with start=False (a Play tick) a finished digit returns None instead.
        """
        models = actions.load_models(self.registry, model_name)
        label = actions.check_label(label, len(models.class_names))
        temperature = actions.check_temperature(temperature)
        box = -1 if seed is None else seed
        same = (state is not None and state["model"] == models.writer_name and state["label"] == label
                and state["seed_box"] == box)
        if same and len(state["rows"]) >= models.side and not start:
            return None
        if not same or len(state["rows"]) >= models.side:
            state = {"model": models.writer_name, "label": label, "seed_box": box, "seed": actions.check_seed(seed),
                     "rows": []}
        rows = actions.check_written_rows(state["rows"], models.side)
        step = actions.write_step(models, rows, label, temperature, state["seed"])
        canvas = np.zeros((models.side, models.side), dtype=np.float32)
        canvas[:len(step.rows)] = step.rows
        written = step.row + 1
        caption = i18n.text("write.digit.done_seed" if step.done else "write.digit.row_seed", rows=written,
                            side=models.side, seed=state["seed"])
        w = self.write
        return {w.digit: render.writing_html(canvas, written, step.done, caption),
                w.bars: render.bars_html(step.belief, shown_class_names(models), bars_title(written, step.done)),
                w.next_row: render.next_row_html(step.row, step.probabilities, step.tempered, step.pixels,
                                                 temperature, step.row_log_likelihood, step.log_likelihood),
                self.steps: {**state, "rows": step.rows.astype(int).tolist(), "done": step.done}}

    def on_step(self, model_name, label, temperature, seed, state):
        return self.step_outputs(model_name, label, temperature, seed, state)

    def on_play(self, model_name, label, temperature, seed, state):
        out = self.step_outputs(model_name, label, temperature, seed, state)  # the first row at once
        w = self.write
        if out[self.steps]["done"]:  # that was the last row
            return {**out, **self.stopped()}
        return {**out, w.play_timer: gr.Timer(active=True), w.play: gr.update(interactive=False),
                w.stop: gr.update(interactive=True), w.step: gr.update(interactive=False)}

    def on_play_tick(self, model_name, label, temperature, seed, state):
        try:
            out = self.step_outputs(model_name, label, temperature, seed, state, start=False)
        except ValueError as error:  # said once, and Play stops (raising would repeat it every tick)
            gr.Warning(str(error))
            return self.stopped()
        if out is None or out[self.steps]["done"]:
            return {**(out or {}), **self.stopped()}
        return out

    def on_stop(self):
        return self.stopped()

    def on_model_change(self, model_name):
        models = actions.load_models(self.registry, model_name)
        w, c = self.write, self.compare
        return {w.label: gr.update(choices=label_choices(models.dataset, models.class_names, i18n.text), value="any"),
                w.bars: render.waiting_bars_html(), w.digit: render.empty_digit_html(),
                c.nll: self.nll_table(model_name), **self.stopped(steps=None)}

    def on_refresh(self, selected):
        names = self.registry.names("writer")
        value = selected if selected in names else (actions.resolve_writer(self.registry, None) if names else None)
        w = self.write
        ready = gr.update(interactive=bool(names))
        return {w.model: gr.update(choices=names, value=value),
                w.notice: gr.update(value="" if names else i18n.text("write.no_writer"), visible=not names),
                w.write: ready, w.step: ready, w.play: ready, self.compare.nll: self.nll_table(value)}

    # ------------------------------------------------------------------ complete my digit
    def completion_outputs(self, model_name, prompt, rows, temperature, seed) -> dict:
        """Return the prompt picture and the endings for a binarized prompt (side, side)."""
        models = actions.load_models(self.registry, model_name)
        rows = actions.check_rows(rows, models.side)
        result = actions.complete(models, prompt, rows, actions.ENDINGS_SHOWN, actions.check_temperature(temperature),
                                  actions.generator(actions.check_seed(seed)))
        c = self.complete
        shown = dict(zip(models.class_names, shown_class_names(models)))
        labels = [shown.get(label, label) for label in result.labels]
        return {self.prompt: result.prompt.tolist(), c.prompt: render.prompt_html(result.prompt, rows),
                c.endings: render.endings_html(result.endings, rows, labels, result.probabilities)}

    def image_outputs(self, model_name, image, rows, temperature, seed) -> dict:
        """Return the completion of a drawing or an uploaded picture, or, for one that cannot be a prompt (an empty
        canvas, a blank or unreadable picture), its sentence in the prompt's place and no endings.

        That is an answer, not an error: an error would mark every output of the event as failed, and
        the marks stayed after the next completion (issue 25).
        """
        try:
            if image is None:
                raise i18n.Sentence("write.canvas_empty")
            prompt = actions.image_to_prompt(image)
        except ValueError as problem:
            c = self.complete
            return {self.prompt: None, c.prompt: render.unusable_prompt_html(str(problem)), c.endings: ""}
        return self.completion_outputs(model_name, prompt, rows, temperature, seed)

    def on_sketch(self, model_name, drawing, rows, temperature, seed):
        return self.image_outputs(model_name, drawing, rows, temperature, seed)

    def on_upload(self, model_name, path, rows, temperature, seed):
        if path is None:  # the file was cleared
            return {c: gr.skip() for c in (self.prompt, self.complete.prompt, self.complete.endings)}
        return self.image_outputs(model_name, path, rows, temperature, seed)

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
        say = i18n.text
        return {c.vae_samples: render.samples_html(vae_digits, say("write.compare.vae_title", name=models.vae_name or ""),
                                                   say("write.compare.no_vae")),
                c.writer_samples: render.samples_html(written, say("write.compare.writer_title", name=models.writer_name))}

    def nll_table(self, model_name) -> str:
        """Return the NLL table (Markdown) of `model_name`'s writer and its VAE, read from their checkpoints."""
        if not self.registry.names("writer"):
            return i18n.text("write.nll.says", message=i18n.Text("write.no_writer"))
        try:  # the figures are read from the checkpoints (measured when trained or benched), never measured here
            models = actions.load_models(self.registry, model_name)
            return render.nll_markdown(actions.nll_figures(self.registry, models), models.writer_name, models.vae_name)
        except ValueError as error:  # said in the table, where the figures would be
            return i18n.text("write.nll.says", message=str(error))

    # ------------------------------------------------------------------ wiring
    def wire(self):
        """Attach every listener of the tab."""
        w, c, cmp = self.write, self.complete, self.compare
        settings = [w.model, w.label, w.temperature, w.seed]
        play = [w.play_timer, w.play, w.stop, w.step]
        stepped = [w.digit, w.bars, w.next_row, self.steps]
        w.write.click(streamed_user_errors(self.on_write), settings, [*stepped, *play], js=SHOW_DIGIT_JS,
                      **QUIET, **WRITE_CONCURRENCY)
        w.step.click(user_errors(self.on_step), [*settings, self.steps], stepped, js=SHOW_DIGIT_JS,
                     **QUIET, **WRITE_CONCURRENCY)
        w.play.click(user_errors(self.on_play), [*settings, self.steps], [*stepped, *play], js=SHOW_DIGIT_JS,
                     **QUIET, **WRITE_CONCURRENCY)
        # "once": a tick that comes while the last one is still running is dropped, not queued.
        w.play_timer.tick(user_errors(self.on_play_tick), [*settings, self.steps], [*stepped, *play],
                          trigger_mode="once", **QUIET, **WRITE_CONCURRENCY)
        w.stop.click(user_errors(self.on_stop), None, play, **QUIET)
        w.present.click(None, js=PRESENT_JS)  # in the page only
        w.model.input(user_errors(self.on_model_change), w.model,
                      [w.label, w.bars, w.digit, cmp.nll, *play, w.next_row, self.steps], **QUIET)
        w.refresh.click(user_errors(self.on_refresh), w.model,
                        [w.model, w.notice, w.write, w.step, w.play, cmp.nll], **QUIET)

        completion = [self.prompt, c.prompt, c.endings]
        settings = [c.rows, c.temperature, c.seed]
        c.complete.click(user_errors(self.on_sketch), [w.model, c.sketch, *settings], completion, **PRIVATE,
                         **IMAGE_CONCURRENCY)
        c.file.upload(user_errors(self.on_upload), [w.model, c.file, *settings], completion, **PRIVATE,
                      **IMAGE_CONCURRENCY)
        # The endings follow the settings as they move (always_last: a fast drag runs only the last value).
        gr.on([c.rows.input, c.temperature.input, c.seed.submit], user_errors(self.on_settings),
              [w.model, self.prompt, *settings], completion, trigger_mode="always_last", **QUIET)

        gr.on([cmp.sample.click, w.shown.click], user_errors(self.on_samples), w.model,
              [cmp.vae_samples, cmp.writer_samples], **PRIVATE)
        w.shown.click(user_errors(self.nll_table), w.model, cmp.nll, **QUIET)
