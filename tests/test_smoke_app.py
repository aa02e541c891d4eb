"""The app starts and serves its page."""

import urllib.request


def test_page_is_served(live_app):
    with urllib.request.urlopen(live_app, timeout=30) as response:
        assert response.status == 200
        assert "Latent Lab" in response.read().decode()
