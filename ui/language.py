"""The app's two ways of speaking the visitor's language, over the catalogue in i18n/.

- **Words built into the page** (labels, info texts, Markdown, button names): `words(key, **params)`
  returns a gr.I18n text, which Gradio renders in the page's locale and re-renders when the
  language switch changes it. I18N is passed to launch (app.serve).
- **Sentences the server answers** (a handler's text, an error): each call is answered in the language
  of its Accept-Language header (`answer_in_callers_language`), which the page sets to its visitor's
  choice (ui/static/language.js); i18n.text() and str(Sentence) use it.

The page script ui/static/language.js holds the switch, keeps the choice (localStorage, the link's
?lang=) and gives the page scripts the same catalogue (`llLanguage.t`), served here at CATALOGUE_URL.
It must run before Gradio's own: Gradio picks its language once, from navigator.language, when it
starts, before it inserts launch's `head`; so `speak_first` puts the script first in the page's head,
and the script tells Gradio the chosen language. A change of language loads the page again in it,
at the same view (the link holds the view), so every word on it is in one language.

One word stays English: the title of Gradio's messages ("Error", "Warning", "Info"). Gradio 6.31's toast
writes its type capitalised, through neither its i18n nor the `title` of gr.Error / gr.Warning (the page
ignores it); the message under the title is the app's own sentence, in the caller's language.

    GET /latent-lab/i18n/<code>.json     one language's catalogue
    GET /latent-lab/static/language.js   the page's side
    GET /latent-lab/static/language.css  the switch's look
"""

import hashlib
import json

import gradio as gr
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

import i18n
from ui.gradio_internals import I18N_TEXT, I18N_TEXT_PREFIX, I18N_TEXT_TYPE, STATIC_DIR, on_each_call

PREFIX = "/latent-lab"
CATALOGUE_URL = f"{PREFIX}/i18n"
SCRIPT_URL = f"{PREFIX}/static/language.js"
CSS_URL = f"{PREFIX}/static/language.css"
PAGE_PATH = "/"
# What speak_first puts first in the page's head: the switch's look, the languages under their own names, the script.
NAMES = {code: i18n.text("language.name", code) for code in i18n.LANGUAGES}
FIRST_IN_HEAD = (f'<link rel="stylesheet" href="{CSS_URL}"><script>window.llLanguages = {json.dumps(NAMES)};</script>'
                 f'<script src="{SCRIPT_URL}"></script>').encode()


# Every language's texts as Gradio's page receives them; words() adds the filled-in texts it is asked for. The
# page shows a text as it is (svelte-i18n formats a message only when given values, which Gradio never gives).
I18N = gr.I18n(**{code: {key: i18n.text(key, code) for key in i18n.catalogue(i18n.DEFAULT)
                         if not i18n.placeholders(i18n.catalogue(i18n.DEFAULT)[key])}
                  for code in i18n.LANGUAGES})


# A filled-in text's own key -> the catalogue key and parameters it was filled from (for shown()).
_FILLED: dict[str, tuple[str, dict]] = {}


def words(key: str, **params):
    """Return the catalogue text `key` (its placeholders filled from `params`) for a component built into the page.

    Gradio shows it in the page's language. A text with parameters is registered once under a key of
    its own, filled in each language: the key and a digest of the parameters (the page reads a key
    only up to its first brace, so the parameters themselves cannot be in it).
    """
    if not params:
        i18n.text(key, i18n.DEFAULT)  # an unknown key is a KeyError here, when the page is built
        return I18N(key)
    digest = hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]
    filled = f"{key}|{digest}"
    if filled not in _FILLED:
        for code in i18n.LANGUAGES:
            I18N.translations.setdefault(code, {})[filled] = i18n.text(key, code, **params)
        _FILLED[filled] = (key, params)
    return I18N(filled)


def shown(value, language_: str | None = None) -> str:
    """Return a component's text as a reader of `language_` (default: the current caller's) reads it: a words() text
    rendered from the catalogue, a plain string as it is."""
    key = value.key if isinstance(value, I18N_TEXT) else None
    if isinstance(value, str) and value.startswith(I18N_TEXT_PREFIX):
        try:
            value = json.loads(value[len(I18N_TEXT_PREFIX):])
        except ValueError:
            return value
    if isinstance(value, dict) and value.get("__type__") == I18N_TEXT_TYPE:  # as a page's config holds it
        key = value.get("key")
    if not isinstance(key, str):
        return str(value)
    key, params = _FILLED.get(key, (key, {}))
    return i18n.text(key, language_, **params)


def answer_in_callers_language(blocks: gr.Blocks) -> None:
    """Make every call to `blocks`, page event or API call, speak the language its Accept-Language header asks for."""
    def enter(request) -> None:
        headers = getattr(request, "headers", None)
        i18n.set_language(i18n.negotiate(headers.get("accept-language") if headers is not None else None))

    on_each_call(blocks, enter)


def request_language(request: Request) -> str:
    """Return the language a plain HTTP request (one of the app's own routes) asks for."""
    return i18n.negotiate(request.headers.get("accept-language"))


def speak_first(asgi_app):
    """Wrap the app so its page (an HTML answer to GET /) has FIRST_IN_HEAD at the start of its <head>."""
    async def app(scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != PAGE_PATH:
            return await asgi_app(scope, receive, send)
        start, chunks = None, []

        async def rewrite(message):
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = list(start.get("headers", ()))
            html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
            if html and start["status"] == 200 and b"<head>" in body:
                body = body.replace(b"<head>", b"<head>" + FIRST_IN_HEAD, 1)
                headers = [(k, str(len(body)).encode() if k.lower() == b"content-length" else v) for k, v in headers]
            await send(dict(start, headers=headers))
            await send({"type": "http.response.body", "body": body})

        await asgi_app(scope, receive, rewrite)

    return app


def routes() -> list[Route]:
    """Return the routes of the catalogue files and the page's script."""
    async def catalogue(request: Request) -> Response:
        code = request.path_params["code"].removesuffix(".json")
        if code not in i18n.LANGUAGES:
            return JSONResponse({"error": i18n.text("language.unknown", request_language(request), code=code[:20])},
                                status_code=404)
        return JSONResponse(i18n.catalogue(code), headers={"Cache-Control": "no-cache"})

    def static(name: str, media_type: str):
        async def serve(request: Request) -> Response:
            return FileResponse(STATIC_DIR / name, media_type=media_type, headers={"Cache-Control": "no-cache"})
        return serve

    return [Route(CATALOGUE_URL + "/{code}", catalogue), Route(SCRIPT_URL, static("language.js", "text/javascript")),
            Route(CSS_URL, static("language.css", "text/css"))]
