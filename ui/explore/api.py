"""The explorer's named HTTP endpoints /decode, /sample, /reconstruct, /classify and /explain, registered with gr.api.

gr.api hands a function the caller's JSON untouched and sends back what it returns, so every
argument is checked here and a wrong one reaches the caller as one sentence (gr.Error), never a
traceback. Pictures travel the way gr.Image sent them before: a FileData object whose file is in
gradio's cache, which gradio_client downloads to a local path and plain HTTP callers fetch by URL.

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    path = client.predict([0.0] * 20, "vae-mnist", api_name="/decode")        # a 28x28 PNG
    z, path = client.predict("vae-mnist", 7, api_name="/sample")
    z, recon, probs = client.predict(handle_file("digit.png"), "vae-mnist", api_name="/reconstruct")
    probs = client.predict(handle_file("digit.png"), "vae-mnist", api_name="/classify")
    nats = client.predict(handle_file("digit.png"), "vae-mnist", api_name="/explain")  # mu, sigma, kl, nelbo...
"""

import threading
from collections import OrderedDict

import gradio as gr

from i18n import Sentence
from ui import cache
from ui.errors import check_calls, user_errors
from ui.gradio_internals import write_to_cache
from ui.limits import IMAGE_CONCURRENCY

from . import actions, render
from .models import API_LIMIT, DEFAULT_MODEL, ViewCache, parse_z

KEEP_FILES = 256  # newest API pictures kept in gradio's cache (RecentFiles)


def _rounded(z) -> list[float]:
    return [round(float(v), 5) for v in z]


class RecentFiles:
    """The newest `keep` files of API calls in gradio's cache (the pictures they wrote, the uploads they
    read); older ones are deleted as new ones come.

    Every /decode of a new code writes a new file and every /classify reads a new upload, so a class
    calling the API would otherwise leave thousands behind. A caller fetches its picture right after
    the answer and calls with its upload right after sending it; an upload used again becomes the
    newest, so a script may keep using one file as long as it does (the cache's sweep by age spares
    these, ui/cache.py).
    """

    def __init__(self, keep: int = KEEP_FILES):
        self.keep = keep
        self._paths: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, path: str) -> bool:
        return path in self._paths

    def add(self, path: str) -> None:
        with self._lock:
            self._paths[path] = None
            self._paths.move_to_end(path)  # the same picture again (same content, same file): now the newest
            old = [self._paths.popitem(last=False)[0] for _ in range(len(self._paths) - self.keep)]
        for stale in old:
            cache.remove(stale)


API_FILES = RecentFiles()  # app.py spares these from the cache's sweep by age


def _png_file(digit) -> dict:
    """Return a FileData object for a 28x28 PNG of `digit`, written into gradio's cache (named by its content)."""
    path = write_to_cache(render.png_bytes(digit), "digit.png")
    API_FILES.add(path)
    return gr.FileData(path=path, orig_name="digit.png", mime_type="image/png").model_dump()


def _model_name(model) -> str:
    if model is None:
        return DEFAULT_MODEL
    if not isinstance(model, str) or not model.strip():
        raise Sentence("explore.api_model", default=DEFAULT_MODEL)
    return model.strip()


def _uploaded_path(image) -> str:
    """Return the server path of a file the caller uploaded, counted among the API's recent files.

    Only FileData objects pass, and check_call() has already made sure their file is in gradio's
    upload folder: a bare path string could name any file on the server.
    """
    if not isinstance(image, dict):
        raise Sentence("explore.api_file")
    meta, path = image.get("meta"), image.get("path")
    if not (isinstance(meta, dict) and meta.get("_type") == "gradio.FileData" and isinstance(path, str) and path):
        raise Sentence("explore.api_file")
    API_FILES.add(path)
    return path


def wire_api(views: ViewCache) -> None:
    """Register /decode, /sample, /reconstruct, /classify and /explain (inside the current Blocks)."""

    def decode(z: list[float], model: str = DEFAULT_MODEL) -> dict:
        """Return the decoded 28x28 PNG of code z (one float per latent dimension, each within ±10: 20 for the
        shipped models) of VAE `model`."""
        view = views.get(_model_name(model))
        return _png_file(view.decode(parse_z(z, view.dims, API_LIMIT)))

    def sample(model: str = DEFAULT_MODEL, seed: int = -1) -> tuple[list[float], dict]:
        """Return (z drawn from the prior N(0, I), its decoded 28x28 PNG); seed 0..2147483647 repeats a draw,
        -1 draws afresh."""
        view = views.get(_model_name(model))
        if isinstance(seed, bool) or not (seed is None or isinstance(seed, (int, float))):
            raise Sentence("explore.seed_whole")
        z = view.prior_sample(actions.seeded_generator(seed))
        return _rounded(z), _png_file(view.decode(z))

    def reconstruct(image: dict, model: str = DEFAULT_MODEL) -> tuple[list[float], dict, dict | None]:
        """Return (posterior mean z, 28x28 reconstruction PNG, class probabilities of the prepared image from the
        RNN of the model's data set, or null when there is none) for an uploaded image file."""
        view = views.get(_model_name(model))
        prepared = actions.image_to_digit(_uploaded_path(image))
        mu = view.encode(prepared)
        reader = views.reader(view.default_reader)
        probs = actions.class_probabilities(reader, prepared[0].numpy()) if reader else None
        return _rounded(mu), _png_file(view.decode(mu)), actions.label_value(probs) if probs else None

    def classify(image: dict, model: str = DEFAULT_MODEL) -> dict:
        """Return the RNN's class probabilities for an uploaded image file; `model` names a RowRNN, or a VAE
        whose data set picks one."""
        name = _model_name(model)
        reader = views.reader(name) if name in views.registry.names("rnn") else views.reader_for(name)
        probs = actions.class_probabilities(reader, actions.image_to_digit(_uploaded_path(image))[0].numpy())
        return actions.label_value(probs)

    def explain(image: dict, model: str = DEFAULT_MODEL) -> dict:
        """Return how VAE `model` sees an uploaded image file, prepared as for /reconstruct: the posterior's mu and
        sigma (lists, one per latent dimension), kl_per_dim, kl, reconstruction and nelbo (nats per image); the
        reconstruction term averages `samples` draws of eps from a fixed seed, so an image always gets the same
        figures."""
        view = views.get(_model_name(model))
        prepared = actions.image_to_digit(_uploaded_path(image))
        return actions.explanation_value(actions.explain_digit(view, prepared))

    endpoints = {"decode": decode, "sample": sample, "reconstruct": reconstruct, "classify": classify,
                 "explain": explain}
    gr.api(user_errors(decode), api_name="decode", queue=False)
    gr.api(user_errors(sample), api_name="sample", queue=False)
    gr.api(user_errors(reconstruct), api_name="reconstruct", **IMAGE_CONCURRENCY)
    gr.api(user_errors(classify), api_name="classify", **IMAGE_CONCURRENCY)
    gr.api(user_errors(explain), api_name="explain", **IMAGE_CONCURRENCY)
    check_calls(endpoints)

