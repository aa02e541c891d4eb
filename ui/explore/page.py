"""The Explore tab's page: its components, per-session state and one method per event, wired at the end.

Model work is in genmodels (through models.py), pictures in render.py, plain actions in
actions.py, the layout in layout.py. Per-user values live in gr.State: the chosen model and
reader, the session's full code z (a model with more dimensions than sliders keeps the hidden
ones there), the last uploaded code and the digit being read.

One view: every way of changing z (drag, arrow keys, a typed value, random, reset, a centroid,
a map or manifold click, an opened link, an upload, a drawing) ends in full_view(), which sets
the picture, the sliders, the RNN readout, the map marker and the link together. While a slider
is dragged the page itself decodes and reads the picture (explore.js, ui/static/latent_lab.js),
so a drag costs the server nothing; the full view follows on release. Random, Reset, a centroid,
a map click and an opened link are painted by the page at once as well (it has the centroids and
the map's codes: ModelView.page_tensors), and the server's full view of the same code follows. A
page that cannot run the models itself gets the old hot path: one event per frame, no queue, no
progress overlay, only a small PNG inline in HTML.
"""

import functools

import gradio as gr
import numpy as np

import i18n
from genmodels.data import DATASETS
from i18n import Sentence, Text

from ui.errors import user_errors
from ui.limits import IMAGE_CONCURRENCY

from . import actions, render
from .layout import (PRESENT_JS, build_digit_panel, build_interpolation_panel, build_map_panel, build_model_panel,
                     build_intro, build_page_script, build_readout_panel, build_traversal_panel, build_upload_panel,
                     model_choices, reader_choices, shown)
from .models import (DEFAULT_MODEL, LATENT_SLOTS, NO_READER_VALUE, SLIDER_LIMIT, ModelView, Reader, ViewCache,
                     explorable_names, in_page_version, parse_z)
DECODED_CAPTION = Text("explore.caption_decoded")
PRIVATE = dict(api_visibility="private")
QUIET = dict(api_visibility="private", show_progress="hidden")
LINK_JS = "(query) => window.llLink(query)"  # explore.js: the full link, mirrored in the address bar


def warn_on_user_errors(fn, outputs):
    """Wrap a page handler so a ValueError shows as a short warning toast and leaves every output unchanged.

    (A gr.Error would also stamp an "Error" badge on each of the many outputs of the event.)
    """
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    checked = user_errors(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return checked(*args, **kwargs)
        except gr.Error as error:
            gr.Warning(error.message)
            return {component: gr.skip() for component in outputs}
    return wrapper


def notes_markdown(notes) -> str:
    """Return the preprocessing's doubts (texts) as a short Markdown list in the current language (empty when none)."""
    return "\n".join(f"⚠️ {note}" for note in notes) if notes else ""


def digit_html(view: ModelView, reader: Reader | None, z, image) -> str:
    """Return the digit's HTML, telling the page's own decoder (explore.js) the model, reader, their
    version, the code and the slider order."""
    data = {"model": view.name, "reader": reader.name if reader else NO_READER_VALUE,
            "version": in_page_version(view, reader),
            "z": ",".join(f"{float(v):.6g}" for v in np.asarray(z, dtype=np.float32)),
            "order": ",".join(map(str, view.slider_dims()))}
    return render.digit_html(image, data=data)


def rows_slider(view: ModelView, reader: Reader | None) -> dict:
    """Return the Rows read slider's update: all rows of the picture read (its side), at most that many."""
    side = reader.side if reader else view.side
    return gr.update(value=side, maximum=side)


class ExplorePage:
    """The Explore tab's components, per-session states and event handlers (built inside the current Blocks)."""

    def __init__(self, registry):
        self.registry = registry
        self.views = ViewCache(registry)
        vae_names = explorable_names(registry)
        self.default = DEFAULT_MODEL if DEFAULT_MODEL in vae_names else (vae_names[0] if vae_names else None)
        first = self.views.get(self.default) if self.default else None

        self.script = build_page_script()
        self.model = build_model_panel(registry, self.default, first.default_reader if first else None,
                                       first.summary() if first else Text("explore.no_model"))
        self.model_name = gr.State(self.default)
        self.reader_name = gr.State(first.default_reader if first else None)
        self.code = gr.State(None)  # this session's full z (list of floats); None = the origin
        self.upload_z = gr.State(None)  # code of this session's last uploaded/drawn digit (interpolation endpoint)
        self.shown = gr.State(None)  # the digit the RNN is reading for this session
        labels = [first.slider_text(slot) if first else Text("explore.slider_not_used") for slot in range(LATENT_SLOTS)]
        origin = np.zeros(first.dims, dtype=np.float32) if first else None
        # The core loop on the first screen: the digit, its sliders, and your own digit (upload or draw) beside
        # them; the explanations, the readout, the map and the rest below, each in its own section.
        with gr.Row(elem_id="ll-main", equal_height=False):
            self.main = build_digit_panel(
                digit_html(first, self.views.reader(first.default_reader), origin, first.decode(origin)) if first else "",
                labels)
            with gr.Column(scale=2, min_width=300, elem_id="ll-own-col"):
                self.upload = build_upload_panel()
        build_intro()
        with gr.Row(elem_id="ll-second"):
            with gr.Column(elem_id="ll-readout-col"):
                self.readout = build_readout_panel(self.most_classes(), first.side if first else 1)
            with gr.Column(elem_id="ll-map-col"):
                self.map = build_map_panel(first.class_names if first else [], self.most_classes())
        self.first = first

    def build_tools(self) -> None:
        """Build the interpolation and traversal sections, last on the tab (after the explanation and the contrast,
        which build_explore_tab places between: the page's order is its keyboard's order), and the event lists."""
        first = self.first
        self.interp = build_interpolation_panel([(shown(text), value) for text, value in actions.endpoint_texts(first)]
                                                if first else [])
        self.traversal = build_traversal_panel()

        sliders = self.main.sliders
        self.session = [self.model_name, self.reader_name]
        self.view_outputs = [self.main.digit, self.readout.probs, self.readout.picture, self.readout.rows_read,
                             self.map.picture, self.shown, self.readout.caption, self.code, self.main.link,
                             *sliders]
        self.model_change_outputs = [
            *self.view_outputs, self.model.info, self.model_name, self.reader_name, self.model.reader,
            self.upload_z, self.interp.start, self.interp.end, self.model.selector, self.map.manifold_box,
            self.map.manifold, self.main.preview, *self.map.centroids]
        self.upload_outputs = [*self.view_outputs, self.upload_z, self.upload.model_saw, self.upload.notes,
                               self.upload.reconstruction]

    def most_classes(self) -> int:
        """Return the most classes a model may have here: of any declared data set or listed checkpoint
        (a centroid button and a belief bar each)."""
        declared = [len(info.class_names) for info in DATASETS.values()]
        return max(declared + [len(e.class_names) for e in self.registry.entries()])

    # ------------------------------------------------------------------ outputs
    def full_view(self, view: ModelView, reader_name, z) -> dict:
        """Return outputs for showing code z everywhere: sliders, digit, readout, map, link, session code."""
        image = view.decode(z)
        reader = self.views.reader(reader_name)
        probs, picture = actions.page_readout(reader, image)
        out = {self.main.digit: digit_html(view, reader, z, image), self.readout.probs: probs, self.readout.picture: picture,
               self.readout.rows_read: rows_slider(view, reader), self.map.picture: view.map.with_marker(view.project(z)),
               self.shown: image, self.readout.caption: str(DECODED_CAPTION), self.main.link: actions.share_query(view, z),
               self.code: [float(v) for v in np.asarray(z, dtype=np.float32)]}
        # Every slider gets a value (0 for those the model does not use), so no output is left unset.
        out.update(zip(self.main.sliders, view.z_to_slots(z)))
        return out

    def model_outputs(self, view: ModelView) -> dict:
        """Return outputs that change with the model: info, states, reader, endpoint choices, centroids, manifold."""
        choices = actions.endpoint_choices(view)
        reader = view.default_reader or NO_READER_VALUE
        out = {self.model.info: view.describe(), self.model_name: view.name, self.upload_z: None,
               self.reader_name: reader,
               self.model.reader: gr.update(choices=reader_choices(self.registry), value=reader),
               self.interp.start: gr.update(choices=choices, value="current"),
               self.interp.end: gr.update(choices=choices, value="random"),
               self.map.manifold_box: gr.update(visible=view.manifold is not None),
               self.map.manifold: actions.manifold_picture(view), self.main.preview: ""}
        for k, button in enumerate(self.map.centroids):
            name = view.class_names[k] if k < len(view.class_names) else ""
            out[button] = gr.update(value=name, visible=bool(name))
        return out

    def apply_model(self, view: ModelView, z, selected_name: str) -> dict:
        """Return outputs that switch the page to `view` showing code z (the model's default reader reads it)."""
        out = self.model_outputs(view)
        out.update(self.full_view(view, out[self.reader_name], z))
        for slot, slider in enumerate(self.main.sliders):  # label, visibility and value in one update per slider
            out[slider] = gr.update(label=view.slider_label(slot), value=out[slider],
                                    visible=slot < view.shown_slots)
        out[self.model.selector] = gr.update(value=selected_name, choices=model_choices(self.registry))
        return out

    def current_z(self, view: ModelView, code, slots) -> np.ndarray:
        """Return this session's code: the sliders over the stored full code (hidden dimensions kept)."""
        return view.slots_to_z(slots, code)

    # ------------------------------------------------------------------ moving z
    def decode_slots(self, model_name, reader_name, code, *slots):
        """Return the digit for the sliders as inline HTML (the drag path of a page that cannot decode itself)."""
        # The server's hot path: decode and inline the PNG; nothing else (readout, map and link follow on release).
        view = self.views.get(model_name)
        z = view.slots_to_z(slots, code)
        return digit_html(view, self.views.reader(reader_name), z, view.decode(z))

    def on_release(self, model_name, reader_name, code, *slots):
        """Return the full view for the sliders, except the sliders themselves (the hand is on them)."""
        view = self.views.get(model_name)
        out = self.full_view(view, reader_name, self.current_z(view, code, slots))
        return {k: v for k, v in out.items() if k not in self.main.sliders}

    def on_random(self, model_name, reader_name):
        """Return the full view of a code drawn from the prior."""
        view = self.views.get(model_name)
        return self.full_view(view, reader_name, view.prior_sample())

    def on_reset(self, model_name, reader_name):
        """Return the full view of the origin z = 0."""
        view = self.views.get(model_name)
        return self.full_view(view, reader_name, np.zeros(view.dims, dtype=np.float32))

    def on_centroid(self, k: int):
        """Return the handler that shows the centroid of class k."""
        def handler(model_name, reader_name):
            view = self.views.get(model_name)
            return self.full_view(view, reader_name, view.centroid(k))
        handler.__name__ = f"centroid_{k}"
        return handler

    def on_map_click(self, model_name, reader_name, evt: gr.SelectData):
        """Return the full view of the map point clicked (a real encoded image when the click is on a dot)."""
        view = self.views.get(model_name)
        if not isinstance(evt.index, (list, tuple)) or len(evt.index) < 2:
            raise Sentence("explore.click_map")
        z, how = view.code_at_map_pixel(float(evt.index[0]), float(evt.index[1]))
        out = self.full_view(view, reader_name, z)
        out[self.readout.caption] = i18n.text("explore.caption_map", how=how)
        return out

    def on_manifold_click(self, model_name, reader_name, evt: gr.SelectData):
        """Return the full view of the manifold cell clicked (2-D models)."""
        view = self.views.get(model_name)
        if not isinstance(evt.index, (list, tuple)) or len(evt.index) < 2:
            raise Sentence("explore.click_grid")
        return self.full_view(view, reader_name, view.code_at_manifold_pixel(float(evt.index[0]),
                                                                             float(evt.index[1])))

    def on_rows_read(self, model_name, reader_name, image, n_rows):
        """Return the readout after the first n_rows rows of the digit being read."""
        if image is None:
            view = self.views.get(model_name)
            image = view.decode(np.zeros(view.dims, dtype=np.float32))
        return actions.page_readout(self.views.reader(reader_name), image, n_rows)

    def on_preview(self, evt: gr.SelectData, model_name, code, *slots):
        """Return the preview of the slider whose name was clicked (evt.index: its slot)."""
        # evt comes first: gradio passes event data only to parameters before *slots.
        view = self.views.get(model_name)
        return actions.dimension_preview(view, self.current_z(view, code, slots), int(evt.index))

    # ------------------------------------------------------------------ your own digit
    def show_digit(self, view: ModelView, reader_name, prepared, caption: Text) -> dict:
        """Return outputs that show a prepared digit: its code everywhere, what the model saw, the rebuild, notes."""
        mu = view.encode(prepared.image)
        seen = prepared.image[0].numpy()
        out = self.full_view(view, reader_name, mu)
        # The RNN reads what the user gave (as the model sees it), not the rebuild.
        probs, picture = actions.page_readout(self.views.reader(reader_name), seen)
        out.update({self.readout.probs: probs, self.readout.picture: picture, self.shown: seen,
                    self.upload_z: mu.tolist(), self.upload.model_saw: render.enlarge(seen, 224),
                    self.upload.notes: notes_markdown(prepared.notes),
                    self.upload.reconstruction: render.enlarge(view.decode(mu), 224),
                    self.readout.caption: str(caption)})
        return out

    def on_upload(self, model_name, reader_name, code, path):
        """Return the view of an uploaded image (prepared, encoded, rebuilt, read); a refused file clears the
        upload's pictures and says why, and the RNN reads the digit on the sliders again."""
        if path is None:  # the file was cleared
            return {c: gr.skip() for c in [*self.upload_outputs, self.upload.file]}
        view = self.views.get(model_name)
        try:
            prepared = actions.prepare_image(path)
        except ValueError as error:
            gr.Warning(str(error))
            out = self.full_view(view, reader_name, code if code is not None else np.zeros(view.dims, dtype=np.float32))
            out.update({self.upload.model_saw: None, self.upload.reconstruction: None, self.upload.file: None,
                        self.upload.notes: "⚠️ " + i18n.text("explore.upload_refused", reason=error)})
            return out
        return {**self.show_digit(view, reader_name, prepared, Text("explore.caption_upload")),
                self.upload.file: gr.skip()}

    def on_drawing(self, model_name, reader_name, data_url):
        """Return the view of the drawing so far (called while it is drawn)."""
        # Called while the digit is being drawn: a doubt or a stroke too small to read yet goes to
        # the notes beside the picture, not into a pop-up on every stroke.
        skip = {c: gr.skip() for c in self.upload_outputs}
        try:
            png = actions.drawing_bytes(data_url)
            if png is None:  # the canvas was cleared
                return {**skip, self.upload.model_saw: None, self.upload.reconstruction: None,
                        self.upload.notes: ""}
            prepared = actions.prepare_image(png)
        except ValueError as error:
            return {**skip, self.upload.notes: f"⚠️ {error}"}  # str(): in the caller's language
        return self.show_digit(self.views.get(model_name), reader_name, prepared, Text("explore.caption_drawing"))

    # ------------------------------------------------------------------ extras
    def on_interpolate(self, model_name, start, end, method, steps, uploaded, code, *slots):
        """Return the interpolation strip, its animation and the GIF file."""
        view = self.views.get(model_name)
        current = self.current_z(view, code, slots)
        z0 = actions.endpoint_code(view, start, current, uploaded)
        z1 = actions.endpoint_code(view, end, current, uploaded)
        picture, gif, _ = actions.interpolate(view, z0, z1, method, steps)
        return picture, render.gif_html(gif), actions.save_gif(gif)

    def on_grid(self, model_name, code, *slots):
        """Return the traversal grid around the current z."""
        view = self.views.get(model_name)
        return actions.traversal_grid(view, self.current_z(view, code, slots))

    # ------------------------------------------------------------------ models and readers
    def on_model_change(self, selected, current):
        """Return the page switched to another model at its origin (nothing when it is the same model)."""
        if selected == current or not selected:
            return {c: gr.skip() for c in self.model_change_outputs}
        view = self.views.get(selected)
        return self.apply_model(view, np.zeros(view.dims, dtype=np.float32), selected)

    def on_reader_change(self, reader_name, image):
        """Return the new reader's reading of the digit on screen."""
        reader = self.views.reader(reader_name)  # checks the name
        probs, picture = actions.page_readout(reader, image) if image is not None else (gr.skip(), gr.skip())
        return {self.reader_name: reader.name if reader else NO_READER_VALUE, self.readout.probs: probs,
                self.readout.picture: picture,
                self.readout.rows_read: gr.update(value=reader.side, maximum=reader.side) if reader else gr.skip()}

    def on_refresh(self, selected, reader_name):
        """Return the model and reader lists as they are now (new runs appear)."""
        names, readers = explorable_names(self.registry), self.registry.names("rnn")
        return {self.model.selector: gr.update(choices=model_choices(self.registry),
                                               value=selected if selected in names else self.default),
                self.model.reader: gr.update(choices=reader_choices(self.registry),
                                             value=reader_name if reader_name in readers else NO_READER_VALUE)}

    def on_load(self, request: gr.Request):
        """Return the page for a newly opened link: ?model=...&z=... restored, anything wrong replaced by defaults."""
        params = dict(request.query_params) if request is not None else {}
        name = params.get("model") or self.default
        if name not in explorable_names(self.registry):
            gr.Warning(i18n.text("explore.link_unknown_model", name=str(name)[:60], default=self.default))
            name = self.default
        view = self.views.get(name)
        z = np.zeros(view.dims, dtype=np.float32)
        if params.get("z"):
            try:
                z = parse_z(params["z"], view.dims)
                if np.abs(z).max() > SLIDER_LIMIT:
                    gr.Warning(i18n.text("explore.link_clipped", limit=f"{SLIDER_LIMIT:g}"))
                    z = np.clip(z, -SLIDER_LIMIT, SLIDER_LIMIT)
            except ValueError as error:
                gr.Warning(i18n.text("explore.link_bad_z", reason=error))
        return self.apply_model(view, z, name)

    # ------------------------------------------------------------------ wiring
    def wire(self):
        """Attach every listener of the tab (called once, after all components exist)."""
        sliders, main, readout = self.main.sliders, self.main, self.readout
        moves = self.view_outputs

        # While a slider moves, the page decodes and reads the picture itself (explore.js with
        # ui/static/latent_lab.js): a drag costs the server nothing. A page that cannot (no script, no
        # weights) asks the server instead: explore.js then sends this "input" event once per frame.
        self.script.input(user_errors(self.decode_slots), [*self.session, self.code, *sliders], main.digit,
                          trigger_mode="always_last", queue=False, **QUIET)
        # The full view on release: the mouse let go, an arrow key let go, Enter in a number box or leaving it.
        gr.on([s.release for s in sliders], user_errors(self.on_release), [*self.session, self.code, *sliders],
              [c for c in moves if c not in sliders], trigger_mode="always_last", **QUIET)
        main.random.click(user_errors(self.on_random), self.session, moves, **QUIET)
        main.reset.click(user_errors(self.on_reset), self.session, moves, **QUIET)
        for k, button in enumerate(self.map.centroids):
            button.click(user_errors(self.on_centroid(k)), self.session, moves, **QUIET)
        self.map.picture.select(warn_on_user_errors(self.on_map_click, moves), self.session, moves, **QUIET)
        self.map.manifold.select(warn_on_user_errors(self.on_manifold_click, moves), self.session, moves, **QUIET)
        readout.rows_read.input(user_errors(self.on_rows_read), [*self.session, self.shown, readout.rows_read],
                                [readout.probs, readout.picture], trigger_mode="always_last", **QUIET)
        self.script.select(warn_on_user_errors(self.on_preview, main.preview), [self.model_name, self.code, *sliders],
                           main.preview, **QUIET)

        # The link and the page's own buttons work in the browser alone (explore.js).
        main.link.change(None, main.link, main.link, js=LINK_JS, **PRIVATE)
        main.share.click(None, js="() => window.llCopyLink()", **PRIVATE)
        main.present.click(None, js=PRESENT_JS, **PRIVATE)

        uploads = self.upload_outputs
        self.upload.file.upload(warn_on_user_errors(self.on_upload, [*uploads, self.upload.file]),
                                [*self.session, self.code, self.upload.file], [*uploads, self.upload.file],
                                **QUIET, **IMAGE_CONCURRENCY)
        self.upload.canvas.input(user_errors(self.on_drawing), [*self.session, self.upload.canvas], uploads,
                                 trigger_mode="always_last", **QUIET, **IMAGE_CONCURRENCY)

        interp, results = self.interp, [self.interp.strip, self.interp.animation, self.interp.gif]
        interp.run.click(warn_on_user_errors(self.on_interpolate, results),
                         [self.model_name, interp.start, interp.end, interp.method, interp.steps, self.upload_z,
                          self.code, *sliders], results, **PRIVATE)
        self.traversal.run.click(warn_on_user_errors(self.on_grid, self.traversal.picture),
                                 [self.model_name, self.code, *sliders], self.traversal.picture, **PRIVATE)

        model = self.model
        model.selector.change(user_errors(self.on_model_change), [model.selector, self.model_name],
                              self.model_change_outputs, **PRIVATE)
        model.reader.input(user_errors(self.on_reader_change), [model.reader, self.shown],
                           [self.reader_name, readout.probs, readout.picture, readout.rows_read], **PRIVATE)
        model.reader.change(None, model.reader, js="(reader) => { window.llReader && window.llReader(reader); }",
                            **PRIVATE)
        model.refresh.click(user_errors(self.on_refresh), [model.selector, self.reader_name],
                            [model.selector, model.reader], **PRIVATE)
