"""The Write tab's named endpoints, /write, /write_step and /complete, registered with gr.api as plain typed functions.

gr.api endpoints take and return JSON, so a digit comes back as 28 rows of 28 ints (0 or 1):
the writer's binary image, exact, with nothing to decode. Each digit also comes as `png`, a
data: URL of the 28x28 picture for showing it. Every argument is checked here; a wrong one
reaches the caller as one sentence (gr.Error), never a traceback.

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    out = client.predict(7, 0.8, 42, "writer-mnist", api_name="/write")          # out["digit"]: 28 x 28
    out = client.predict(handle_file("my_digit.png"), 14, 6, 1.0, 42, api_name="/complete")
    rows = []                                                                     # step by step, one row a call
    while len(rows) < 28:
        step = client.predict(rows, 7, 0.8, 42, "writer-mnist", api_name="/write_step")
        rows = step["rows"]                   # step["probabilities"]: the 28 pixels' p(ink) it was drawn from
"""

from pathlib import Path

import gradio as gr
import numpy as np

import i18n
from ui.errors import check_calls, user_errors
from ui.limits import IMAGE_CONCURRENCY

from . import actions, render


def _rows(digit: np.ndarray) -> list[list[int]]:
    """Return a binary digit (side, side) as side lists of side ints, 0 or 1."""
    return (np.asarray(digit) > 0.5).astype(int).tolist()


def _png(digit: np.ndarray) -> str:
    return render.png_data_url(render.writing_picture(digit, len(digit), done=True))


def _reader(models, belief) -> dict | None:
    """Return the reader's answer {"label": top class, "probabilities": {class: p}} for one belief (classes,), or None."""
    if belief is None:
        return None
    probs = {name: round(float(p), 6) for name, p in zip(models.class_names, belief)}
    return {"label": max(probs, key=probs.get), "probabilities": probs}


def _uploaded_path(image) -> str:
    """Return the server path of a file the caller uploaded (gradio_client's handle_file, or an upload's FileData).

    Only FileData objects pass: gradio checks those were uploaded (and moves them into its cache)
    before the handler runs. A bare path string could name any file on the server, so it is refused.
    """
    if not isinstance(image, dict):
        raise i18n.Sentence("write.api.file")
    meta = image.get("meta")
    path = image.get("path")
    if not (isinstance(meta, dict) and meta.get("_type") == "gradio.FileData" and isinstance(path, str) and path):
        raise i18n.Sentence("write.api.file_data")
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
        return {"digit": _rows(digit), "png": _png(digit), "seed": seed, "label": label,
                "model": models.writer_name, "reader": _reader(models, None if belief is None else belief[0, -1])}

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
        k = actions.check_rows(k, models.side)
        n = actions.check_count(n)
        temperature = actions.check_temperature(temperature)
        seed = actions.check_seed(seed)
        prompt = actions.image_to_prompt(_uploaded_path(image))
        result = actions.complete(models, prompt, k, n, temperature, actions.generator(seed))
        endings = [{"digit": _rows(e), "png": _png(e), "label": label, "probability": round(p, 6)}
                   for e, label, p in zip(result.endings, result.labels, result.probabilities)]
        return {"prompt": _rows(prompt), "k": k, "seed": seed, "model": models.writer_name, "endings": endings}

    @user_errors
    def write_step(rows: list[list[int]] | None = None, label: int = -1, temperature: float = 1.0, seed: int = -1,
                   model: str = actions.DEFAULT_WRITER) -> dict:
        """Write the next row of a digit below the rows written so far, and return the probabilities it was drawn from.

        rows: the rows written so far, 0 to 27 lists of 28 ints (0 or 1); [] or null starts a digit.
        label, temperature, seed, model: as for /write. Pass the same seed (not -1) at every step and the
        28 steps write the digit /write writes with that seed.
        Returns {"row": the row written, 0-27 (0 = top), "probabilities": 28 floats, each pixel's p(ink) at
        temperature 1 given the rows above and the pixels drawn to its left in this row (as sampling used it),
        "tempered": the same at the temperature asked for (sigmoid(logit / temperature): what the pixels were
        drawn from), "pixels": the 28 ints drawn, "rows": every row written so far (pass it back for the next
        step), "row_log_likelihood": log p(this row | rows above, class) in nats, "log_likelihood": log p(all
        rows written | class) in nats (at temperature 1; for 28 rows the writer's exact log p(digit)), "done":
        whether all 28 rows are written, "seed", "label", "model", "reader": as for /write, after these rows}.
        """
        models = actions.load_models(registry, model)
        written = actions.check_written_rows(rows, models.side)
        label = actions.check_label(label, len(models.class_names))
        temperature = actions.check_temperature(temperature)
        seed = actions.check_seed(seed)
        step = actions.write_step(models, written, label, temperature, seed)
        return {"row": step.row, "probabilities": [round(float(p), 6) for p in step.probabilities],
                "tempered": [round(float(p), 6) for p in step.tempered], "pixels": step.pixels.astype(int).tolist(),
                "rows": step.rows.astype(int).tolist(), "row_log_likelihood": step.row_log_likelihood,
                "log_likelihood": step.log_likelihood, "done": step.done, "seed": seed, "label": label,
                "model": models.writer_name, "reader": _reader(models, step.belief)}

    gr.api(write, api_name="write", concurrency_id="write", concurrency_limit=4)
    gr.api(write_step, api_name="write_step", concurrency_id="write", concurrency_limit=4)
    gr.api(complete, api_name="complete", **IMAGE_CONCURRENCY)
    check_calls({"write": write, "write_step": write_step, "complete": complete})
