"""Turning library errors and malformed calls into one sentence for the page or the API caller."""

import functools
import inspect
import json
import logging
from pathlib import Path

import gradio as gr

import i18n

from ui.gradio_internals import before_each_call, current_blocks, on_refused_input, upload_folder
from ui.language import shown

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
            raise gr.Error(i18n.text("app.unexpected", kind=type(error).__name__), print_exception=False) from None
    return wrapper


def _files_in(value):
    """Yield every FileData object (a dict whose meta names gradio.FileData) inside a raw input value."""
    if isinstance(value, dict):
        if isinstance(value.get("meta"), dict) and value["meta"].get("_type") == "gradio.FileData":
            yield value
        else:
            for item in value.values():
                yield from _files_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _files_in(item)


def _is_uploaded(file: dict) -> bool:
    """Return whether a FileData object's file is in gradio's upload folder (any other would be refused)."""
    path = file.get("path")
    if not isinstance(path, str) or not path or "\0" in path:
        return False
    return Path(path).resolve().is_relative_to(Path(upload_folder()).resolve())


@functools.cache
def _holds_files(model) -> bool:
    """Return whether a component's data model (a pydantic model class) holds files anywhere."""
    return "FileData" in json.dumps(model.model_json_schema())


def _check_value(component, value) -> None:
    """Raise gr.Error unless `value` is one `component` accepts, with only uploaded files in it."""
    if value is None:
        return
    if not all(_is_uploaded(file) for file in _files_in(value)):
        raise gr.Error(i18n.text("errors.foreign_file"), print_exception=False)
    model = getattr(component, "data_model", None)  # gradio's model of the value (a file, an editor's layers)
    if model is None or not _holds_files(model):
        return
    try:
        model.model_validate(value, context={"validate_meta": True})
    except (TypeError, ValueError):  # pydantic.ValidationError is a ValueError
        raise gr.Error(i18n.text("errors.wrong_kind_file", field=_field(component)), print_exception=False) from None


def refuse_foreign_files(blocks: gr.Blocks) -> None:
    """Make every event of `blocks`, on the page or the API, answer one sentence for a value its file fields
    cannot take: a file not uploaded to this server (a path such as /etc/passwd) or a value of the wrong kind.

    Gradio refuses both before any handler runs, but with a logged traceback and `{"error": null}`; so
    each call's raw values are checked first (gradio_internals.before_each_call).
    """
    def check(api_name, components, inputs):
        for component, value in zip(components, inputs):
            _check_value(component, value)
        for value in inputs[len(components):]:  # values beyond the event's inputs, where a caller sent more
            _check_value(None, value)

    before_each_call(blocks, check)


def _label(component) -> str:
    """Return a component's label as the caller reads it, cut short ("" for a component without one)."""
    return shown(getattr(component, "label", None) or "")[:60]


def _field(component) -> str:
    """Return how a sentence names a component, in the caller's language: by its label, or as "A field"."""
    label = _label(component)
    return i18n.text("errors.field_named", label=label) if label else i18n.text("errors.field_any")


def _choice_values(component) -> list | None:
    """Return the values a choice component (dropdown, radio) takes, None for another component or a free one."""
    choices = getattr(component, "choices", None)
    if not isinstance(choices, list) or getattr(component, "allow_custom_value", False):
        return None
    return [choice[1] if isinstance(choice, (tuple, list)) else choice for choice in choices]


def _refused(components, inputs, session) -> gr.Error:
    """Return the one sentence for a call one of whose values its component refused: which field, never the value."""
    for component, value in zip(session, inputs):
        values = _choice_values(component)
        if values is None or value is None:
            continue
        picked = value if isinstance(value, list) and getattr(component, "multiselect", False) else [value]
        if not all(isinstance(v, (str, int, float)) and v in values for v in picked):
            return gr.Error(i18n.text("errors.not_a_choice", field=_field(component)), print_exception=False)
    fields = i18n.text("errors.list_separator").join(f"“{label}”" for label in map(_label, components) if label)
    if not fields:
        return gr.Error(i18n.text("errors.wrong_kind"), print_exception=False)
    return gr.Error(i18n.text("errors.wrong_kind_fields", fields=fields[:300]), print_exception=False)


def answer_refused_inputs(blocks: gr.Blocks) -> None:
    """Make every event of `blocks`, page or API, answer one sentence naming the field when a component refuses a
    value (a dropdown value outside its choices, a list or a dict for a number, 200 kB of text for a choice).

    Gradio's own refusal quotes the whole value and every choice and logs a traceback; this one
    names the field and quotes nothing (gradio_internals.on_refused_input, the same path for all).
    """
    on_refused_input(blocks, _refused)


def check_calls(endpoints: dict) -> None:
    """Make calls to `endpoints` ({api name: function}) with missing arguments answer one sentence.

    Gradio checks the argument count before any handler runs and, for this mistake, logs a traceback
    and answers `{"error": null}`. So the current Blocks sees each call's raw values first
    (gradio_internals.before_each_call): trailing arguments that have defaults are filled in, and a
    missing one gets a gr.Error the caller can read. Files are refuse_foreign_files' to check.
    """
    def check(api_name, components, inputs):
        fn = endpoints.get(api_name)
        if fn is None:
            return
        params = list(inspect.signature(fn).parameters.values())
        missing = [p.name for p in params[len(inputs):] if p.default is inspect.Parameter.empty]
        if missing:
            raise gr.Error(i18n.text("errors.missing_arguments", api_name=api_name, missing=", ".join(missing),
                                     arguments=", ".join(p.name for p in params)), print_exception=False)
        inputs.extend(p.default for p in params[len(inputs):])

    before_each_call(current_blocks(), check)
