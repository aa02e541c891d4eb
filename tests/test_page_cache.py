"""The page is built once and then served from memory (ui/page_cache.py), without mixing up visitors."""

import socket

import gradio as gr
import httpx
import pytest
from conftest import free_port
from starlette.middleware import Middleware

from ui.page_cache import MAX_PAGES, cache_page


def test_the_served_page_is_the_same_page_and_each_host_gets_its_own_root(live_app):
    with httpx.Client(base_url=live_app, timeout=120) as client:
        first, second = client.get("/"), client.get("/")
        behind_a_proxy = client.get("/", headers={"x-forwarded-host": "class.example.org", "x-forwarded-proto": "https"})
        plain_again = client.get("/")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content == plain_again.content
    assert '"root":"https://class.example.org"' in behind_a_proxy.text
    assert "class.example.org" not in plain_again.text


def test_a_page_built_for_a_strangers_header_reaches_nobody_else(live_app):
    host = live_app.split("//")[1]
    with httpx.Client(base_url=live_app, timeout=120) as client:
        # gradio reads the first x-forwarded-host; a proxy would add the real one after it
        poisoned = client.get("/", headers=[("x-forwarded-host", "evil.example"), ("x-forwarded-host", host)])
        honest = client.get("/", headers={"x-forwarded-host": host})
    assert '"root":"http://evil.example"' in poisoned.text
    assert "evil.example" not in honest.text
    assert f'"root":"http://{host}"' in honest.text


def test_cors_is_decided_per_request_not_kept_with_the_page(live_app):
    with httpx.Client(base_url=live_app, timeout=120) as client:
        allowed = client.get("/", headers={"origin": live_app})
        stranger = client.get("/", headers={"origin": "http://elsewhere.example"})
    assert allowed.headers.get("access-control-allow-origin") == live_app
    assert "access-control-allow-origin" not in stranger.headers
    assert allowed.content == stranger.content


@pytest.fixture(scope="module")
def small_app():
    """A one-line gradio app behind the same middleware, whose config the tests may change."""
    with gr.Blocks(title="First title") as demo:
        gr.Markdown("hello")
    demo.launch(server_port=free_port(), prevent_thread_lock=True, quiet=True,
                app_kwargs={"middleware": [Middleware(cache_page)]})
    yield demo
    demo.close()


def _title(demo, path="/"):
    """The title in the page's config, as gradio wrote it into the page."""
    text = httpx.get(demo.local_url.rstrip("/") + path, timeout=60).text
    titles = [title for title in ("First title", "Edited in place", "New config", "Before", "After", "Deep")
              if f'"title":"{title}"' in text]
    assert len(titles) == 1, titles
    return titles[0]


def test_a_page_is_kept_until_gradio_builds_a_new_config(small_app):
    assert _title(small_app) == "First title"
    small_app.config["title"] = "Edited in place"  # a fresh build would show this; the kept page does not
    assert _title(small_app) == "First title"
    small_app.config = dict(small_app.config, title="New config")  # what a reload or a new launch does
    assert _title(small_app) == "New config"


def test_the_kept_pages_are_bounded_and_the_oldest_goes_first(small_app):
    small_app.config = dict(small_app.config, title="Before")
    assert _title(small_app, "/?first") == "Before"
    small_app.config["title"] = "After"
    assert _title(small_app, "/?first") == "Before"  # kept
    for n in range(MAX_PAGES):
        _title(small_app, f"/?other={n}")
    assert _title(small_app, "/?first") == "After"  # pushed out by newer ones, so built again


def test_behind_a_login_nothing_is_kept():
    with gr.Blocks(title="Members only") as demo:
        gr.Markdown("hello")
    demo.launch(server_port=free_port(), prevent_thread_lock=True, quiet=True, auth=("teacher", "chalk"),
                app_kwargs={"middleware": [Middleware(cache_page)]})
    try:
        with httpx.Client(base_url=demo.local_url.rstrip("/"), timeout=60) as client:
            stranger = client.get("/")
            assert stranger.status_code == 200 and '"auth_required":true' in stranger.text
            assert "Members only" not in stranger.text
            assert client.post("/login", data={"username": "teacher", "password": "chalk"}).status_code == 200
            member = client.get("/")
        assert '"title":"Members only"' in member.text
    finally:
        demo.close()


def test_a_deep_link_is_built_afresh_each_time(small_app):
    # gradio reads a deep link's saved state from disk, which may appear after the first visit
    small_app.config = dict(small_app.config, title="Before")
    assert _title(small_app, "/?deep_link=abcdefghijk") == "Before"
    small_app.config["title"] = "Deep"
    assert _title(small_app, "/?deep_link=abcdefghijk") == "Deep"


def _page_without_host(address: str, port: int) -> str:
    """GET / over HTTP/1.0 with no Host header: the root URL then comes from the address reached."""
    with socket.create_connection((address, port), timeout=60) as connection:
        connection.sendall(b"GET / HTTP/1.0\r\n\r\n")
        return b"".join(iter(lambda: connection.recv(65536), b"")).decode()


def test_each_address_the_app_listens_on_gets_its_own_page():
    with gr.Blocks(title="Two doors") as demo:
        gr.Markdown("hello")
    port = free_port()
    demo.launch(server_name="0.0.0.0", server_port=port, prevent_thread_lock=True, quiet=True,
                app_kwargs={"middleware": [Middleware(cache_page)]})
    try:
        try:
            other = _page_without_host("127.0.0.2", port)  # Linux answers on all of 127/8
        except OSError:
            pytest.skip("127.0.0.2 is not a loopback address here")
        assert f'"root":"http://127.0.0.2:{port}"' in other
        assert f'"root":"http://127.0.0.1:{port}"' in _page_without_host("127.0.0.1", port)
    finally:
        demo.close()


def test_a_page_swollen_by_a_long_header_is_not_kept():
    with gr.Blocks(title="First title") as demo:
        gr.Markdown("hello")
    demo.launch(server_port=free_port(), prevent_thread_lock=True, quiet=True,
                app_kwargs={"middleware": [Middleware(cache_page, max_bytes=20_000)]})
    try:
        long_host = {"x-forwarded-host": "a" * 20_000 + ".example"}  # repeated in every URL of the page
        swollen = httpx.get(demo.local_url, headers=long_host, timeout=60)
        assert len(swollen.content) > 20_000 and '"title":"First title"' in swollen.text
        demo.config["title"] = "Edited in place"
        assert '"title":"Edited in place"' in httpx.get(demo.local_url, headers=long_host, timeout=60).text
        assert _title(demo) == "Edited in place"  # the plain page, under the bound, is kept from here on
        demo.config["title"] = "After"
        assert _title(demo) == "Edited in place"
    finally:
        demo.close()
