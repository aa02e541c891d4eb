"""The Train tab in headless Chromium: start a short job, watch its curve and status, cancel a second one,
follow it again after a reload, and stop polling once the visitor is back on the Explore tab."""

import re
import time

import pytest

pytestmark = pytest.mark.browser


def status_of(page) -> str:
    return page.locator("#train-progress .job-progress").get_attribute("data-status") or ""


def wait_status(page, wanted, timeout_s=120) -> list[str]:
    """Poll the progress bar's status until it is one of `wanted`; return the statuses seen on the way."""
    seen = []
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if page.locator("#train-progress .job-progress").count():
            status = status_of(page)
            if not seen or seen[-1] != status:
                seen.append(status)
            if status in wanted:
                return seen
        page.wait_for_timeout(200)
    raise AssertionError(f"status never became {wanted}; seen {seen}")


def fill(page, elem_id, value):
    box = page.locator(f"#{elem_id} input")
    box.fill(str(value))
    box.press("Tab")


def test_start_watch_and_cancel(page, artifacts):
    page.get_by_role("tab", name="Train").click()
    fill(page, "train-epochs", 3)
    fill(page, "train-hidden", 32)
    page.locator("#train-launch").click()
    seen = wait_status(page, {"done"})
    assert any(s in ("queued", "running") for s in seen), seen  # it changed while we watched
    status = page.locator("#train-status")
    assert "done" in status.inner_text() and "Epochs 3 of 3" in status.inner_text()
    job_id = re.search(r"\d{8}-\d{6}-[0-9a-f]{4}", status.inner_text()).group(0)
    # The loss curve was drawn (Vega renders marks into the plot) and the epoch grid is shown.
    # Vega draws each series as an SVG path; a path with a line-to ("L") holds at least two points.
    page.wait_for_function(
        "() => [...document.querySelectorAll('#train-loss-plot svg .mark-line path')]"
        ".filter(p => (p.getAttribute('d') || '').includes('L')).length >= 2", timeout=10_000)
    assert "validation loss" in page.locator("#train-loss-plot svg").first.text_content()
    page.locator("#train-grid img").wait_for(state="visible")
    assert page.locator("#train-table").inner_text().count(job_id) == 1
    page.screenshot(path=str(artifacts / "train-tab-done.png"), full_page=True)

    # A second, long job: cancel it once it has finished an epoch.
    fill(page, "train-epochs", 100)
    page.locator("#train-launch").click()
    page.wait_for_function(
        "(old) => { const t = document.querySelector('#train-status').innerText; "
        "return !t.includes(old) && /Epochs [1-9]\\d* of 100/.test(t); }", arg=job_id, timeout=60_000)
    assert status_of(page) == "running"
    cancel = page.locator("#train-cancel")
    assert cancel.is_enabled()
    started = time.time()
    cancel.click()
    wait_status(page, {"cancelled"}, timeout_s=10)
    assert time.time() - started < 6
    assert "cancelled" in page.locator("#train-status").inner_text()
    assert page.locator("#train-resume").is_enabled()  # it kept a checkpoint to resume from
    page.screenshot(path=str(artifacts / "train-tab-cancelled.png"), full_page=True)

    # After a reload the followed job is still shown (owner token and job id live in the browser).
    page.reload()
    page.get_by_role("tab", name="Train").click()
    wait_status(page, {"cancelled"}, timeout_s=15)
    assert page.locator("#train-resume").is_enabled()

    # Back on the Explore tab the Train tab stops polling: no requests at all while a visitor explores.
    page.get_by_role("tab", name="Explore").click()
    page.wait_for_timeout(500)  # a tick already on its way may still land
    polls = []
    page.on("request", lambda r: polls.append(r.url) if "/queue/join" in r.url else None)
    page.wait_for_timeout(5000)  # longer than the slow tick (4 s)
    assert polls == [], f"the Train tab kept polling from the Explore tab: {polls}"
