"""Waits on a page in headless Chromium that fail with a sentence instead of hanging.

A deadline here detects a hang, it is not a speed claim: WAIT_MS is generous enough never to be reached on a
slow, busy machine. Past it a wait fails naming what it waited for and the last state it saw, with the text
of any message (toast) the page shows, which often says why. Not a test module; the browser tests import it.
"""

import contextlib
import json

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

WAIT_MS = 90_000  # every browser context's default for actions, navigations and waits (conftest.open_context)
SHOWN = 300  # characters of a state quoted in a failure
# The messages (toasts) the page shows: an error or a warning there often explains a wait that never ends.
PAGE_MESSAGES = "() => [...document.querySelectorAll('[data-testid=toast-body]')].map((t) => t.innerText.trim())"


def src_at(selector: str) -> str:
    """Return a JavaScript function (a state for `last`) reading the end of the src of the element at `selector`."""
    sel = json.dumps(selector)
    return (f"() => {{ const e = document.querySelector({sel}); "
            f"return e ? 'src ending ' + (e.getAttribute('src') || '').slice(-24) : 'no element ' + {sel}; }}")


def text_at(selector: str) -> str:
    """Return a JavaScript function (a state for `last`) reading the text of the element at `selector`."""
    sel = json.dumps(selector)
    return (f"() => {{ const e = document.querySelector({sel}); "
            f"return e ? e.textContent.replace(/\\s+/g, ' ').trim() : 'no element ' + {sel}; }}")


def value_at(selector: str) -> str:
    """Return a JavaScript function (a state for `last`) reading the value of the input at `selector`."""
    sel = json.dumps(selector)
    return f"() => {{ const e = document.querySelector({sel}); return e ? e.value : 'no element ' + {sel}; }}"


def _read(page, state, arg):
    """Return `state` now: a JavaScript function called with `arg`, or a Python callable; never raises."""
    try:
        return state() if callable(state) else page.evaluate(state, arg)
    except PlaywrightError as error:
        return f"(unreadable: {str(error).splitlines()[0]})"


def _failure(page, what: str, timeout_ms: float, seen) -> AssertionError:
    """Return the AssertionError saying what was awaited, the last state seen and the page's messages."""
    messages = _read(page, PAGE_MESSAGES, None)
    shown = f"; the page shows {str(messages)[:SHOWN]!r}" if messages else ""
    return AssertionError(f"Waited {timeout_ms / 1000:.0f} s for {what}; last state seen: {str(seen)[:SHOWN]!r}{shown}")


def wait_until(page, expression: str, what: str, *, arg=None, last=None, timeout_ms: float = WAIT_MS):
    """Wait until the JavaScript function `expression` (called with `arg`) returns a truthy value in `page`;
    return its JSHandle. Past the deadline fail with a sentence naming `what` and the state `last` reads (a
    JavaScript function called with `arg`, or a Python callable; else the expression's own last value)."""
    try:
        return page.wait_for_function(expression, arg=arg, timeout=timeout_ms)
    except PlaywrightTimeout as error:
        raise _failure(page, what, timeout_ms, _read(page, last or expression, arg)) from error


def wait_shown(locator, what: str, *, state: str = "visible", last=None, timeout_ms: float = WAIT_MS):
    """Wait until `locator` (one element) reaches `state` ("visible", "attached", "hidden", "detached"); return
    None. Past the deadline fail with a sentence naming `what` and the state `last` reads (a JavaScript function
    or a Python callable that does not wait), else how many elements match and how many of them are visible."""
    try:
        locator.wait_for(state=state, timeout=timeout_ms)
    except PlaywrightTimeout as error:
        seen = last or (lambda: f"{locator.count()} matching element(s), "
                                f"{sum(locator.nth(k).is_visible() for k in range(locator.count()))} visible")
        raise _failure(locator.page, what, timeout_ms, _read(locator.page, seen, None)) from error


@contextlib.contextmanager
def expecting_request(page, predicate, what: str, *, timeout_ms: float = WAIT_MS):
    """page.expect_request(predicate) with a deadline that fails naming `what` (the request it waited for)."""
    try:
        with page.expect_request(predicate, timeout=timeout_ms) as request:
            yield request
    except PlaywrightTimeout as error:
        if "waiting for event" not in str(error):
            raise
        raise _failure(page, what, timeout_ms, "no such request was sent") from error
