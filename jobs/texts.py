"""Sentences that outlive the request: kept in a job's files as a catalogue key and its parameters, shown later.

A job runs in a background process with no visitor: what it has to say (why it failed, why it
stopped) is written to job.json or progress.json, or sent over a helper's pipe, as
{"key": ..., "params": {...}}, and rendered in the language of whoever reads it. Records of
older versions hold plain English text, which is shown as it is.

    stored(i18n.Sentence("jobs.out_of_memory"))   -> {"key": "jobs.out_of_memory", "params": {}}
    restored({"key": ..., "params": ...})          -> i18n.Text (a plain string stays a string)
    shown(stored_value, "zh-CN")                   -> the sentence in that language
"""

import i18n

PARAMS_LIMIT = 20  # parameters of one stored sentence; a record with more was not written by this app
DEPTH_LIMIT = 4  # a sentence within a sentence within ...


def stored(text, depth: int = 0):
    """Return a sentence as JSON can keep it: a Text or a Sentence as {"key", "params"}; text and None as they are."""
    if isinstance(text, i18n.Sentence):
        text = text.text
    if isinstance(text, i18n.Text):
        if depth >= DEPTH_LIMIT:
            return text.render(i18n.DEFAULT)
        return {"key": text.key, "params": {name: _stored_param(value, depth + 1) for name, value in text.params.items()}}
    if text is None or isinstance(text, str):
        return text
    return str(text)  # another exception: its message as it is


def _stored_param(value, depth: int):
    if isinstance(value, (i18n.Text, i18n.Sentence)):
        return stored(value, depth)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def well_formed(value, known: bool = False, depth: int = 0) -> bool:
    """Return True for what `stored` writes: {"key": text, "params": {name: a plain value or a stored sentence}},
    small and at most DEPTH_LIMIT deep (files are untrusted); with `known`, every key must be in the catalogue."""
    if not (isinstance(value, dict) and set(value) == {"key", "params"} and isinstance(value["key"], str)
            and len(value["key"]) <= 100 and isinstance(value["params"], dict) and len(value["params"]) <= PARAMS_LIMIT):
        return False
    if known and value["key"] not in i18n.catalogue(i18n.DEFAULT):
        return False
    for name, param in value["params"].items():
        if not isinstance(name, str) or len(name) > 100:
            return False
        if isinstance(param, dict):
            if depth >= DEPTH_LIMIT or not well_formed(param, known, depth + 1):
                return False
        elif not (param is None or isinstance(param, (bool, int, float)) or (isinstance(param, str) and len(param) <= 500)):
            return False
    return True


def is_stored(value) -> bool:
    """Return True for a stored sentence this version can show: well formed, and every key in the catalogue."""
    return well_formed(value, known=True)


def restored(value) -> "i18n.Text | str | None":
    """Return what `stored` kept as something to render: an i18n.Text, a plain text (an older record), or None."""
    if is_stored(value):
        return i18n.Text(value["key"], **{name: restored(param) if isinstance(param, dict) else param
                                          for name, param in value["params"].items()})
    if value is None or isinstance(value, str):
        return value
    return None  # neither: not something this app wrote


def shown(value, language: str | None = None) -> str | None:
    """Return a stored sentence (or plain text) in `language` (default: the current one); None for none."""
    value = restored(value)
    if isinstance(value, i18n.Text):
        try:
            return value.render(language)
        except (KeyError, ValueError, IndexError):  # placeholders the key's text does not have: not ours
            return None
    return value
