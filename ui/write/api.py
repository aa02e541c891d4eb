"""The Write tab's named endpoints, /write and /complete, registered with gr.api as plain typed functions.

gr.api endpoints take and return JSON, so a digit comes back as 28 rows of 28 ints (0 or 1):
the writer's binary image, exact, with nothing to decode. Each digit also comes as `png`, a
data: URL of the 28x28 picture for showing it. Every argument is checked here; a wrong one
reaches the caller as one sentence (gr.Error), never a traceback.

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    out = client.predict(7, 0.8, 42, "writer-mnist", api_name="/write")          # out["digit"]: 28 x 28
    out = client.predict(handle_file("my_digit.png"), 14, 6, 1.0, 42, api_name="/complete")
"""

from pathlib import Path

import gradio as gr
import numpy as np

from ui.errors import check_calls, user_errors

from . import actions, render


def _rows(digit: np.ndarray) -> list[list[int]]:
    """Return a binary digit (28, 28) as 28 lists of 28 ints, 0 or 1."""
    return (np.asarray(digit) > 0.5).astype(int).tolist()


def _png(digit: np.ndarray) -> str:
    return render.png_data_url(render.writing_picture(digit, 28, done=True))


def _uploaded_path(image) -> str:
    """Return the server path of a file the caller uploaded (gradio_client's handle_file, or an upload's FileData).

    Only FileData objects pass: gradio checks those were uploaded (and moves them into its cache)
    before the handler runs. A bare path string could name any file on the server, so it is refused.
    """
    if not isinstance(image, dict):
        raise ValueError("The image must be an uploaded file: pass handle_file('digit.png') with gradio_client, "
                         "or the FileData object returned by /gradio_api/upload.")
    meta = image.get("meta")
    path = image.get("path")
    if not (isinstance(meta, dict) and meta.get("_type") == "gradio.FileData" and isinstance(path, str) and path):
        raise ValueError("The image must be an uploaded file: a FileData object with 'path' and "
                         "meta {'_type': 'gradio.FileData'} (gradio_client's handle_file makes one).")
    return str(Path(path))


def wire_api(registry) -> None:
    """Register /write and /complete (inside the current Blocks)."""

    @user_errors
    def write(label: int = -1, temperature: float = 1.0, seed: int = -1, model: str = actions.DEFAULT_WRITER) -> dict:
        """Write one digit row by row and return it.

        label: a class 0-9, or -1 to let the writer choose; temperature: 0.1-2.0 (1 = the model's own
        distribution, lower = bolder and more typical, higher = noisier); seed: 0..2147483647 for a
        reproducible digit, -1 for a fresh one; model: a writer checkpoint name.
        Returns {"digit": 28 rows of 28 ints (0 or 1), "png": data URL of the 28x28 picture, "seed": the
        seed used, "label": the class asked for (null for any), "model": the writer, "reader": {"label":
        the reader's top class, "probabilities": {class name: probability}} (null without a reader)}.
        """
        models = actions.load_models(registry, model)
        label = actions.check_label(label, len(models.class_names))
        temperature = actions.check_temperature(temperature)
        seed = actions.check_seed(seed)
        digit = actions.write_digit(models, label, temperature, actions.generator(seed))
        belief = actions.read(models.reader, digit[None])
        reader = None
        if belief is not None:
            probs = {name: round(float(p), 6) for name, p in zip(models.class_names, belief[0, -1])}
            reader = {"label": max(probs, key=probs.get), "probabilities": probs}
        return {"digit": _rows(digit), "png": _png(digit), "seed": seed, "label": label,
                "model": models.writer_name, "reader": reader}

    @user_errors
    def complete(image: dict, k: int = 14, n: int = actions.ENDINGS_SHOWN, temperature: float = 1.0, seed: int = -1,
                 model: str = actions.DEFAULT_WRITER) -> dict:
        """Keep the top k rows of a digit and write n different endings below them.

        image: an uploaded image file (gradio_client: handle_file("digit.png")); it is prepared like MNIST
        and binarized at grey level 0.5. k: rows kept, 1-27; n: endings, 1-16; temperature: 0.1-2.0;
        seed: 0..2147483647, or -1 for a fresh draw; model: a writer checkpoint name.
        Returns {"prompt": the binarized digit, 28 rows of 28 ints (0/1), "k", "seed", "model", "endings":
        [{"digit": 28 rows of 28 ints whose top k rows equal the prompt's, "png": data URL, "label": the
        reader's top class ("" without a reader), "probability": its probability}, ...]}.
        """
        models = actions.load_models(registry, model)
        k = actions.check_rows(k)
        n = actions.check_count(n)
        temperature = actions.check_temperature(temperature)
        seed = actions.check_seed(seed)
        prompt = actions.image_to_prompt(_uploaded_path(image))
        result = actions.complete(models, prompt, k, n, temperature, actions.generator(seed))
        endings = [{"digit": _rows(e), "png": _png(e), "label": label, "probability": round(p, 6)}
                   for e, label, p in zip(result.endings, result.labels, result.probabilities)]
        return {"prompt": _rows(prompt), "k": k, "seed": seed, "model": models.writer_name, "endings": endings}

    gr.api(write, api_name="write", concurrency_id="write", concurrency_limit=4)
    gr.api(complete, api_name="complete", concurrency_id="write", concurrency_limit=4)
    check_calls({"write": write, "complete": complete})
