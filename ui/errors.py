"""Turning library errors and malformed calls into one sentence for the page or the API caller."""

import functools
import inspect
import logging
from pathlib import Path

import gradio as gr

from ui.gradio_internals import before_each_call, current_blocks, upload_folder

log = logging.getLogger("latent_lab.ui")


def user_errors(fn):
    """Wrap a handler so a ValueError reaches the page (or API client) as a short gr.Error, never a traceback.

    Any other exception is a bug: it is logged with its traceback for developers, and the user
    gets a one-line apology while the app keeps serving.
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except ValueError as error:
            raise gr.Error(str(error), print_exception=False) from None
        except Exception as error:
            log.exception("handler %s failed", fn.__name__)
            raise gr.Error(f"Something went wrong ({type(error).__name__}); please try again.",
                           print_exception=False) from None
    return wrapper


def _is_uploaded(value) -> bool:
    """Return False for a FileData object whose file is not in gradio's upload folder (it would be refused)."""
    if not (isinstance(value, dict) and isinstance(value.get("meta"), dict)
            and value["meta"].get("_type") == "gradio.FileData"):
        return True  # not a file object: the endpoint's own checks answer
    path = value.get("path")
    if not isinstance(path, str) or not path:
        return False
    return Path(path).resolve().is_relative_to(Path(upload_folder()).resolve())


def check_calls(endpoints: dict) -> None:
    """Make calls to `endpoints` ({api name: function}) with missing arguments or foreign files answer one sentence.

    Gradio checks both before any handler runs and, for these two mistakes, logs a traceback and
    answers `{"error": null}`. So the current Blocks sees each call's raw values first
    (gradio_internals.before_each_call): trailing arguments that have defaults are filled in, and
    anything else gets a gr.Error the caller can read.
    """
    def check(api_name, inputs):
        fn = endpoints.get(api_name)
        if fn is None:
            return
        params = list(inspect.signature(fn).parameters.values())
        missing = [p.name for p in params[len(inputs):] if p.default is inspect.Parameter.empty]
        if missing:
            raise gr.Error(f"/{api_name} needs a value for {', '.join(missing)} "
                           f"(its arguments: {', '.join(p.name for p in params)}).", print_exception=False)
        inputs.extend(p.default for p in params[len(inputs):])
        if not all(_is_uploaded(value) for value in inputs):
            raise gr.Error("Files must be uploaded to this server first: pass handle_file('digit.png') "
                           "with gradio_client, or the FileData object an upload returned.", print_exception=False)

    before_each_call(current_blocks(), check)
