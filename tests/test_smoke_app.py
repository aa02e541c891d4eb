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


def test_the_page_starts_with_its_language_and_the_catalogues_are_served(live_app):
    import httpx

    from ui import language

    with httpx.Client(base_url=live_app, timeout=30) as client:
        page = client.get("/").text
        assert page.index(language.FIRST_IN_HEAD.decode()) == page.index("<head>") + len("<head>")
        assert client.get(f"{language.CATALOGUE_URL}/zh-CN.json").json()["app.title"] == "隐空间实验室"
        assert client.get(language.CSS_URL).headers["content-type"].startswith("text/css")
        unknown = client.get(f"{language.CATALOGUE_URL}/fr.json", headers={"Accept-Language": "zh-CN"})
        assert unknown.status_code == 404 and unknown.json()["error"] == "这里没有“fr”这种语言。"
