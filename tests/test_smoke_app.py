"""The app starts and serves its page, with its memory settings."""

import platform
import urllib.request

import app


def test_page_is_served(live_app):
    with urllib.request.urlopen(live_app, timeout=30) as response:
        assert response.status == 200
        assert "Latent Lab" in response.read().decode()


def test_malloc_arenas_are_capped_unless_the_environment_sets_them(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert app.cap_malloc_arenas() is False  # the host's own setting wins
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    assert app.cap_malloc_arenas() is (platform.libc_ver()[0] == "glibc")
