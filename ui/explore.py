"""Explore tab: latent sliders, random samples, upload/draw, RNN readout, latent map, interpolation, API.

Gradio glue only: model work is in genmodels (through ui/explore_models.py), pictures in
ui/explore_render.py, actions in ui/explore_actions.py. Per-user values (the chosen model, the
last uploaded code, the digit being read) live in gr.State; the sliders themselves hold z.

The slider path is kept light so the picture follows the hand: one event, no queue, no progress
overlay, a 28x28 PNG inline in HTML (scaled up by CSS), and the slower extras (RNN readout,
map marker) only when the slider is released.
"""

import functools
import logging
import urllib.parse
from dataclasses import dataclass, field

import gradio as gr
import numpy as np
import torch
from gradio.context import Context

from . import explore_actions as actions
from . import explore_render as render
from .errors import user_errors
from .explore_models import API_LIMIT, SLIDER_LIMIT, ViewCache, format_z, parse_z

log = logging.getLogger(__name__)
LATENT_SLOTS = 20  # the shipped VAEs have 20 latent dimensions; one slider each
DEFAULT_MODEL = "vae-mnist"

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

MAP_HELP = """**The latent map** flattens the 20-D codes of real validation images onto the two
directions where they spread most (PCA). Each dot is one image, coloured by its class; the black
ring is your current z. **Click a dot** to load that real image's code; click empty space to go to
that spot on the map's plane (the other 18 directions at their average)."""

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
class ExploreTab:
    """Handles other tabs need: the model list (the Train tab sets it to open a run's checkpoint)."""

    model_selector: gr.Dropdown
    model_state: gr.State = None
    sliders: list = field(default_factory=list)
    refresh_button: gr.Button = None


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


def build_explore_tab(registry) -> ExploreTab:
    """Build the Explore tab inside the current Blocks and wire its events; return handles for other tabs."""
    views = ViewCache(registry)
    vae_names = registry.names("vae")
    default = DEFAULT_MODEL if DEFAULT_MODEL in vae_names else (vae_names[0] if vae_names else None)
    first = views.get(default) if default else None

    gr.Markdown(INTRO)
    with gr.Row(equal_height=True):
        selector = gr.Dropdown(choices=vae_names, value=default, label="Model (VAE checkpoint)", scale=3,
                               info="digits, fashion, and the runs you train in the Train tab")
        refresh = gr.Button("Refresh list", scale=0, min_width=120)
    model_info = gr.Markdown(first.describe() if first else "No VAE checkpoint found.")
    model_state = gr.State(default)
    upload_z = gr.State(None)  # code of this session's last uploaded/drawn digit (interpolation endpoint)
    shown = gr.State(None)  # the 28x28 digit the RNN is reading for this session

    with gr.Row():
        with gr.Column(scale=2, min_width=300):
            digit = gr.HTML(render.digit_html(first.decode(np.zeros(first.dims))) if first else "",
                            elem_id="ll-digit-box", js_on_load=None)
            with gr.Row():
                random_btn = gr.Button("Random sample", variant="primary", elem_id="ll-random")
                reset_btn = gr.Button("Reset to origin", elem_id="ll-reset")
            with gr.Row():
                share_btn = gr.Button("Copy link to this digit", size="sm", elem_id="ll-share")
            share_link = gr.Textbox(label="Link (opens this model and digit)", interactive=False,
                                    elem_id="ll-link", buttons=["copy"])
        with gr.Column(scale=3, elem_id="ll-sliders"):
            sliders = []
            with gr.Row():
                for column in range(2):
                    with gr.Column(min_width=220):
                        for slot in range(column * 10, column * 10 + 10):
                            sliders.append(gr.Slider(
                                -SLIDER_LIMIT, SLIDER_LIMIT, value=0.0, step=0.05,
                                label=first.slider_label(slot) if first else f"z{slot}",
                                elem_id=f"ll-z{slot}", min_width=200))

    with gr.Row():
        with gr.Column():
            gr.Markdown(READOUT_HELP)
            readout_caption = gr.Markdown("Reading: the decoded image.")
            probs = gr.Label(num_top_classes=10, label="RNN's belief after the rows read", elem_id="ll-probs")
            rows_read = gr.Slider(1, 28, value=28, step=1, label="Rows read")
            readout_img = gr.Image(type="pil", label="Row by row: the digit's rows beside the belief after each",
                                   interactive=False, format="png", elem_id="ll-readout")
        with gr.Column():
            gr.Markdown(MAP_HELP)
            map_img = gr.Image(type="pil", label="Latent map (click to move z)", interactive=False,
                               format="png", elem_id="ll-map")
            gr.Markdown("**Jump to a class centroid** (the average code of that class):")
            with gr.Row():
                centroid_btns = [gr.Button(first.class_names[k] if first else str(k), size="sm", min_width=40)
                                 for k in range(10)]

    with gr.Accordion("Upload or draw a digit", open=True):
        gr.Markdown(UPLOAD_HELP)
        with gr.Row():
            with gr.Column():
                with gr.Tab("Upload"):
                    upload = gr.File(label="Image (PNG, JPEG or WebP, any size)", type="filepath",
                                     file_types=[".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"],
                                     elem_id="ll-upload")
                with gr.Tab("Draw"):
                    sketch = gr.Sketchpad(label="Draw a digit", type="numpy", canvas_size=(336, 336),
                                          brush=gr.Brush(default_size=22, colors=["#000000"], color_mode="fixed"))
                    sketch_btn = gr.Button("Read my drawing", variant="primary")
            model_saw = gr.Image(type="pil", label="What the model sees (28x28)", interactive=False,
                                 format="png", elem_id="ll-model-saw")
            recon_img = gr.Image(type="pil", label="VAE reconstruction", interactive=False, format="png",
                                 elem_id="ll-recon")

    with gr.Accordion("Interpolation", open=False):
        gr.Markdown(INTERP_HELP)
        choices = actions.endpoint_choices(first) if first else []
        with gr.Row():
            end_a = gr.Dropdown(choices=choices, value="current", label="From")
            end_b = gr.Dropdown(choices=choices, value="random", label="To")
            method = gr.Radio(list(actions.INTERPOLATION_METHODS), value="spherical", label="Path")
            steps = gr.Slider(2, 24, value=10, step=1, label="Steps")
        interp_btn = gr.Button("Interpolate")
        interp_strip = gr.Image(type="pil", label="Interpolation strip", interactive=False, format="png")
        with gr.Row():
            interp_anim = gr.HTML("")
            interp_gif = gr.File(label="Animated GIF (download)", interactive=False)

    with gr.Accordion("Traversal grid", open=False):
        gr.Markdown(TRAVERSAL_HELP)
        grid_btn = gr.Button("Draw traversal grid around current z")
        grid_img = gr.Image(type="pil", label="Traversal grid", interactive=False, format="png")

    # Hidden components that give the named API endpoints clean inputs and outputs.
    with gr.Column(visible=False):
        api_z = gr.JSON(label="z (list of 20 floats)")
        api_model = gr.Textbox(value=default or "", label="model (VAE checkpoint name)")
        api_seed = gr.Number(value=-1, precision=0, label="seed (-1 for random)")
        api_file = gr.File(label="image file", type="filepath")
        api_image = gr.Image(type="pil", format="png", label="image (28x28 PNG)")
        api_z_out = gr.JSON(label="z")
        api_probs = gr.Label(num_top_classes=10, label="class probabilities")
        api_buttons = [gr.Button(visible=False) for _ in range(4)]

    # ------------------------------------------------------------------ handlers
    def full_view(view, z, slots=True):
        """Return outputs for showing code z everywhere: sliders, digit, readout, map, state."""
        image = view.decode(z)
        p, picture = actions.readout(view, image)
        out = {digit: render.digit_html(image), probs: p, readout_img: picture, rows_read: 28,
               map_img: view.map.with_marker(view.project(z)), shown: image,
               readout_caption: "Reading: the decoded image."}
        if slots:
            out.update({s: v for s, v in zip(sliders, view.z_to_slots(z))})
        return out

    def model_outputs(view):
        """Return outputs that change with the model: slider labels, info, buttons, endpoint choices."""
        out = {model_info: view.describe(), model_state: view.name, upload_z: None,
               end_a: gr.update(choices=actions.endpoint_choices(view), value="current"),
               end_b: gr.update(choices=actions.endpoint_choices(view), value="random")}
        for slot, s in enumerate(sliders):
            out[s] = gr.update(label=view.slider_label(slot) if slot < view.dims else "(not used)", value=0.0)
        for k, b in enumerate(centroid_btns):
            name = view.class_names[k] if k < len(view.class_names) else ""
            out[b] = gr.update(value=name, visible=bool(name))
        return out

    view_outputs = [digit, probs, readout_img, rows_read, map_img, shown, readout_caption, *sliders]
    model_change_outputs = [*view_outputs, model_info, model_state, upload_z, end_a, end_b, selector,
                            *centroid_btns]

    def decode_slots(model_name, *slots):
        # The hot path: decode and inline the PNG; nothing else (readout/map follow on release).
        view = views.get(model_name)
        return render.digit_html(view.decode(view.slots_to_z(slots)))

    def on_release(model_name, *slots):
        view = views.get(model_name)
        return full_view(view, view.slots_to_z(slots), slots=False)

    def on_random(model_name):
        view = views.get(model_name)
        return full_view(view, view.prior_sample())

    def on_reset(model_name):
        view = views.get(model_name)
        return full_view(view, np.zeros(view.dims, dtype=np.float32))

    def on_centroid(k):
        def handler(model_name):
            view = views.get(model_name)
            return full_view(view, view.centroid(k))
        handler.__name__ = f"centroid_{k}"
        return handler

    def on_map_click(model_name, evt: gr.SelectData):
        view = views.get(model_name)
        if not isinstance(evt.index, (list, tuple)) or len(evt.index) < 2:
            raise ValueError("Click inside the map to choose a point.")
        z, how = view.code_at_map_pixel(float(evt.index[0]), float(evt.index[1]))
        out = full_view(view, z)
        out[readout_caption] = f"Reading: the decoded image of {how}."
        return out

    def on_rows_read(model_name, image, n_rows):
        view = views.get(model_name)
        if image is None:
            image = view.decode(np.zeros(view.dims, dtype=np.float32))
        p, picture = actions.readout(view, image, n_rows)
        return p, picture

    def show_upload(view, source_digit):
        mu = view.encode(source_digit)
        recon = view.decode(mu)
        seen = source_digit[0].numpy()
        out = full_view(view, mu)
        p, picture = actions.readout(view, seen)  # the RNN reads what the user gave, not the rebuild
        out.update({probs: p, readout_img: picture, shown: seen, upload_z: mu.tolist(),
                    model_saw: render.enlarge(seen, 224), recon_img: render.enlarge(recon, 224),
                    readout_caption: "Reading: your uploaded / drawn digit (as the model sees it)."})
        return out

    def on_upload(model_name, path):
        if path is None:
            return {s: gr.skip() for s in upload_outputs}
        return show_upload(views.get(model_name), actions.image_to_digit(path))

    def on_sketch(model_name, drawing):
        if drawing is None:
            raise ValueError("The canvas is empty: draw a digit first.")
        return show_upload(views.get(model_name), actions.image_to_digit(drawing))

    upload_outputs = [*view_outputs, upload_z, model_saw, recon_img]

    def on_interpolate(model_name, a, b, how, n_steps, uploaded, *slots):
        view = views.get(model_name)
        current = view.slots_to_z(slots)
        z0 = actions.endpoint_code(view, a, current, uploaded)
        z1 = actions.endpoint_code(view, b, current, uploaded)
        picture, gif, _ = actions.interpolate(view, z0, z1, how, n_steps)
        return picture, render.gif_html(gif), actions.save_gif(gif)

    def on_grid(model_name, *slots):
        view = views.get(model_name)
        return actions.traversal_grid(view, view.slots_to_z(slots))

    def on_share(model_name, *slots):
        view = views.get(model_name)
        return "?" + urllib.parse.urlencode({"model": view.name, "z": format_z(view.slots_to_z(slots))}, safe=",")

    def apply_model(view, z, selected_name):
        out = model_outputs(view)
        shown_now = full_view(view, z)
        for slot, s in enumerate(sliders):  # one update per slider: new label and new value together
            shown_now[s] = gr.update(label=out[s]["label"], value=shown_now[s])
        out.update(shown_now)
        out[selector] = gr.update(value=selected_name, choices=registry.names("vae"))
        return out

    def on_model_change(selected, current):
        if selected == current or not selected:
            return {c: gr.skip() for c in model_change_outputs}
        view = views.get(selected)
        return apply_model(view, np.zeros(view.dims, dtype=np.float32), selected)

    def on_refresh(selected):
        names = registry.names("vae")
        return gr.update(choices=names, value=selected if selected in names else default)

    def on_load(request: gr.Request):
        # Restore ?model=...&z=... from a shared link; anything wrong falls back to a safe default.
        params = dict(request.query_params) if request is not None else {}
        name = params.get("model") or default
        names = registry.names("vae")
        if name not in names:
            gr.Warning(f"The link names an unknown model {str(name)[:60]!r}; showing {default} instead.")
            name = default
        view = views.get(name)
        z = np.zeros(view.dims, dtype=np.float32)
        if params.get("z"):
            try:
                z = parse_z(params["z"], view.dims)
                if np.abs(z).max() > SLIDER_LIMIT:
                    gr.Warning(f"Values beyond ±{SLIDER_LIMIT:g} in the link were clipped to the slider range.")
                    z = np.clip(z, -SLIDER_LIMIT, SLIDER_LIMIT)
            except ValueError as error:
                gr.Warning(f"The z in the link was ignored: {error}")
        return apply_model(view, z, name)

    # ---------------------------------------------------------------- API endpoints
    def api_decode(z, model_name):
        """z: 20 floats → decoded 28x28 image."""
        view = views.get(model_name or default)
        return render.enlarge(view.decode(parse_z(z, view.dims, API_LIMIT)), 28)

    def api_sample(model_name, seed):
        """→ (z drawn from the prior as 20 floats, its decoded 28x28 image)."""
        view = views.get(model_name or default)
        generator = None
        if seed is not None and int(seed) >= 0:
            generator = torch.Generator().manual_seed(int(seed))
        z = view.prior_sample(generator)
        return [round(float(v), 5) for v in z], render.enlarge(view.decode(z), 28)

    def api_reconstruct(path, model_name):
        """image file → (posterior mean z, 28x28 reconstruction, RNN class probabilities of the prepared input)."""
        view = views.get(model_name or default)
        prepared = actions.image_to_digit(path)
        mu = view.encode(prepared)
        p, _ = actions.readout(view, prepared[0].numpy())
        return [round(float(v), 5) for v in mu], render.enlarge(view.decode(mu), 28), p

    def api_classify(path, model_name):
        """image file → RNN class probabilities."""
        view = views.get(model_name or default)
        p, _ = actions.readout(view, actions.image_to_digit(path)[0].numpy())
        return p

    # ------------------------------------------------------------------ wiring
    hidden = dict(show_progress="hidden")
    gr.on([s.input for s in sliders], user_errors(decode_slots), inputs=[model_state, *sliders], outputs=digit,
          trigger_mode="always_last", queue=False, api_visibility="private", **hidden)
    gr.on([s.release for s in sliders], user_errors(on_release), inputs=[model_state, *sliders],
          outputs=view_outputs[:7], trigger_mode="always_last", api_visibility="private", **hidden)
    random_btn.click(user_errors(on_random), model_state, view_outputs, api_visibility="private", **hidden)
    reset_btn.click(user_errors(on_reset), model_state, view_outputs, api_visibility="private", **hidden)
    for k, b in enumerate(centroid_btns):
        b.click(user_errors(on_centroid(k)), model_state, view_outputs, api_visibility="private", **hidden)
    map_img.select(warn_on_user_errors(on_map_click, view_outputs), model_state, view_outputs, api_visibility="private", **hidden)
    rows_read.input(user_errors(on_rows_read), [model_state, shown, rows_read], [probs, readout_img],
                    trigger_mode="always_last", api_visibility="private", **hidden)
    upload.upload(warn_on_user_errors(on_upload, upload_outputs), [model_state, upload], upload_outputs, api_visibility="private",
                  show_progress="hidden")
    sketch_btn.click(warn_on_user_errors(on_sketch, upload_outputs), [model_state, sketch], upload_outputs, api_visibility="private",
                     show_progress="hidden")
    interp_btn.click(warn_on_user_errors(on_interpolate, [interp_strip, interp_anim, interp_gif]), [model_state, end_a, end_b, method, steps, upload_z, *sliders],
                     [interp_strip, interp_anim, interp_gif], api_visibility="private")
    grid_btn.click(warn_on_user_errors(on_grid, grid_img), [model_state, *sliders], grid_img, api_visibility="private")
    share_btn.click(user_errors(on_share), [model_state, *sliders], share_link, api_visibility="private").then(
        None, share_link, share_link, js="""(query) => {
            const url = window.location.origin + window.location.pathname + query;
            try { window.history.replaceState(null, "", query); } catch (e) {}
            try { navigator.clipboard.writeText(url).catch(() => {}); } catch (e) {}
            return url; }""")
    selector.change(user_errors(on_model_change), [selector, model_state], model_change_outputs,
                    api_visibility="private")
    refresh.click(on_refresh, selector, selector, api_visibility="private")
    Context.root_block.load(user_errors(on_load), None, model_change_outputs, api_visibility="private")

    api_buttons[0].click(user_errors(api_decode), [api_z, api_model], api_image, api_name="decode", queue=False)
    api_buttons[1].click(user_errors(api_sample), [api_model, api_seed], [api_z_out, api_image], api_name="sample",
                         queue=False)
    api_buttons[2].click(user_errors(api_reconstruct), [api_file, api_model], [api_z_out, api_image, api_probs],
                         api_name="reconstruct")
    api_buttons[3].click(user_errors(api_classify), [api_file, api_model], api_probs, api_name="classify")

    return ExploreTab(model_selector=selector, model_state=model_state, sliders=sliders, refresh_button=refresh)
