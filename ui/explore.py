"""Explore tab: latent sliders, random samples, upload/draw, RNN readout, latent map, interpolation, API.

Gradio glue only: model work is in genmodels (through ui/explore_models.py), pictures in
ui/explore_render.py, actions in ui/explore_actions.py, the layout in ui/explore_layout.py and
the named API in ui/explore_api.py.

Per-user values live in gr.State: the chosen model, the session's full code z (a model with more
dimensions than sliders keeps the hidden ones there), the last uploaded code and the digit being
read. The sliders show the code's most informative dimensions.

The slider path is kept light so the picture follows the hand: one event, no queue, no progress
overlay, a 28x28 PNG inline in HTML (scaled up by CSS), and the slower extras (RNN readout,
map marker) only when the slider is released.
"""

import functools
import urllib.parse
from dataclasses import dataclass
from typing import Callable

import gradio as gr
import numpy as np

from . import explore_actions as actions
from . import explore_render as render
from .errors import user_errors
from .explore_api import IMAGE_CONCURRENCY, wire_api
from .explore_layout import (EXPLORE_CSS, INTRO, build_digit_panel, build_interpolation_panel, build_map_panel,
                             build_model_panel, build_readout_panel, build_traversal_panel, build_upload_panel)
from .explore_models import SLIDER_LIMIT, ModelView, ViewCache, format_z, parse_z

__all__ = ["EXPLORE_CSS", "ExploreTab", "LoadHook", "build_explore_tab"]

DEFAULT_MODEL = "vae-mnist"
DECODED_CAPTION = "Reading: the decoded image."
PRIVATE = dict(api_visibility="private")
QUIET = dict(api_visibility="private", show_progress="hidden")


@dataclass
class LoadHook:
    """What the page must run when it opens: `demo.load(hook.fn, hook.inputs, hook.outputs, api_visibility="private")`."""

    fn: Callable
    inputs: list
    outputs: list


@dataclass
class ExploreTab:
    """What the app and other tabs need from the Explore tab.

    model_selector: the model list (the Train tab sets it to open a run's checkpoint).
    on_load: the page-open handler (restores ?model=...&z=... links) for the app to attach with demo.load.
    """

    model_selector: gr.Dropdown
    on_load: LoadHook


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


class ExplorePage:
    """The Explore tab's components, per-session states and event handlers (built inside the current Blocks)."""

    def __init__(self, registry):
        self.registry = registry
        self.views = ViewCache(registry)
        vae_names = registry.names("vae")
        self.default = DEFAULT_MODEL if DEFAULT_MODEL in vae_names else (vae_names[0] if vae_names else None)
        first = self.views.get(self.default) if self.default else None

        gr.Markdown(INTRO)
        self.model = build_model_panel(vae_names, self.default, first)
        self.model_name = gr.State(self.default)
        self.code = gr.State(None)  # this session's full z (list of floats); None = the origin
        self.upload_z = gr.State(None)  # code of this session's last uploaded/drawn digit (interpolation endpoint)
        self.shown = gr.State(None)  # the 28x28 digit the RNN is reading for this session
        self.main = build_digit_panel(first)
        with gr.Row():
            with gr.Column():
                self.readout = build_readout_panel()
            with gr.Column():
                self.map = build_map_panel(first)
        self.upload = build_upload_panel()
        self.interp = build_interpolation_panel(first)
        self.traversal = build_traversal_panel()

        sliders = self.main.sliders
        self.view_outputs = [self.main.digit, self.readout.probs, self.readout.picture, self.readout.rows_read,
                             self.map.picture, self.shown, self.readout.caption, self.code, *sliders]
        self.model_change_outputs = [*self.view_outputs, self.model.info, self.model_name, self.upload_z,
                                     self.interp.start, self.interp.end, self.model.selector, *self.map.centroids]
        self.upload_outputs = [*self.view_outputs, self.upload_z, self.upload.model_saw, self.upload.reconstruction]

    # ------------------------------------------------------------------ outputs
    def full_view(self, view: ModelView, z) -> dict:
        """Return outputs for showing code z everywhere: sliders, digit, readout, map, session code."""
        image = view.decode(z)
        probs, picture = actions.page_readout(view, image)
        out = {self.main.digit: render.digit_html(image), self.readout.probs: probs, self.readout.picture: picture,
               self.readout.rows_read: 28, self.map.picture: view.map.with_marker(view.project(z)),
               self.shown: image, self.readout.caption: DECODED_CAPTION,
               self.code: [float(v) for v in np.asarray(z, dtype=np.float32)]}
        # Every slider gets a value (0 for those the model does not use), so no output is left unset.
        out.update(zip(self.main.sliders, view.z_to_slots(z)))
        return out

    def model_outputs(self, view: ModelView) -> dict:
        """Return outputs that change with the model: info, state, endpoint choices, centroid buttons."""
        choices = actions.endpoint_choices(view)
        out = {self.model.info: view.describe(), self.model_name: view.name, self.upload_z: None,
               self.interp.start: gr.update(choices=choices, value="current"),
               self.interp.end: gr.update(choices=choices, value="random")}
        for k, button in enumerate(self.map.centroids):
            name = view.class_names[k] if k < len(view.class_names) else ""
            out[button] = gr.update(value=name, visible=bool(name))
        return out

    def apply_model(self, view: ModelView, z, selected_name: str) -> dict:
        """Return outputs that switch the page to `view` showing code z."""
        out = self.model_outputs(view)
        out.update(self.full_view(view, z))
        for slot, slider in enumerate(self.main.sliders):  # label, state and value in one update per slider
            out[slider] = gr.update(label=view.slider_label(slot), value=out[slider],
                                    interactive=slot < view.shown_slots)
        out[self.model.selector] = gr.update(value=selected_name, choices=self.registry.names("vae"))
        return out

    def current_z(self, view: ModelView, code, slots) -> np.ndarray:
        """Return this session's code: the sliders over the stored full code (hidden dimensions kept)."""
        return view.slots_to_z(slots, code)

    # ------------------------------------------------------------------ handlers
    def decode_slots(self, model_name, code, *slots):
        # The hot path: decode and inline the PNG; nothing else (readout/map follow on release).
        view = self.views.get(model_name)
        return render.digit_html(view.decode(view.slots_to_z(slots, code)))

    def on_release(self, model_name, code, *slots):
        view = self.views.get(model_name)
        out = self.full_view(view, self.current_z(view, code, slots))
        return {k: v for k, v in out.items() if k not in self.main.sliders}

    def on_random(self, model_name):
        view = self.views.get(model_name)
        return self.full_view(view, view.prior_sample())

    def on_reset(self, model_name):
        view = self.views.get(model_name)
        return self.full_view(view, np.zeros(view.dims, dtype=np.float32))

    def on_centroid(self, k: int):
        def handler(model_name):
            view = self.views.get(model_name)
            return self.full_view(view, view.centroid(k))
        handler.__name__ = f"centroid_{k}"
        return handler

    def on_map_click(self, model_name, evt: gr.SelectData):
        view = self.views.get(model_name)
        if not isinstance(evt.index, (list, tuple)) or len(evt.index) < 2:
            raise ValueError("Click inside the map to choose a point.")
        z, how = view.code_at_map_pixel(float(evt.index[0]), float(evt.index[1]))
        out = self.full_view(view, z)
        out[self.readout.caption] = f"Reading: the decoded image of {how}."
        return out

    def on_rows_read(self, model_name, image, n_rows):
        view = self.views.get(model_name)
        if image is None:
            image = view.decode(np.zeros(view.dims, dtype=np.float32))
        return actions.page_readout(view, image, n_rows)

    def show_upload(self, view: ModelView, source_digit) -> dict:
        mu = view.encode(source_digit)
        seen = source_digit[0].numpy()
        out = self.full_view(view, mu)
        probs, picture = actions.page_readout(view, seen)  # the RNN reads what the user gave, not the rebuild
        out.update({self.readout.probs: probs, self.readout.picture: picture, self.shown: seen,
                    self.upload_z: mu.tolist(), self.upload.model_saw: render.enlarge(seen, 224),
                    self.upload.reconstruction: render.enlarge(view.decode(mu), 224),
                    self.readout.caption: "Reading: your uploaded / drawn digit (as the model sees it)."})
        return out

    def on_upload(self, model_name, path):
        if path is None:  # the file was cleared
            return {c: gr.skip() for c in self.upload_outputs}
        return self.show_upload(self.views.get(model_name), actions.image_to_digit(path))

    def on_sketch(self, model_name, drawing):
        if drawing is None:
            raise ValueError("The canvas is empty: draw a digit first.")
        return self.show_upload(self.views.get(model_name), actions.image_to_digit(drawing))

    def on_interpolate(self, model_name, start, end, method, steps, uploaded, code, *slots):
        view = self.views.get(model_name)
        current = self.current_z(view, code, slots)
        z0 = actions.endpoint_code(view, start, current, uploaded)
        z1 = actions.endpoint_code(view, end, current, uploaded)
        picture, gif, _ = actions.interpolate(view, z0, z1, method, steps)
        return picture, render.gif_html(gif), actions.save_gif(gif)

    def on_grid(self, model_name, code, *slots):
        view = self.views.get(model_name)
        return actions.traversal_grid(view, self.current_z(view, code, slots))

    def on_share(self, model_name, code, *slots):
        view = self.views.get(model_name)
        z = format_z(self.current_z(view, code, slots))
        return "?" + urllib.parse.urlencode({"model": view.name, "z": z}, safe=",")

    def on_model_change(self, selected, current):
        if selected == current or not selected:
            return {c: gr.skip() for c in self.model_change_outputs}
        view = self.views.get(selected)
        return self.apply_model(view, np.zeros(view.dims, dtype=np.float32), selected)

    def on_refresh(self, selected):
        names = self.registry.names("vae")
        return gr.update(choices=names, value=selected if selected in names else self.default)

    def on_load(self, request: gr.Request):
        # Restore ?model=...&z=... from a shared link; anything wrong falls back to a safe default.
        params = dict(request.query_params) if request is not None else {}
        name = params.get("model") or self.default
        if name not in self.registry.names("vae"):
            gr.Warning(f"The link names an unknown model {str(name)[:60]!r}; showing {self.default} instead.")
            name = self.default
        view = self.views.get(name)
        z = np.zeros(view.dims, dtype=np.float32)
        if params.get("z"):
            try:
                z = parse_z(params["z"], view.dims)
                if np.abs(z).max() > SLIDER_LIMIT:
                    gr.Warning(f"Values beyond ±{SLIDER_LIMIT:g} in the link were clipped to the slider range.")
                    z = np.clip(z, -SLIDER_LIMIT, SLIDER_LIMIT)
            except ValueError as error:
                gr.Warning(f"The z in the link was ignored: {error}")
        return self.apply_model(view, z, name)

    # ------------------------------------------------------------------ wiring
    def wire_sliders(self):
        """The hot path (picture while dragging) and the fuller update on release."""
        sliders = self.main.sliders
        inputs = [self.model_name, self.code, *sliders]
        gr.on([s.input for s in sliders], user_errors(self.decode_slots), inputs=inputs, outputs=self.main.digit,
              trigger_mode="always_last", queue=False, **QUIET)
        release_outputs = [c for c in self.view_outputs if c not in sliders]
        gr.on([s.release for s in sliders], user_errors(self.on_release), inputs=inputs, outputs=release_outputs,
              trigger_mode="always_last", **QUIET)

    def wire_moves(self):
        """Buttons and clicks that move z: random, reset, centroids, the map, the Rows-read slider."""
        outputs = self.view_outputs
        self.main.random.click(user_errors(self.on_random), self.model_name, outputs, **QUIET)
        self.main.reset.click(user_errors(self.on_reset), self.model_name, outputs, **QUIET)
        for k, button in enumerate(self.map.centroids):
            button.click(user_errors(self.on_centroid(k)), self.model_name, outputs, **QUIET)
        self.map.picture.select(warn_on_user_errors(self.on_map_click, outputs), self.model_name, outputs, **QUIET)
        self.readout.rows_read.input(user_errors(self.on_rows_read), [self.model_name, self.shown, self.readout.rows_read],
                                     [self.readout.probs, self.readout.picture], trigger_mode="always_last", **QUIET)

    def wire_upload(self):
        """Upload and sketchpad: prepared digit, reconstruction, readout; in the shared image group."""
        outputs = self.upload_outputs
        self.upload.file.upload(warn_on_user_errors(self.on_upload, outputs), [self.model_name, self.upload.file],
                                outputs, **QUIET, **IMAGE_CONCURRENCY)
        self.upload.read_sketch.click(warn_on_user_errors(self.on_sketch, outputs), [self.model_name, self.upload.sketch],
                                      outputs, **QUIET, **IMAGE_CONCURRENCY)

    def wire_extras(self):
        """Interpolation, traversal grid and the share link."""
        sliders, interp = self.main.sliders, self.interp
        results = [interp.strip, interp.animation, interp.gif]
        interp.run.click(warn_on_user_errors(self.on_interpolate, results),
                         [self.model_name, interp.start, interp.end, interp.method, interp.steps, self.upload_z,
                          self.code, *sliders], results, **PRIVATE)
        self.traversal.run.click(warn_on_user_errors(self.on_grid, self.traversal.picture),
                                 [self.model_name, self.code, *sliders], self.traversal.picture, **PRIVATE)
        link = self.main.link
        self.main.share.click(user_errors(self.on_share), [self.model_name, self.code, *sliders], link, **PRIVATE).then(
            None, link, link, js="""(query) => {
                const url = window.location.origin + window.location.pathname + query;
                try { window.history.replaceState(null, "", query); } catch (e) {}
                try { navigator.clipboard.writeText(url).catch(() => {}); } catch (e) {}
                return url; }""")

    def wire_model_choice(self):
        """The model selector and its refresh button."""
        self.model.selector.change(user_errors(self.on_model_change), [self.model.selector, self.model_name],
                                   self.model_change_outputs, **PRIVATE)
        self.model.refresh.click(user_errors(self.on_refresh), self.model.selector, self.model.selector, **PRIVATE)

    def load_hook(self) -> LoadHook:
        """Return the page-open handler that restores a shared link."""
        return LoadHook(user_errors(self.on_load), [], self.model_change_outputs)


def build_explore_tab(registry) -> ExploreTab:
    """Build the Explore tab inside the current Blocks, wire its events and its API; return handles for the app.

    The app attaches `ExploreTab.on_load` with `demo.load(...)` (restores shared links on page open).
    """
    page = ExplorePage(registry)
    page.wire_sliders()
    page.wire_moves()
    page.wire_upload()
    page.wire_extras()
    page.wire_model_choice()
    wire_api(page.views, page.default)
    return ExploreTab(model_selector=page.model.selector, on_load=page.load_hook())
