"""The explorer's named API endpoints: /decode, /sample, /reconstruct and /classify.

They run the same actions as the page through hidden components, so gradio_client and plain
HTTP get clean inputs and outputs. Errors reach the caller as one sentence (gr.Error).
"""

import gradio as gr

from . import explore_actions as actions
from . import explore_render as render
from .errors import user_errors
from .explore_models import API_LIMIT, ViewCache, parse_z

# Preparing an uploaded image is the heaviest request (decode + shrink); a small shared limit
# keeps a burst of big uploads from taking all the memory and cores from slider users.
IMAGE_CONCURRENCY = dict(concurrency_id="explore-images", concurrency_limit=2)


def _rounded(z) -> list[float]:
    return [round(float(v), 5) for v in z]


def wire_api(views: ViewCache, default: str | None) -> None:
    """Create the hidden components of the named endpoints and wire them (inside the current Blocks)."""
    with gr.Column(visible=False):
        z_in = gr.JSON(label="z (list of floats, one per latent dimension: 20 for the shipped models)")
        model = gr.Textbox(value=default or "", label="model (VAE checkpoint name)")
        seed = gr.Number(value=-1, precision=0, label="seed (-1 for random, else 0..2147483647)")
        file = gr.File(label="image file", type="filepath")
        image = gr.Image(type="pil", format="png", label="image (28x28 PNG)")
        z_out = gr.JSON(label="z")
        probs = gr.Label(num_top_classes=10, label="class probabilities")
        buttons = [gr.Button(visible=False) for _ in range(4)]

    def decode(z, model_name):
        """z: one float per latent dimension → decoded 28x28 image."""
        view = views.get(model_name or default)
        return render.enlarge(view.decode(parse_z(z, view.dims, API_LIMIT)), 28)

    def sample(model_name, seed_value):
        """→ (z drawn from the prior, its decoded 28x28 image); seed -1 draws afresh."""
        view = views.get(model_name or default)
        z = view.prior_sample(actions.seeded_generator(seed_value))
        return _rounded(z), render.enlarge(view.decode(z), 28)

    def reconstruct(path, model_name):
        """image file → (posterior mean z, 28x28 reconstruction, RNN class probabilities of the prepared
        input; empty when no classifier matches the model's data set)."""
        view = views.get(model_name or default)
        prepared = actions.image_to_digit(path)
        mu = view.encode(prepared)
        p = actions.class_probabilities(view, prepared[0].numpy()) if view.rnn is not None else None
        return _rounded(mu), render.enlarge(view.decode(mu), 28), p

    def classify(path, model_name):
        """image file → RNN class probabilities (an error when no classifier matches the data set)."""
        view = views.get(model_name or default)
        return actions.class_probabilities(view, actions.image_to_digit(path)[0].numpy())

    buttons[0].click(user_errors(decode), [z_in, model], image, api_name="decode", queue=False)
    buttons[1].click(user_errors(sample), [model, seed], [z_out, image], api_name="sample", queue=False)
    buttons[2].click(user_errors(reconstruct), [file, model], [z_out, image, probs], api_name="reconstruct",
                     **IMAGE_CONCURRENCY)
    buttons[3].click(user_errors(classify), [file, model], probs, api_name="classify", **IMAGE_CONCURRENCY)
