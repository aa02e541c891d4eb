"""The explorer's "Autoencoder against VAE" section in headless Chromium: both grids of prior samples, the
sentence saying why the autoencoder's look broken, and new codes on a press; and ae-mnist chosen in the list."""

import pytest
from browser_waits import src_at, text_at, wait_shown, wait_until

from test_browser_explore import choose, loaded, no_error_toast

pytestmark = pytest.mark.browser


def test_prior_samples_of_both_decoders_side_by_side(page):
    loaded(page)
    section = page.locator("#ll-contrast")
    section.scroll_into_view_if_needed()
    ae, vae = page.locator("#ll-contrast-ae img"), page.locator("#ll-contrast-vae img")
    wait_shown(ae, "the autoencoder's prior samples")
    wait_shown(vae, "the VAE's prior samples")
    assert "holes" in page.locator("#ll-contrast-why").inner_text()
    first = ae.get_attribute("src")
    page.click("#ll-contrast-redraw")
    wait_until(page, "(before) => { const i = document.querySelector('#ll-contrast-ae img');"
                     " return i && i.getAttribute('src') !== before; }",
               "new autoencoder samples after 'Draw 16 new codes'", arg=first, last=src_at("#ll-contrast-ae img"))
    choose(page, "ll-model", "ae-mnist")
    wait_until(page, "() => (document.querySelector('#ll-model-info') || {}).textContent?.includes('plain autoencoder')",
               "the model description of ae-mnist", last=text_at("#ll-model-info"))
    no_error_toast(page)
