"""A keyboard-only journey in headless Chromium, with no mouse event: the skip link, Random sample, a slider moved
with the arrow keys, an upload through the file chooser opened with Enter, and a training job started on the
Train tab, and the language switched to Chinese. The main controls take the focus in their visual order, and the
Model and Reader dropdowns do not stay open when Tab moves past them.
"""

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from browser_waits import WAIT_MS, expecting_request, text_at, value_at, wait_shown, wait_until
from conftest import open_context

from test_browser_explore import DIGIT_IMG, digit_png, loaded  # noqa: F401 - digit_png is a fixture

pytestmark = pytest.mark.browser

MAX_STOPS = 200  # Tab presses to reach a control before the journey fails (the page has fewer stops)
# The focused element's nearest id (its control's elem_id), its role and its name, for the focus order.
FOCUSED = """() => { const e = document.activeElement; if (!e || e === document.body) return null;
  const owner = e.closest('.block[id]') || e.closest('[id]');
  return {id: owner ? owner.id : '', tag: e.tagName, role: e.getAttribute('role') || '',
  name: (e.getAttribute('aria-label') || e.textContent || '').trim().slice(0, 40), type: e.type || ''}; }"""
OPEN_LISTS = "() => [...document.querySelectorAll('ul.options, [role=listbox]')].filter((l) => l.offsetParent).length"


def tab_to(page, wanted, what: str, key: str = "Tab") -> list[dict]:
    """Press `key` until the focused element satisfies `wanted(focused)`; return the stops passed on the way."""
    stops = []
    for _ in range(MAX_STOPS):
        page.keyboard.press(key)
        focused = page.evaluate(FOCUSED)
        stops.append(focused)
        if focused and wanted(focused):
            return stops
    seen = [(s or {}).get("id", "") + ":" + (s or {}).get("type", "") for s in stops]
    raise AssertionError(f"{MAX_STOPS} presses of {key} never reached {what}; the stops: {seen}")


def test_keyboard_only_journey(browser, live_app, digit_png, artifacts):  # noqa: F811 - the fixture
    context = open_context(browser, viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        mouse = []
        page.expose_function("llMouseSeen", lambda kind: mouse.append(kind))
        page.add_init_script("for (const kind of ['mousedown', 'mouseup', 'click', 'pointerdown']) "
                             "document.addEventListener(kind, (e) => { if (e.isTrusted && e.detail > 0) "
                             "window.llMouseSeen(kind); }, true);")
        # Playwright intercepts file choosers from its first listener on: set up now, not in a race with Enter.
        page.on("filechooser", lambda chooser: None)
        page.goto(live_app)
        loaded(page)

        # The first stop is the skip link; Enter takes the focus to the main controls (Random sample).
        first = tab_to(page, lambda f: True, "the first stop")[-1]
        assert first["name"] == "Skip to the main controls", first
        page.keyboard.press("Enter")
        wait_until(page, "() => document.activeElement?.closest('#ll-random') !== null",
                   "the skip link to focus Random sample", last=FOCUSED)

        # Random sample by Enter: a new digit.
        before = page.locator(DIGIT_IMG).get_attribute("src")
        link_before = page.evaluate(value_at("#ll-link textarea, #ll-link input"))
        page.keyboard.press("Enter")
        wait_until(page, "([sel, b]) => document.querySelector(sel)?.getAttribute('src') !== b",
                   "Random sample to show a new digit", arg=[DIGIT_IMG, before])

        # The pictures say what they show, with the reader's verdict.
        wait_until(page, "() => /^Decoded digit; the reader says .+, \\d+%$/.test("
                   "document.querySelector('#ll-digit-box img.ll-digit')?.alt || '')",
                   "the digit's text alternative to give the reader's verdict",
                   last="() => document.querySelector('#ll-digit-box img.ll-digit')?.alt")
        names = page.evaluate("() => ['#ll-map', '#ll-readout'].map((s) => "
                              "document.querySelector(s + ' .image-container > button')?.getAttribute('aria-label'))")
        assert names[0].startswith("Latent map: ") and "the reader says" in names[0], names
        assert names[1].startswith("Row by row: ") and "the reader says" in names[1], names

        # The focus order from the top of the page follows the visual order of the main controls, and no
        # dropdown's list stays open once Tab has passed it.
        tab_to(page, lambda f: f["name"] == "Skip to the main controls", "the skip link", key="Shift+Tab")
        stops = tab_to(page, lambda f: f["id"] == "ll-z0" and f["type"] == "range", "the first latent slider")
        ids = [s["id"] for s in stops if s]
        order = ["ll-model", "ll-reader", "ll-refresh", "ll-random", "ll-reset", "ll-present", "ll-share", "ll-z0"]
        seen = [i for i in dict.fromkeys(ids) if i in order]
        assert seen == order, f"focus order {seen}, all stops {ids}"
        assert page.evaluate(OPEN_LISTS) == 0, "a dropdown list stayed open after Tab moved past it"
        # The tab's sections stand in the document in the order they are seen, so Tab never jumps back up.
        tops = page.evaluate("() => [...document.querySelectorAll('#ll-explore > *')].filter((e) => e.offsetParent)"
                             ".map((e) => [e.id, Math.round(e.getBoundingClientRect().top + scrollY)])")
        assert [top for _, top in tops] == sorted(top for _, top in tops), f"sections out of their seen order: {tops}"

        # A slider by the arrow keys: the server's view (the link) follows.
        value = page.evaluate(value_at("#ll-z0 input[type=range]"))
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        wait_until(page, "(v) => document.querySelector('#ll-z0 input[type=range]').value !== v",
                   "the arrow keys to move the first slider", arg=value, last=value_at("#ll-z0 input[type=range]"))
        wait_until(page, "(b) => { const e = document.querySelector('#ll-link textarea, #ll-link input'); "
                   "return e && e.value !== b; }", "the link to follow the slider", arg=link_before,
                   last=value_at("#ll-link textarea, #ll-link input"))
        page.screenshot(path=str(artifacts / "keyboard-slider-focus.png"))

        # Upload: the Upload tab by Enter, then the drop zone's file chooser by Enter.
        tab_to(page, lambda f: f["role"] == "tab" and f["name"] == "Upload", "the Upload tab")
        page.keyboard.press("Enter")
        wait_shown(page.locator("#ll-upload"), "the Upload tab's drop zone")
        tab_to(page, lambda f: f["id"] == "ll-upload" and f["tag"] == "BUTTON", "the upload drop zone")
        focused = page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)")
        try:
            with page.expect_file_chooser(timeout=WAIT_MS) as chooser:
                page.keyboard.press("Enter")
        except PlaywrightTimeout as error:
            raise AssertionError(f"Enter on the drop zone opened no file chooser; the focus was on {focused}") from error
        chooser.value.set_files(str(digit_png[0]))
        wait_until(page, "() => document.querySelector('#ll-model-saw img') !== null",
                   "the uploaded digit to show what the model sees", last=text_at("#ll-notes"))
        wait_until(page, "() => (document.querySelector('#ll-announce')?.textContent || '').includes('Your digit')",
                   "the live region to announce the upload", last=text_at("#ll-announce"))

        # The Train tab, by the keyboard: start a job.
        page.evaluate("() => window.scrollTo(0, 0)")
        tab_to(page, lambda f: f["role"] == "tab" and f["name"] == "Train", "the Train tab", key="Shift+Tab")
        page.keyboard.press("Enter")
        tab_to(page, lambda f: f["id"] == "train-launch", "Start training")
        page.keyboard.press("Enter")
        wait_until(page, "() => !document.querySelector('#train-status').textContent.includes('No job followed')",
                   "the job to start", last=text_at("#train-status"))

        # The language, by the keyboard: the switch is a Tab stop at the top; an arrow key picks 中文, and the
        # page comes back in Chinese at the same view, its skip link (in Chinese) still the first stop.
        tab_to(page, lambda f: f["id"] == "ll-language", "the language switch", key="Shift+Tab")
        assert page.evaluate("() => document.querySelector('label[for=ll-language]').textContent") == "Language"
        with expecting_request(page, lambda r: r.is_navigation_request() and "lang=zh-CN" in r.url,
                               "the page to load again in Chinese"):
            page.keyboard.press("ArrowDown")
        loaded(page)
        wait_until(page, "() => document.getElementById('ll-language')?.value === 'zh-CN'", "the switch to say 中文")
        assert page.evaluate("() => [document.documentElement.lang, document.title]") == ["zh-CN", "隐空间实验室"]
        first = tab_to(page, lambda f: True, "the first stop")[-1]
        assert first["name"] == "跳到主要控件", first
        assert tab_to(page, lambda f: True, "the second stop")[-1]["id"] == "ll-language"
        assert not mouse, f"mouse events during the keyboard-only journey: {mouse}"
    finally:
        context.close()
