"""Serve the app's page from memory: gradio builds the same page again for every visit.

Gradio copies its whole config (every component of the app) and rewrites every URL in it for
each GET of the page. When a class opens the page within seconds, that work queues behind itself and
behind everyone's slider releases (BENCHMARKS.md, "A class of 50" and "GET of the page").
Hand-written because gradio offers no cache for it.

Gradio's page route (routes.py `main`) builds the page from its config, the query string and the
request's root URL, which it derives from the address the request reached (scheme, server, root
path, Host) and from proxy headers; a copy is kept per all of these, so it is the page gradio would
build. A deep link (`?deep_link=...`) also reads a saved state from disk, which can appear later,
so it is always built afresh. Links nobody opened before, and visitors' odd headers, each cost
one build as every visit did before; at most MAX_PAGES copies are kept. What this reads of gradio's
internals (the login, the config's identity, the root-URL headers) comes from ui/gradio_internals.py.
"""

from collections import OrderedDict
from typing import NamedTuple
from urllib.parse import parse_qs

from ui.gradio_internals import ROOT_HEADERS, behind_login, page_config

PAGE_PATH = "/"
MAX_PAGES = 16  # a handful of ways of reaching the app, and the links of a lesson; the oldest go first
# Several times this app's page (bench/page_get.py prints its size): a visitor's long header,
# repeated in every URL of the page, can make one of megabytes, which is built for them but not kept.
MAX_PAGE_BYTES = 1_000_000


class KeptPage(NamedTuple):
    config: dict  # gradio's config it was built from: a new one (a reload) builds the page again
    start: dict  # the ASGI response start message: status and headers
    body: bytes


def cache_page(asgi_app, max_pages: int = MAX_PAGES, max_bytes: int = MAX_PAGE_BYTES):
    """Wrap the gradio ASGI app so that GET / is built once per key (see the module's docstring)
    and then answered from memory.

    Only a complete 200 answer of at most `max_bytes` that sets no cookie is kept, and nothing is
    kept when the app has a login (gradio's `auth`): then the page also depends on who asks.
    """
    pages: OrderedDict[tuple, KeptPage] = OrderedDict()

    async def app(scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != PAGE_PATH:
            return await asgi_app(scope, receive, send)
        gradio_app = scope["app"]
        if behind_login(gradio_app):
            return await asgi_app(scope, receive, send)  # behind a login
        if "deep_link" in parse_qs(scope["query_string"].decode("latin-1")):
            return await asgi_app(scope, receive, send)  # depends on a file that may appear later
        # Every copy of the root headers, in order: gradio reads the first, and a proxy may add its
        # own after a visitor's, so a page built for a stranger's header reaches nobody else.
        key = (scope["query_string"], scope.get("scheme"), scope.get("server"), scope.get("root_path", ""),
               tuple((name, value) for name, value in scope["headers"] if name in ROOT_HEADERS))
        config = page_config(gradio_app)
        kept = pages.get(key)
        if kept is not None and kept.config is config:
            pages.move_to_end(key)
            await send(_copy_start(kept.start))
            await send({"type": "http.response.body", "body": kept.body})
            return

        start, chunks = None, []

        async def keep_and_send(message):
            nonlocal start
            if message["type"] == "http.response.start":
                start = _copy_start(message)  # the middlewares around this one edit headers in place
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    keep(KeptPage(config, start, b"".join(chunks)))
            await send(message)

        def keep(page: KeptPage):
            if _keepable(page.start) and len(page.body) <= max_bytes:
                pages[key] = page
                pages.move_to_end(key)
                while len(pages) > max_pages:
                    pages.popitem(last=False)

        await asgi_app(scope, receive, keep_and_send)

    return app


def _copy_start(start: dict) -> dict:
    return dict(start, headers=list(start.get("headers", ())))


def _keepable(start) -> bool:
    return (start is not None and start["status"] == 200
            and not any(name.lower() == b"set-cookie" for name, _ in start.get("headers", ())))
