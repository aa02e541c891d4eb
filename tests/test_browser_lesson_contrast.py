"""The lesson's step "Why the KL term" (issue 25) in headless Chromium: it opens the explorer at the section that
decodes the same prior codes through the plain autoencoder (ae-mnist) and the VAE, the lesson's dock leaving the whole
section in view, and its check passes once the reader has drawn new codes twice. The page opens at the step before (its
progress put in localStorage first), so the check costs one page load and one Next. Screenshots:
test-artifacts/lesson-contrast-1280.png and lesson-contrast-phone-zh.png."""

import json

import pytest
import i18n
from browser_waits import text_at, wait_shown, wait_until
from conftest import open_context

from ui import lesson

pytestmark = pytest.mark.browser

STEP = next(i for i, step in enumerate(lesson.load_all()["lessons"]["vae-intro"]["steps"])
            if step.get("check", {}).get("target") == "ll-contrast-redraw")
STATUS = "#ll-lesson-status"


# On a phone in Chinese in make test-all: test_browser_lesson.py walks the lesson in Chinese on a phone by default.
@pytest.mark.parametrize("viewport, locale, shot", [
    ({"width": 1280, "height": 720}, "en-GB", "lesson-contrast-1280.png"),
    pytest.param({"width": 390, "height": 844}, "zh-CN", "lesson-contrast-phone-zh.png", marks=pytest.mark.extended)])
def test_the_kl_step_opens_the_autoencoder_beside_the_vae_and_checks_the_redraws(browser, live_app, artifacts, viewport,
                                                                              locale, shot):
    context = open_context(browser, viewport=viewport, locale=locale)
    # The page opens at the step before; Next then opens this one on a settled page, as in class.
    progress = {"lesson": "vae-intro", "step": STEP - 1, "open": True, "started": True, "done": {}}
    context.add_init_script(f"localStorage.setItem('ll-lesson', {json.dumps(json.dumps(progress))});")
    try:
        page = context.new_page()
        page.goto(live_app)
        wait_until(page, "() => window.llLessons && window.llLessons.base !== null && window.llLive && "
                         "window.llLive.answered", "the step before to be applied and the explorer's first answer")
        page.click("#ll-lesson-next")
        wait_until(page, "(step) => window.llLessons.progress.step === step && window.llLessons.base !== null",
                   "the step's state to be applied", arg=STEP)
        ae = page.locator("#ll-contrast-ae img")
        wait_shown(ae, "the autoencoder's prior samples")
        assert "ae-mnist" in page.locator("#ll-contrast-ae").inner_text()
        wait_until(page, "() => Math.abs(document.querySelector('#ll-contrast').getBoundingClientRect().top) < 80",
                   "the page to scroll to the contrast section",
                   last="() => document.querySelector('#ll-contrast').getBoundingClientRect().top")
        wait_until(page, "() => Math.abs(document.querySelector('#ll-contrast').getBoundingClientRect().top) < 1",
                   "the scroll to the contrast section to end",
                   last="() => document.querySelector('#ll-contrast').getBoundingClientRect().top")
        page.screenshot(path=str(artifacts / shot))  # the step as it opens
        # The dock leaves the section it talks about uncovered (both grids and the button), its own buttons in view.
        dock, section = (page.locator(s).bounding_box() for s in ("#ll-lesson-dock", "#ll-contrast"))
        assert section["y"] + section["height"] <= dock["y"], (section, dock)
        next_button = page.locator("#ll-lesson-next").bounding_box()
        assert next_button["y"] + next_button["height"] <= viewport["height"], next_button
        done = i18n.text("lesson.done", "en" if locale.startswith("en") else locale)
        first = ae.get_attribute("src")
        page.click("#ll-contrast-redraw")
        wait_until(page, "(before) => document.querySelector('#ll-contrast-ae img').getAttribute('src') !== before",
                   "new codes after the first press", arg=first)
        assert done not in page.locator(STATUS).inner_text()  # one press of two
        page.click("#ll-contrast-redraw")
        wait_until(page, f"() => document.querySelector('{STATUS}').textContent.includes({json.dumps(done)})",
                   "the step's check to say it is done", last=text_at(STATUS))
    finally:
        context.close()
