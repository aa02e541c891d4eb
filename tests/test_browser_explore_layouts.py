"""The Explore tab's layouts in headless Chromium: a laptop, the classroom projector (presentation mode), a phone.

Each test saves a screenshot in test-artifacts/ (explorer-1280.png, presentation.png, phone.png);
docs/ holds the reviewed copies.
"""

import contextlib

import pytest
from browser_waits import src_at, wait_shown, wait_until
from conftest import open_context

from test_browser_explore import SLIDER_VALUES, loaded

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}


@contextlib.contextmanager
def opened(browser, url, viewport, **context_options):
    """A page of its own session on `url` at `viewport`, loaded."""
    context = open_context(browser, viewport=viewport, **context_options)
    try:
        page = context.new_page()
        page.goto(url)
        loaded(page)
        yield page
    finally:
        context.close()


# Runs in the page: every box drawn on screen (a border all round, or a shadow) and every Gradio block taking room
# with nothing a person can see in it, as "tag#id.classes in <ids above it> at y=... (w x h)". A field's form wrapper
# left behind by a layout that hides the field draws such a box (a 2 px line under the phone's digit buttons did); an
# HTML block with nothing to show yet keeps its padding (a band under them).
EMPTY_BOXES = """() => {
  const shown = (e) => { const r = e.getBoundingClientRect();
    return r.width > 1 && r.height > 1 && e.checkVisibility({ visibilityProperty: true, opacityProperty: true }); };
  const edge = (s, side) => parseFloat(s[`border${side}Width`]) > 0 && !['none', 'hidden'].includes(s[`border${side}Style`])
    && !/^rgba\\(.*,\\s*0\\)$|transparent/.test(s[`border${side}Color`]);
  const drawn = (s) => ['Top', 'Right', 'Bottom', 'Left'].every((side) => edge(s, side)) || s.boxShadow !== 'none';
  const filled = (e) => [e, ...e.querySelectorAll('*')].some((x) => shown(x)
    && (x.matches('img, canvas, svg, video, iframe, input, select, textarea, button')
        || [...x.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim())));
  const ids = (e) => { const found = []; for (let x = e.parentElement; x && found.length < 2; x = x.parentElement)
    if (x.id) found.push(x.id); return found.join(' < '); };
  // A control's own parts (a belief's dotted leader, a field's frame) are not boxes of the page, nor is a table's
  // empty cell (a job's unset column).
  return [...document.querySelectorAll('.gradio-container *')].filter((e) => {
    if (e.matches('input, select, textarea') || e.closest('button, table, [role=grid], [role=table]')) return false;
    const r = e.getBoundingClientRect();
    return r.width >= 8 && shown(e) && (drawn(getComputedStyle(e)) || (e.matches('.block') && r.height >= 8)) && !filled(e);
  }).map((e) => { const r = e.getBoundingClientRect();
    return `${e.tagName.toLowerCase()}#${e.id}.${String(e.className).trim().replace(/\\s+/g, '.')} in ${ids(e)} `
      + `at y=${Math.round(r.y + scrollY)} (${Math.round(r.width)}x${Math.round(r.height)})`; });
}"""


def inside(page, selector: str, viewport: dict) -> bool:
    """True when the element is visible and lies wholly inside the viewport (the page is not scrolled)."""
    box = page.locator(selector).first.bounding_box()
    return (box is not None and box["width"] > 0 and box["x"] >= 0 and box["y"] >= 0
            and box["x"] + box["width"] <= viewport["width"] + 1 and box["y"] + box["height"] <= viewport["height"] + 1)


def check_presentation(page):
    """The digit, ten sliders, the RNN's belief and the map fit in 1280x720 in large type, the rest is hidden."""
    wait_shown(page.locator(".gradio-container.ll-present"), "the page to switch to presentation mode")
    wait_until(page, "() => document.querySelector('#ll-explore').getBoundingClientRect().top < 60",
               "the explorer to sit at the top of the screen",
               last="() => 'top at ' + document.querySelector('#ll-explore').getBoundingClientRect().top + ' px'")
    assert page.evaluate("() => window.scrollY") == 0
    for selector in ["#ll-digit-box img.ll-digit", "#ll-probs", "#ll-map img"]:
        assert inside(page, selector, PROJECTOR), selector
    shown = [k for k in range(20) if page.locator(f"#ll-z{k}").is_visible()]
    assert len(shown) >= 10 and all(inside(page, f"#ll-z{k}", PROJECTOR) for k in shown)
    size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector("
                         "'#ll-z0 [data-testid=block-info]')).fontSize)")
    assert size >= 18  # readable from the back of a classroom
    assert not page.locator("#ll-upload-section").is_visible()
    assert not page.evaluate(EMPTY_BOXES)  # the wrappers of the fields this layout hides go with them


def tab_font(page) -> float:
    return page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('button[role=tab]')).fontSize)")


def check_train_presentation(page):
    """The followed job's status in large type and its curves across the screen (the form below them), the tabs at hand."""
    wait_shown(page.locator(".gradio-container.ll-present"), "the page to switch to presentation mode")
    wait_until(page, "() => document.querySelector('#train-intro').getBoundingClientRect().top > "
                     "document.querySelector('#train-loss-plot').getBoundingClientRect().bottom",
               "the settings form to move below the curves")
    size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('#train-status p')).fontSize)")
    assert size >= 22, size
    assert page.locator("#train-loss-plot").bounding_box()["width"] >= 0.85 * PROJECTOR["width"]
    assert inside(page, "button[role=tab][data-tab-id=write]", PROJECTOR) and tab_font(page) >= 20
    assert not page.evaluate(EMPTY_BOXES)


def test_a_laptop_screen(browser, live_app, artifacts):
    with opened(browser, live_app, PROJECTOR) as page:
        before = page.locator("#ll-digit-box img").get_attribute("src")
        page.click("#ll-centroid-3")  # a clear digit and filled slider tracks for the screenshot
        wait_until(page, "(b) => document.querySelector('#ll-digit-box img').getAttribute('src') !== b",
                   "the centroid of 3 to be drawn", arg=before, last=src_at("#ll-digit-box img"))
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(artifacts / "explorer-1280.png"))
        assert inside(page, "#ll-digit-box img.ll-digit", PROJECTOR)
        # The core loop within a screen and a half: the digit, all its sliders, and your own digit (the canvas,
        # what the model sees of it and its reconstruction); the map and the explanations below.
        bottoms = page.evaluate("""() => Object.fromEntries(['#ll-digit-box', '#ll-sliders', 'canvas.ll-canvas',
            '#ll-model-saw', '#ll-recon'].map((s) => [s, document.querySelector(s).getBoundingClientRect().bottom]))""")
        assert all(bottom <= 1.5 * PROJECTOR["height"] for bottom in bottoms.values()), bottoms
        assert page.locator("#ll-map").bounding_box()["y"] > max(bottoms.values())


def test_presentation_mode_by_toggle_and_back(browser, live_app, artifacts):
    with opened(browser, live_app, PROJECTOR) as page:
        page.click("#ll-present")
        check_presentation(page)
        assert "present=1" in page.url  # the link to this view keeps the layout
        page.click("#ll-random")
        wait_until(page, "() => location.search.includes('z=') && location.search.includes('present=1')",
                   "the address bar to carry the code and present=1", last="() => location.search")
        page.screenshot(path=str(artifacts / "presentation.png"))
        # The tab buttons stay, large, in a bar on the projector's screen: the teacher moves to Train and back in it.
        train_tab = page.locator("button[role=tab][data-tab-id=train]")
        assert inside(page, "button[role=tab][data-tab-id=train]", PROJECTOR) and tab_font(page) >= 20
        train_tab.click()
        wait_shown(page.locator("#train-status"), "the Train tab in presentation mode")
        check_train_presentation(page)
        page.locator("button[role=tab][data-tab-id=explore]").click()
        check_presentation(page)
        page.keyboard.press("Escape")
        wait_shown(page.locator(".gradio-container:not(.ll-present)"), "Escape to leave presentation mode")
        assert page.locator("#ll-upload-section").is_visible() and "present" not in page.url
        # The Train tab has its own button, as Write has.
        train_tab.click()
        page.click("#train-present")
        check_train_presentation(page)
        page.keyboard.press("Escape")
        wait_until(page, "() => document.querySelector('#train-intro').getBoundingClientRect().top < "
                         "document.querySelector('#train-loss-plot').getBoundingClientRect().top",
                   "Escape to bring the Train tab's form back beside the curves")


def test_presentation_mode_by_link(browser, live_app):
    with opened(browser, f"{live_app}/?present=1&model=vae-mnist&z=1,-1" + ",0" * 18, PROJECTOR) as page:
        check_presentation(page)


def test_on_a_phone_the_digit_stays_in_view_while_sliders_are_dragged(browser, live_app, artifacts):
    with opened(browser, live_app, PHONE, is_mobile=True, has_touch=True, device_scale_factor=1) as page:
        page.locator("#ll-z9").scroll_into_view_if_needed()
        wait_until(page, "() => window.scrollY > 300", "the page to scroll the tenth slider into view",
                   last="() => 'scrollY ' + window.scrollY")
        assert inside(page, "#ll-digit-box img.ll-digit", PHONE)
        assert inside(page, "#ll-z9 input[type=range]", PHONE)
        page.screenshot(path=str(artifacts / "phone.png"))
        # The digit's column ends with its buttons: what a phone hides leaves no empty box (nor band) under them.
        assert not page.evaluate(EMPTY_BOXES)
        gap = page.evaluate("() => document.querySelector('#ll-digit-col').getBoundingClientRect().bottom"
                            " - document.querySelector('#ll-buttons').getBoundingClientRect().bottom")
        assert gap <= 12, f"{gap:.0f} px under the digit's buttons"


def test_slider_tracks_fill_from_zero(browser, live_app):
    with opened(browser, f"{live_app}/?model=vae-mnist&z=" + ",".join(["-1.5"] + ["0"] * 19), PROJECTOR) as page:
        wait_until(page, "() => [...document.querySelectorAll('#ll-sliders input[type=number]')]"
                   ".some(i => parseFloat(i.value) === -1.5)", "the link's -1.5 in a slider", last=SLIDER_VALUES)
        # Gradio keeps the thumb's position in --range_progress; the CSS fills between it and 50% (zero).
        progress = page.evaluate("""() => [...document.querySelectorAll('#ll-sliders input[type=range]')]
            .map(i => i.style.getPropertyValue('--range_progress'))""")
        assert "25%" in progress and "50%" in progress
