"""The app's words in every language: one catalogue file per language, used by Python and the page scripts alike.

Each language is one file beside this module, `<code>.json` (en.json, zh-CN.json): a JSON object from
keys ("explore.random_sample") to texts. A text may hold placeholders, `{name}`, filled by `text()`
(or by the page's llLanguage.t, ui/static/language.js); a translation keeps its English text's
placeholders, and a test checks both; a literal brace is doubled, {{ or }}, as in Python's
str.format. English is the reference: every key is in en.json, and a language that lacks a key shows
the English text. Adding a language is adding one file (docs/languages.md).

Which language a sentence is in: `text()` takes one, or uses the language of the request being
answered, which the app sets per call (`speaking`) from its Accept-Language header; the page sends
its visitor's choice in that header. A library error that reaches a person is a `Sentence`: a
ValueError whose message is rendered in the language current when it is shown.

This package imports nothing of the app's: genmodels, jobs and ui all build on it.
"""

import contextlib
import contextvars
import functools
import json
import re
import string
from pathlib import Path

CATALOGUE_DIR = Path(__file__).resolve().parent
DEFAULT = "en"
CODE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")  # a BCP 47 language tag, as the catalogue files are named


def _discover() -> tuple[str, ...]:
    codes = sorted(path.stem for path in CATALOGUE_DIR.glob("*.json") if CODE.fullmatch(path.stem))
    return (DEFAULT, *[code for code in codes if code != DEFAULT])


LANGUAGES = _discover()  # English first, then every other catalogue file
_current = contextvars.ContextVar("latent_lab_language", default=DEFAULT)


@functools.cache
def catalogue(language: str) -> dict[str, str]:
    """Return one language's catalogue, {key: text} (read once; a language with no file has an empty one)."""
    if language not in LANGUAGES:
        return {}
    texts = json.loads((CATALOGUE_DIR / f"{language}.json").read_text(encoding="utf-8"))
    if not isinstance(texts, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in texts.items()):
        raise ValueError(f"i18n/{language}.json must be one JSON object of texts.")
    return texts


def placeholders(text_: str) -> set[str]:
    """Return the names of a text's placeholders ({n} and {total} in "Step {n} of {total}")."""
    return {name for _, name, _, _ in string.Formatter().parse(text_) if name}


def language() -> str:
    """Return the language of what is being answered now (DEFAULT outside any request)."""
    return _current.get()


@contextlib.contextmanager
def speaking(language_: str):
    """Within the block, sentences without a language of their own are in `language_` (when it is one of LANGUAGES)."""
    token = _current.set(language_ if language_ in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def set_language(language_: str) -> None:
    """Make `language_` the current one for the rest of this context (a request's task or thread)."""
    _current.set(language_ if language_ in LANGUAGES else DEFAULT)


def text(key: str, language_: str | None = None, /, **params) -> str:
    """Return the text of `key` in `language_` (default: the current one), its placeholders filled from `params`.

    A parameter that is itself a Text or a Sentence is rendered in the same language. An unknown key
    is a bug, and raises KeyError.
    """
    language_ = language_ or language()
    template = catalogue(language_).get(key)
    if template is None:
        template = catalogue(DEFAULT)[key]
    values = {name: value.render(language_) if isinstance(value, (Text, Sentence)) else value
              for name, value in params.items()}
    return template.format_map(values)


def negotiate(accept_language: str | None) -> str:
    """Return the catalogue language an Accept-Language header prefers most ("zh-Hans-CN,zh;q=0.9" -> "zh-CN")."""
    ranked = []
    for position, part in enumerate((accept_language or "")[:500].split(",")):
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        if tag and weight > 0:
            ranked.append((-weight, position, tag.strip()))
    for _, _, tag in sorted(ranked):
        found = match(tag)
        if found:
            return found
    return DEFAULT


def match(tag: str) -> str | None:
    """Return the catalogue language a language tag names ("zh", "zh-Hans", "zh-cn" -> "zh-CN"), or None."""
    tag = tag.strip().lower()
    if not tag:
        return None
    for code in LANGUAGES:
        if code.lower() == tag:
            return code
    primary = tag.split("-")[0]
    return next((code for code in LANGUAGES if code.lower().split("-")[0] == primary), None)


class Text:
    """A text to be rendered later, in the language of whoever it is shown to: a key and its parameters."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, /, **params):
        self.key, self.params = key, params

    def render(self, language_: str | None = None) -> str:
        return text(self.key, language_, **self.params)

    def __str__(self) -> str:
        return self.render()

    def __eq__(self, other) -> bool:
        return isinstance(other, Text) and (self.key, self.params) == (other.key, other.params)

    def __hash__(self) -> int:
        return hash((self.key, tuple(sorted(self.params))))

    def __repr__(self) -> str:
        return f"Text({self.key!r}, **{self.params!r})"


class Sentence(ValueError):
    """A ValueError whose message is a catalogue text, for a person in their language (str() renders it in the current one)."""

    def __init__(self, key: str, /, **params):
        self.text = Text(key, **params)
        super().__init__(key)

    @property
    def key(self) -> str:
        return self.text.key

    def render(self, language_: str | None = None) -> str:
        return self.text.render(language_)

    def __str__(self) -> str:
        return self.text.render()
