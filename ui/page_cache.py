"""Serve the app's page from memory: gradio builds the same page again for every visit.

Gradio copies its whole config (about 270 KB for this app) and rewrites every URL in it for each
GET of the page. When a class opens the page within seconds, that work queues behind itself and
behind everyone's slider releases (BENCHMARKS.md, "A class of 50"). The page depends only on the
config, the request's path and query and the headers gradio derives its root URL from, so a copy
kept per such key is the same page. Hand-written because gradio offers no cache for it.
"""

from collections import OrderedDict

# What gradio reads to build the page, besides the path and query (route_utils.get_request_origin);
# ASGI gives header names in lower case.
ROOT_HEADERS = (b"host", b"x-forwarded-host", b"x-forwarded-proto", b"x-gradio-server")
MAX_PAGES = 16  # distinct keys kept: one per way of reaching the app; strangers' variants push out the oldest


def cache_page(asgi_app, paths=("/",), max_pages: int = MAX_PAGES):
    """Wrap the gradio ASGI app so that a GET of one of `paths` is built once per key and then
    answered from memory, until gradio's config changes (a reload builds a new one).

    Only a complete 200 answer that sets no cookie is kept, and nothing is kept when the app has a
    login (gradio's `auth`): then the page also depends on the user.
    """
    pages = OrderedDict()  # key -> (config it was built from, start message, body)

    async def app(scope, receive, send):
        gradio_app = scope.get("app")
        if (scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in paths
                or gradio_app.auth is not None or gradio_app.auth_dependency is not None):
            return await asgi_app(scope, receive, send)  # behind a login the page depends on who asks
        # Every copy of these headers, in order: gradio reads the first, and a proxy may add its own
        # after a visitor's, so a page built for a stranger's header never reaches anyone else.
        key = (scope["path"], scope.get("root_path", ""), scope["query_string"], scope.get("scheme"),
               tuple((name, value) for name, value in scope["headers"] if name in ROOT_HEADERS))
        config = gradio_app.get_blocks().config
        kept = pages.get(key)
        if kept is not None and kept[0] is config:
            pages.move_to_end(key)
            await send(_copy(kept[1]))
            await send({"type": "http.response.body", "body": kept[2]})
            return

        start, chunks = None, []

        async def keep_and_send(message):
            nonlocal start
            if message["type"] == "http.response.start":
                start = _copy(message)  # the middleware around this one edit headers in place
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body") and _cacheable(start):
                    pages[key] = (config, start, b"".join(chunks))
                    pages.move_to_end(key)
                    while len(pages) > max_pages:
                        pages.popitem(last=False)
            await send(message)

        await asgi_app(scope, receive, keep_and_send)

    return app


def _copy(start):
    return dict(start, headers=list(start.get("headers", ())))


def _cacheable(start) -> bool:
    return (start is not None and start["status"] == 200
            and not any(name.lower() == b"set-cookie" for name, _ in start.get("headers", ())))
