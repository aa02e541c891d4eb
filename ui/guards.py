"""What every HTTP exchange with the app respects, around gradio's ASGI app: a bound on request bodies,
and the headers a browser must honour (nosniff, and a Content-Security-Policy with frame-ancestors).

Each is a Starlette middleware factory (app.py installs them through launch's `app_kwargs`).
"""

import json

import i18n
from ui.gradio_internals import UPLOAD_ROUTE
from ui.limits import MAX_BODY_BYTES

# Where the page may be framed: this site itself, and Hugging Face Spaces (a Space's page on
# huggingface.co frames the app served from its *.hf.space address).
FRAME_ANCESTORS = ("'self'", "https://huggingface.co", "https://*.hf.space")
# What the page may load and run. Gradio's page carries its config and start-up code in inline
# scripts (different for every address the page is reached at, so no hash names them) and runs each
# component's js_on_load and event `js` through new Function, hence 'unsafe-inline' and
# 'unsafe-eval'; everything else comes from this site (gradio's fonts included), pictures also as
# data: and blob: URLs (the page's own canvas and gradio's image editor).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    f"frame-ancestors {' '.join(FRAME_ANCESTORS)}",
])
SECURITY_HEADERS = {
    b"x-content-type-options": b"nosniff",  # trust the Content-Type: no browser renders an upload as HTML
    b"content-security-policy": CONTENT_SECURITY_POLICY.encode(),
}


def too_large_sentence(max_bytes: int = MAX_BODY_BYTES, language: str | None = None) -> str:
    """Return the one sentence a request refused for its size receives, in `language` (default: the current one)."""
    return i18n.text("guards.too_large", language, kb=f"{max_bytes // 1000:,}", route=UPLOAD_ROUTE)


def scope_language(scope) -> str:
    """Return the language a plain ASGI request asks for in its Accept-Language header (gradio has not set one yet)."""
    header = dict(scope.get("headers") or ()).get(b"accept-language", b"")
    return i18n.negotiate(header.decode("latin-1"))


def security_headers(asgi_app):
    """Wrap an ASGI app so every HTTP response carries SECURITY_HEADERS (replacing any of the same name)."""
    async def with_headers(scope, receive, send):
        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() not in SECURITY_HEADERS]
                message = dict(message, headers=headers + list(SECURITY_HEADERS.items()))
            await send(message)
        await asgi_app(scope, receive, send_with_headers if scope["type"] == "http" else send)
    return with_headers


def bound_bodies(asgi_app, max_bytes: int = MAX_BODY_BYTES):
    """Wrap an ASGI app so a request body over `max_bytes` is answered 413 with one sentence before the app sees it.

    A declared Content-Length over the bound is refused unread; a body without one is read up to the
    bound and then handed on (the app reads it whole anyway), so no request holds more memory than
    that. Uploads are gradio's to bound: its upload route streams each file to disk and refuses one
    over launch's max_file_size.
    """
    async def bounded(scope, receive, send):
        if scope["type"] != "http" or scope["path"].endswith(UPLOAD_ROUTE):
            return await asgi_app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > max_bytes:
            return await _refuse(scope, send, max_bytes)
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client left
            size += len(message.get("body", b""))
            if size > max_bytes:
                return await _refuse(scope, send, max_bytes)
            if not message.get("more_body"):
                break
        replay = iter(messages)

        async def replayed():
            return next(replay, None) or await receive()

        await asgi_app(scope, replayed, send)
    return bounded


async def _refuse(scope, send, max_bytes: int) -> None:
    body = json.dumps({"error": too_large_sentence(max_bytes, scope_language(scope))}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
