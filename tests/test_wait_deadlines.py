"""The tests' waits fail with a sentence at their deadline instead of hanging (tests/hostile.py, tests/browser_waits.py)."""

import configparser
import re
from pathlib import Path

import pytest
from browser_waits import wait_shown, wait_until
from conftest import open_context
from hostile import wait_for, wait_for_view, wait_job

TESTS = Path(__file__).resolve().parent


def test_wait_for_returns_the_predicates_value():
    assert wait_for(lambda: 42, "the answer") == 42


def test_wait_for_fails_naming_what_it_waited_for_and_the_last_state():
    with pytest.raises(AssertionError, match=r"Waited 0 s for nothing; last state seen: 'still empty'"):
        wait_for(lambda: False, "nothing", timeout_s=0.2, last=lambda: "still empty")


def test_wait_for_needs_a_sentence():
    with pytest.raises(TypeError):
        wait_for(lambda: True)


def test_a_job_that_never_finishes_fails_with_where_it_stood():
    view = {"status": "running", "epochs_done": 3, "queue_position": None, "error": None}
    with pytest.raises(AssertionError, match=r"the job to finish; last state seen: 'status running, 3 epochs done"):
        wait_for_view(lambda: view, lambda v: v["status"] == "done", "the job to finish", timeout_s=0.2)

    class Stuck:
        def wait(self, job_id, timeout_s):
            return view

    with pytest.raises(AssertionError, match=r"job 1234 to finish; last state seen: status running"):
        wait_job(Stuck(), "1234", timeout_s=0.2)


@pytest.mark.browser
def test_a_page_wait_fails_naming_what_it_waited_for_and_the_last_state(browser):
    context = open_context(browser)
    try:
        page = context.new_page()
        page.set_content("<p id='p'>still here</p>")
        with pytest.raises(AssertionError, match=r"Waited 0 s for a paragraph that never goes; last state seen: 'still here'"):
            wait_until(page, "() => !document.querySelector('#p')", "a paragraph that never goes",
                       last="() => document.querySelector('#p').textContent", timeout_ms=200)
        with pytest.raises(AssertionError, match=r"for a button; last state seen: '0 matching element\(s\), 0 visible'"):
            wait_shown(page.locator("button"), "a button", timeout_ms=200)
    finally:
        context.close()


def test_no_test_waits_without_a_deadline_or_a_sentence():
    """Browser waits go through browser_waits (a sentence at the deadline); no context turns the deadline off."""
    bare = re.compile(r"\.wait_for_function\(|\.wait_for_selector\(|\.wait_for\(|\.expect_request\(|set_default_timeout\(0\)")
    found = [f"{path.name}:{number}" for path in sorted(TESTS.glob("*.py")) if path.name != "browser_waits.py"
             for number, line in enumerate(path.read_text().splitlines(), 1) if bare.search(line)]
    assert not found, f"waits that bypass tests/browser_waits.py: {found}"


def test_pytest_timeout_is_only_a_last_resort():
    config = configparser.ConfigParser()
    config.read(TESTS.parent / "pytest.ini")
    assert 0 < int(config["pytest"]["timeout"]) <= 300
