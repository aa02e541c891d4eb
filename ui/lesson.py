"""Lessons as data: the lesson files in lessons/ and the glossary's terms, checked and served.

A lesson is one JSON file, lessons/<name>.json (the format is in docs/lessons.md): a title, a summary
and steps, each with a title, a body and a task per language (English required, every other language
of i18n.LANGUAGES optional: the page shows English where a lesson lacks its visitor's language), the
app state the step opens (a link query in the form of the shareable link,
?tab=...&model=...&z=...&panel=...) and an optional check the page evaluates (CHECKS). Teachers write
these files, so every file is untrusted: a malformed one is left out with one sentence naming the
file and the step, and the app goes on.

The glossary and the engine's own words are the app's, so they live in the catalogue (i18n/<code>.json:
"glossary.<term>.term" and ".text", "lesson.*"): adding a language is adding one file. The page's
engine (ui/static/lesson.js) fetches the lessons and the glossary's term ids from LESSONS_URL, and
their words through llLanguage (ui/static/language.js).

    GET /latent-lab/static/lesson.js, lesson.css    the engine and its look
    GET /latent-lab/lessons                          {"lessons": {name: lesson}, "glossary": [term id, ...]}
"""

import json
import logging
import re
import urllib.parse
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

import i18n
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
# The glossary's terms: each has "glossary.<id>.term" (its name) and "glossary.<id>.text" (one plain sentence).
GLOSSARY = tuple(sorted(key.split(".")[1] for key in i18n.catalogue(i18n.DEFAULT)
                        if key.startswith("glossary.") and key.endswith(".term")))

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


class LessonError(i18n.Sentence):
    """A lesson file that cannot be used; the sentence names the file (and step), in the reader's language."""


def parse_state(link: str) -> dict:
    """Return a step's or a teacher's link (?tab=...&model=...&z=...&panel=...) as a dict of its parts;
    ValueError (an i18n.Sentence) when it is not one."""
    if not isinstance(link, str) or not link.startswith("?") or len(link) > MAX_LINK_CHARS:
        raise i18n.Sentence("lesson.state.not_query", limit=MAX_LINK_CHARS)
    try:
        pairs = urllib.parse.parse_qsl(link[1:], keep_blank_values=True, strict_parsing=bool(link[1:]))
    except ValueError:
        raise i18n.Sentence("lesson.state.unparsable") from None
    state = {}
    for key, value in pairs:
        if key not in STATE_KEYS:
            raise i18n.Sentence("lesson.state.unknown_part", part=key[:40], parts=", ".join(STATE_KEYS))
        if key in state:
            raise i18n.Sentence("lesson.state.twice", part=key)
        state[key] = value
    if "tab" in state and state["tab"] not in TABS:
        raise i18n.Sentence("lesson.state.tab", tabs=", ".join(TABS))
    if "model" in state and not MODEL_NAME.fullmatch(state["model"]):
        raise i18n.Sentence("lesson.state.model")
    if "panel" in state and not ELEMENT_ID.fullmatch(state["panel"]):
        raise i18n.Sentence("lesson.state.panel")
    if "z" in state:
        parts = [p for p in state["z"].replace(";", ",").split(",") if p.strip()]
        if not parts:
            raise i18n.Sentence("lesson.state.z_empty")
        state["z"] = [float(v) for v in parse_z(state["z"], len(parts))]
    return state


def _texts(value, where, what: str) -> dict:
    """Return a {language: text} dict with an English text and any other language of i18n.LANGUAGES; LessonError otherwise.

    `what` names the field: "title", "summary", "body" or "task" (lesson.what.<what> in the catalogue).
    """
    what = i18n.Text(f"lesson.what.{what}")
    if not isinstance(value, dict):
        raise LessonError("lesson.error.texts_object", where=where, what=what, languages=", ".join(i18n.LANGUAGES))
    unknown = set(value) - set(i18n.LANGUAGES)
    if unknown:
        raise LessonError("lesson.error.unknown_language", where=where, what=what, language=str(sorted(unknown)[0])[:20])
    if i18n.DEFAULT not in value:
        raise LessonError("lesson.error.no_english", where=where, what=what)
    for language, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise LessonError("lesson.error.empty", where=where, what=what, language=language)
        if len(text) > TEXT_LIMIT:
            raise LessonError("lesson.error.too_long", where=where, what=what, language=language, limit=TEXT_LIMIT)
    return {language: value[language] for language in i18n.LANGUAGES if language in value}


def _check(value, where) -> dict:
    """Return a step's check, its parameters checked against CHECKS; LessonError otherwise."""
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise LessonError("lesson.error.check_object", where=where, checks=", ".join(CHECKS))
    kind = value["type"]
    if kind not in CHECKS:
        raise LessonError("lesson.error.check_unknown", where=where, kind=kind[:40], checks=", ".join(CHECKS))
    params = CHECKS[kind]
    known = {name.rstrip("?") for name in params}
    for name in value:
        if name != "type" and name not in known:
            raise LessonError("lesson.error.check_parameter", where=where, kind=kind, name=name[:40],
                              known=", ".join(sorted(known)))
    for name, sort in params.items():
        key = name.rstrip("?")
        if key not in value:
            if not name.endswith("?"):
                raise LessonError("lesson.error.check_needs", where=where, kind=kind, name=key)
            continue
        v = value[key]
        ok = {"number": isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 20,
              "dim": isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1000,
              "count": isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 100,
              "text": isinstance(v, str) and 0 < len(v) <= 60,
              "element": isinstance(v, str) and bool(ELEMENT_ID.fullmatch(v)),
              "tab": v in TABS}[sort]
        if not ok:
            raise LessonError("lesson.error.check_unusable", where=where, kind=kind, name=key, value=str(v)[:40])
    return dict(value)


def _read_json(path: Path, label: str) -> dict:
    """Return the JSON object in `path` (at most MAX_FILE_BYTES); LessonError naming `label` otherwise."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise LessonError("lesson.error.file_too_large", file=label, limit=MAX_FILE_BYTES // 1024)
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        raise LessonError("lesson.error.not_text", file=label) from None
    except json.JSONDecodeError as error:
        raise LessonError("lesson.error.not_json", file=label, line=error.lineno, problem=error.msg) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise LessonError("lesson.error.format", file=label, format=FORMAT)
    return data


def load_lesson(path: Path) -> dict:
    """Return the lesson in `path`, every step checked (its words link only to GLOSSARY's terms); LessonError otherwise."""
    label = f"lessons/{path.name}"
    if not NAME.fullmatch(path.stem):
        raise LessonError("lesson.error.file_name", file=label)
    data = _read_json(path, label)
    for key in ("title", "summary", "steps"):
        if key not in data:
            raise LessonError("lesson.error.missing", where=label, key=key)
    unknown = set(data) - {"format", "title", "summary", "steps"}
    if unknown:
        raise LessonError("lesson.error.unknown_key", where=label, key=sorted(unknown)[0][:40])
    steps = data["steps"]
    if not isinstance(steps, list) or not 1 <= len(steps) <= MAX_STEPS:
        raise LessonError("lesson.error.steps", file=label, most=MAX_STEPS)
    lesson = {"name": path.stem, "title": _texts(data["title"], label, "title"),
              "summary": _texts(data["summary"], label, "summary"), "steps": []}
    for number, step in enumerate(steps, 1):
        where = i18n.Text("lesson.error.where_step", file=label, n=number)
        if not isinstance(step, dict):
            raise LessonError("lesson.error.step_object", where=where)
        for key in ("title", "body", "task"):
            if key not in step:
                raise LessonError("lesson.error.missing", where=where, key=key)
        unknown = set(step) - {"title", "body", "task", "state", "check"}
        if unknown:
            raise LessonError("lesson.error.unknown_key", where=where, key=sorted(unknown)[0][:40])
        out = {key: _texts(step[key], where, key) for key in ("title", "body", "task")}
        for language, body in out["body"].items():
            for term in TERM_LINK.findall(body):
                if term not in GLOSSARY:
                    raise LessonError("lesson.error.unknown_term", where=where, language=language, term=term[:40])
        out["state"] = step.get("state", "")
        if out["state"]:
            try:
                parse_state(out["state"])
            except ValueError as error:
                raise LessonError("lesson.error.state", where=where, problem=error) from None
        if "check" in step:
            out["check"] = _check(step["check"], where)
        lesson["steps"].append(out)
    return lesson


def load_all(folder: Path = LESSONS_DIR) -> dict:
    """Return {"lessons", "glossary", "problems"} from `folder`: a lesson that does not load is left out and its
    sentence (English, for the server's log) is in "problems"."""
    lessons, problems = {}, []
    for path in sorted(folder.glob("*.json")):
        try:
            lessons[path.stem] = load_lesson(path)
        except LessonError as error:
            problems.append(error.render(i18n.DEFAULT))
            log.warning("Lesson left out: %s", problems[-1])
    return {"lessons": lessons, "glossary": list(GLOSSARY), "problems": problems}


def routes(folder: Path = LESSONS_DIR) -> list[Route]:
    """Return the Starlette routes serving the lesson engine's script and look and `folder`'s lessons (read once)."""
    data = load_all(folder)
    body = json.dumps({k: v for k, v in data.items() if k != "problems"}, ensure_ascii=False)

    async def lessons(request: Request) -> Response:
        return Response(body, media_type="application/json", headers={"Cache-Control": "no-cache"})

    def static(name: str, media_type: str):
        async def serve(request: Request) -> Response:
            return FileResponse(STATIC_DIR / name, media_type=media_type, headers={"Cache-Control": "no-cache"})
        return serve

    return [Route(LESSONS_URL, lessons), Route(SCRIPT_URL, static("lesson.js", "text/javascript")),
            Route(CSS_URL, static("lesson.css", "text/css"))]
