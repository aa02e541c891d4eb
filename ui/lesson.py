"""Lessons as data: the lesson files in lessons/, their glossary and the page's words, checked and served.

A lesson is one JSON file, lessons/<name>.json (the format is in docs/lessons.md): a title, a summary
and steps, each with a title, a body and a task in every language of LANGUAGES, the app state the step
opens (a link query in the form of the shareable link, ?tab=...&model=...&z=...&panel=...) and an
optional check the page evaluates (CHECKS). Teachers write these files, so every file is untrusted:
a malformed one is left out with one sentence naming the file and the step, and the app goes on.
The page's engine (ui/static/lesson.js) fetches everything at once from LESSONS_URL.

    GET /latent-lab/static/lesson.js, lesson.css    the engine and its look
    GET /latent-lab/lessons                          {"lessons": {name: lesson}, "glossary": {...}, "strings": {...}}
"""

import json
import logging
import re
import urllib.parse
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from ui.explore.models import parse_z

LESSONS_DIR = Path(__file__).resolve().parent.parent / "lessons"
STATIC_DIR = Path(__file__).resolve().parent / "static"
PREFIX = "/latent-lab"
LESSONS_URL = f"{PREFIX}/lessons"
SCRIPT_URL = f"{PREFIX}/static/lesson.js"
CSS_URL = f"{PREFIX}/static/lesson.css"
# The tags app.serve adds to the page's head.
HEAD = f'<link rel="stylesheet" href="{CSS_URL}"><script src="{SCRIPT_URL}" defer></script>'

FORMAT = 1
LANGUAGES = ("en", "zh-CN")  # every text of a lesson, the glossary and the engine's words, in each
TABS = ("explore", "write", "train")  # the app's tab ids (app.build_app)
STATE_KEYS = ("tab", "model", "z", "panel")  # a step's link: the shareable link's model and z, plus tab and panel
MAX_FILE_BYTES = 256 * 1024
MAX_LINK_CHARS = 1000
MAX_STEPS = 30
NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,59}")  # a lesson's file name, a glossary term's id
ELEMENT_ID = re.compile(r"[A-Za-z][\w-]{0,79}")  # an element of the page named by a panel or a check
MODEL_NAME = re.compile(r"[\w.-]{1,100}")
TERM_LINK = re.compile(r"\[\[([^\]|]*)(?:\|[^\]]*)?\]\]")  # [[term]] or [[term|shown words]] in a body
TEXT_LIMIT = 2000  # characters of one text in one language

# Each check the page can evaluate (ui/static/lesson.js, `checks`): its parameters and their kinds.
# "?" marks an optional one.
CHECKS = {
    "slider_moved": {"by": "number", "dim?": "dim"},  # a slider (any, or dimension dim) moved by at least `by`
    "reader_says": {"class": "text"},  # the RNN reader's verdict is this class name
    "used": {"target": "element", "times?": "count"},  # an element was clicked, typed in or moved, `times` times
    "changed": {"target": "element"},  # an element's content (pictures or words) changed
    "tab_is": {"tab": "tab"},  # this tab is open
}

log = logging.getLogger(__name__)


class LessonError(ValueError):
    """A lesson, glossary or words file that cannot be used; the message names the file (and step)."""


def parse_state(link: str) -> dict:
    """Return a step's or a teacher's link (?tab=...&model=...&z=...&panel=...) as a dict of its parts;
    ValueError with a sentence when it is not one."""
    if not isinstance(link, str) or not link.startswith("?") or len(link) > MAX_LINK_CHARS:
        raise ValueError(f"the state must be a link query starting with '?' of at most {MAX_LINK_CHARS} characters.")
    try:
        pairs = urllib.parse.parse_qsl(link[1:], keep_blank_values=True, strict_parsing=bool(link[1:]))
    except ValueError:
        raise ValueError("the state is not a link query like ?tab=explore&model=vae-mnist.") from None
    state = {}
    for key, value in pairs:
        if key not in STATE_KEYS:
            raise ValueError(f"the state has an unknown part {key[:40]!r} (use {', '.join(STATE_KEYS)}).")
        if key in state:
            raise ValueError(f"the state names {key} twice.")
        state[key] = value
    if "tab" in state and state["tab"] not in TABS:
        raise ValueError(f"the state's tab must be one of {', '.join(TABS)}.")
    if "model" in state and not MODEL_NAME.fullmatch(state["model"]):
        raise ValueError("the state's model must be a model's name, like vae-mnist.")
    if "panel" in state and not ELEMENT_ID.fullmatch(state["panel"]):
        raise ValueError("the state's panel must be an element id of the page, like ll-explain.")
    if "z" in state:
        parts = [p for p in state["z"].replace(";", ",").split(",") if p.strip()]
        if not parts:
            raise ValueError("the state's z is empty.")
        state["z"] = [float(v) for v in parse_z(state["z"], len(parts))]
    return state


def _texts(value, where: str, what: str) -> dict:
    """Return a {language: text} dict with every language; LessonError otherwise."""
    if not isinstance(value, dict):
        raise LessonError(f"{where}: {what} must be an object with one text per language ({', '.join(LANGUAGES)}).")
    for lang in LANGUAGES:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise LessonError(f"{where}: {what} has no {lang} text.")
        if len(text) > TEXT_LIMIT:
            raise LessonError(f"{where}: {what} in {lang} is longer than {TEXT_LIMIT} characters.")
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        raise LessonError(f"{where}: {what} has a text in an unknown language {sorted(unknown)[0]!r}.")
    return {lang: value[lang] for lang in LANGUAGES}


def _check(value, where: str) -> dict:
    """Return a step's check, its parameters checked against CHECKS; LessonError otherwise."""
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise LessonError(f"{where}: the check must be an object with a type ({', '.join(CHECKS)}).")
    kind = value["type"]
    if kind not in CHECKS:
        raise LessonError(f"{where}: the check type {kind[:40]!r} is unknown (use one of {', '.join(CHECKS)}).")
    params = CHECKS[kind]
    known = {name.rstrip("?") for name in params}
    for name in value:
        if name != "type" and name not in known:
            raise LessonError(f"{where}: the check {kind} has no parameter {name[:40]!r} (it takes {', '.join(sorted(known))}).")
    for name, sort in params.items():
        key = name.rstrip("?")
        if key not in value:
            if not name.endswith("?"):
                raise LessonError(f"{where}: the check {kind} needs a {key}.")
            continue
        v = value[key]
        ok = {"number": isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 20,
              "dim": isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1000,
              "count": isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 100,
              "text": isinstance(v, str) and 0 < len(v) <= 60,
              "element": isinstance(v, str) and bool(ELEMENT_ID.fullmatch(v)),
              "tab": v in TABS}[sort]
        if not ok:
            raise LessonError(f"{where}: the check {kind} has an unusable {key} ({str(v)[:40]!r}).")
    return dict(value)


def _read_json(path: Path, label: str) -> dict:
    """Return the JSON object in `path` (at most MAX_FILE_BYTES); LessonError naming `label` otherwise."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise LessonError(f"{label} is larger than {MAX_FILE_BYTES // 1024} KB.")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        raise LessonError(f"{label} cannot be read as UTF-8 text.") from None
    except json.JSONDecodeError as error:
        raise LessonError(f"{label} is not valid JSON (line {error.lineno}: {error.msg}).") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise LessonError(f"{label} must be a JSON object with \"format\": {FORMAT}.")
    return data


def load_glossary(path: Path) -> dict:
    """Return the glossary {term id: {"term": {lang: name}, "text": {lang: sentence}}} of `path`; LessonError otherwise."""
    label = f"lessons/{path.name}"
    terms = _read_json(path, label).get("terms")
    if not isinstance(terms, dict) or not terms:
        raise LessonError(f"{label} needs \"terms\": an object of term ids.")
    glossary = {}
    for term_id, entry in terms.items():
        where = f"{label}, term {term_id[:40]!r}"
        if not NAME.fullmatch(term_id):
            raise LessonError(f"{where}: a term id uses lower-case letters, digits and dashes.")
        if not isinstance(entry, dict) or set(entry) != {"term", "text"}:
            raise LessonError(f"{where}: each term needs exactly \"term\" and \"text\".")
        glossary[term_id] = {"term": _texts(entry["term"], where, "the term"),
                             "text": _texts(entry["text"], where, "the text")}
    return glossary


def load_strings(path: Path) -> dict:
    """Return the engine's words {key: {lang: text}} of `path`; LessonError otherwise."""
    label = f"lessons/{path.name}"
    strings = _read_json(path, label).get("strings")
    if not isinstance(strings, dict):
        raise LessonError(f"{label} needs \"strings\": an object of texts.")
    return {key: _texts(value, f"{label}, {key[:40]!r}", "the text") for key, value in strings.items()}


def load_lesson(path: Path, glossary: dict) -> dict:
    """Return the lesson in `path`, every step checked (its words link only to `glossary`'s terms); LessonError otherwise."""
    label = f"lessons/{path.name}"
    if not NAME.fullmatch(path.stem):
        raise LessonError(f"{label}: a lesson's file name uses lower-case letters, digits and dashes.")
    data = _read_json(path, label)
    for key in ("title", "summary", "steps"):
        if key not in data:
            raise LessonError(f"{label} has no \"{key}\".")
    unknown = set(data) - {"format", "title", "summary", "steps"}
    if unknown:
        raise LessonError(f"{label} has an unknown key {sorted(unknown)[0][:40]!r}.")
    steps = data["steps"]
    if not isinstance(steps, list) or not 1 <= len(steps) <= MAX_STEPS:
        raise LessonError(f"{label}: \"steps\" must be a list of 1 to {MAX_STEPS} steps.")
    lesson = {"name": path.stem, "title": _texts(data["title"], label, "the title"),
              "summary": _texts(data["summary"], label, "the summary"), "steps": []}
    for number, step in enumerate(steps, 1):
        where = f"{label}, step {number}"
        if not isinstance(step, dict):
            raise LessonError(f"{where}: a step must be an object.")
        for key in ("title", "body", "task"):
            if key not in step:
                raise LessonError(f"{where} has no \"{key}\".")
        unknown = set(step) - {"title", "body", "task", "state", "check"}
        if unknown:
            raise LessonError(f"{where} has an unknown key {sorted(unknown)[0][:40]!r}.")
        out = {key: _texts(step[key], where, f"the {key}") for key in ("title", "body", "task")}
        for lang, body in out["body"].items():
            for term in TERM_LINK.findall(body):
                if term not in glossary:
                    raise LessonError(f"{where}: the {lang} body links to {term[:40]!r}, which is not in the glossary.")
        out["state"] = step.get("state", "")
        if out["state"]:
            try:
                parse_state(out["state"])
            except ValueError as error:
                raise LessonError(f"{where}: {error}") from None
        if "check" in step:
            out["check"] = _check(step["check"], where)
        lesson["steps"].append(out)
    return lesson


def load_all(folder: Path = LESSONS_DIR) -> dict:
    """Return {"lessons", "glossary", "strings", "problems"} from `folder`: a lesson that does not load is left
    out and its sentence is in "problems" (the glossary and the words must load: they ship with the app)."""
    glossary = load_glossary(folder / "glossary.json")
    strings = load_strings(folder / "strings.json")
    lessons, problems = {}, []
    for path in sorted(folder.glob("*.json")):
        if path.name in ("glossary.json", "strings.json"):
            continue
        try:
            lessons[path.stem] = load_lesson(path, glossary)
        except LessonError as error:
            problems.append(str(error))
            log.warning("Lesson left out: %s", error)
    return {"lessons": lessons, "glossary": glossary, "strings": strings, "problems": problems}


def routes(folder: Path = LESSONS_DIR) -> list[Route]:
    """Return the Starlette routes serving the lesson engine's script and look and `folder`'s lessons (read once)."""
    try:
        data = load_all(folder)
    except LessonError as error:  # a spoiled glossary or words file: the app runs on without lessons
        log.warning("Lessons left out: %s", error)
        data = {"lessons": {}, "glossary": {}, "strings": {}}
    body = json.dumps({k: v for k, v in data.items() if k != "problems"}, ensure_ascii=False)

    async def lessons(request: Request) -> Response:
        return Response(body, media_type="application/json", headers={"Cache-Control": "no-cache"})

    def static(name: str, media_type: str):
        async def serve(request: Request) -> Response:
            return FileResponse(STATIC_DIR / name, media_type=media_type, headers={"Cache-Control": "no-cache"})
        return serve

    return [Route(LESSONS_URL, lessons), Route(SCRIPT_URL, static("lesson.js", "text/javascript")),
            Route(CSS_URL, static("lesson.css", "text/css"))]
