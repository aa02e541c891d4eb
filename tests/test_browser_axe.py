"""axe-core (bundled by axe-playwright-python) on every tab, at a laptop's and a phone's size, with and without
presentation mode, in English and in Chinese: no critical and no serious violation, Gradio's own markup included.

One page per size, mode and language visits the three tabs in turn, as a visitor does. axe's rules read the
page's elements, roles, names and colours: a size and a mode change those, a language changes only the words
(every name and label, the lang attributes), which are the same elements at every size. So the default suite
checks a laptop and a phone in English, and presentation mode in Chinese (on a phone); the three other pages
run in `make test-all` (`extended`), since the default suite is near its time limit.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_waits import wait_shown, wait_until
from conftest import open_context

from test_browser_explore import loaded

pytestmark = pytest.mark.browser

SIZES = {"1280x720": {"width": 1280, "height": 720}, "390x844": {"width": 390, "height": 844}}
# Each tab (its id, the same in every language) and what it shows once it is built: axe then sees it as a visitor does.
SHOWN = {"explore": "#ll-digit-box img", "write": "#ll-write-go", "train": "#train-launch"}
BLOCKING = {"critical", "serious"}
# Gradio dims a component while its event runs (its status tracker shows): axe then reads faded text.
IDLE = "() => !document.querySelector('[data-testid=status-tracker]:not(.hide)')"
BUSY = "() => [...document.querySelectorAll('[data-testid=status-tracker]:not(.hide)')].map((t) => t.closest('[id]')?.id)"


def violations(page) -> list[str]:
    """Return one line per critical or serious axe violation on the page: rule id, impact, target selectors."""
    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}, {len(v['nodes'])} element(s)): {v['help']}; at "
            + ", ".join(" ".join(map(str, n["target"])) for n in v["nodes"])
            for v in found if v["impact"] in BLOCKING]


def open_tab(page, tab: str):
    """Select tab `tab` (by a script's click, the same in every layout) and wait until it shows."""
    page.locator(f"button[role=tab][data-tab-id={tab}]").evaluate("(b) => b.click()")
    wait_shown(page.locator(SHOWN[tab]).first, f"the {tab} tab's controls")


# The default suite checks a laptop, a phone, and presentation mode in Chinese; make test-all adds the other three.
EXTENDED = pytest.mark.extended
PAGES = [pytest.param("1280x720", False, "en", id="1280x720-normal-en"),
         pytest.param("390x844", False, "en", id="390x844-normal-en"),
         pytest.param("1280x720", True, "en", id="1280x720-present-en", marks=EXTENDED),
         pytest.param("390x844", True, "zh-CN", id="390x844-present-zh-CN"),
         pytest.param("390x844", True, "en", id="390x844-present-en", marks=EXTENDED),
         pytest.param("1280x720", False, "zh-CN", id="1280x720-normal-zh-CN", marks=EXTENDED)]


@pytest.mark.parametrize("size, present, language", PAGES)
def test_no_serious_violations(browser, live_app, size, present, language):
    context = open_context(browser, viewport=SIZES[size])
    try:
        page = context.new_page()
        page.goto(f"{live_app}/?lang={language}" + ("&present=1" if present else ""))
        loaded(page)
        assert page.evaluate("() => document.documentElement.lang") == language
        problems = []
        for tab in SHOWN:
            open_tab(page, tab)
            wait_until(page, IDLE, "every event of the page to finish", last=BUSY)
            found = violations(page)
            if found:  # an event that started late (the Write tab's first-sight samples) fades what it updates
                wait_until(page, IDLE, "every event of the page to finish", last=BUSY)
                found = violations(page)
            problems += [f"{tab}: {line}" for line in found]
        assert not problems, f"{len(problems)} critical or serious axe violation(s) at {size} in {language}" + (
            " in presentation mode" if present else "") + ":\n" + "\n".join(problems)
    finally:
        context.close()
