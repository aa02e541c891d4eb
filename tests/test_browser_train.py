"""The Train tab in headless Chromium: launch a named job and watch its status, curves (with readable legends)
and picture grid; cancel a second one; after a reload see the followed job at once; stop polling on the
Explore tab; follow a RowRNN run; a second student's place in the queue (with clock times in their own time
zone) until their job starts; the class's runs compared with their figures and pictures; and screenshots at
1280x720 and 390x844 in test-artifacts/."""

import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from browser_waits import PAGE_MESSAGES, text_at, wait_shown, wait_until
from conftest import ROOT, open_context
from gradio_client import Client
from hostile import ServedApp, copy_shipped_run, wait_for, wait_for_view

from jobs import HostLimits
from jobs.records import ACTIVE, append_jsonl
from jobs.runner import hash_token

pytestmark = pytest.mark.browser
JOB_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{4}")
RNN_RUN = "29990101-000000-0b01"  # a planted, finished RowRNN run with three epochs of curves (newest id: top row)

# Records every message of the page's event stream in window.__sse, so a test can wait for a server reply.
RECORD_EVENT_STREAM = """
(() => {
  window.__sse = [];
  const record = (chunk) => { for (const line of chunk.split('\\n')) {
    if (line.startsWith('data:')) { try { window.__sse.push(JSON.parse(line.slice(5))); } catch (e) {} } } };
  const fetch = window.fetch;
  window.fetch = async (...args) => {
    const response = await fetch(...args);
    const url = String((args[0] && args[0].url) || args[0]);
    if (!url.includes('/queue/data') || !response.body) return response;
    const [page, copy] = response.body.tee();
    (async () => { const reader = copy.getReader(); const text = new TextDecoder(); let rest = '';
      for (;;) { const {done, value} = await reader.read(); if (done) break;
        const parts = (rest + text.decode(value, {stream: true})).split('\\n\\n'); rest = parts.pop();
        parts.forEach(record); } })();
    return new Response(page, {status: response.status, statusText: response.statusText, headers: response.headers});
  };
})();
"""
IN_VIEWPORT = """(selector) => {  // some of the element lies in the window
    const r = document.querySelector(selector).getBoundingClientRect();
    return r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth;
}"""
LINES_DRAWN = """() => [...document.querySelectorAll('#train-loss-plot svg .mark-line path')]
    .filter(p => (p.getAttribute('d') || '').includes('L')).length"""
LEGEND_INSIDE = """(id) => {
  const svg = document.querySelector(`#${id} svg`), legend = svg && svg.querySelector('.role-legend');
  if (!legend) return null;
  const s = svg.getBoundingClientRect(), l = legend.getBoundingClientRect();
  const inside = l.top >= s.top && l.bottom <= s.bottom + 1 && l.left >= s.left && l.right <= s.right + 1;
  return {inside, labels: [...legend.querySelectorAll('text')].map(t => t.textContent)};
}"""


def status_of(page) -> str:
    return page.locator("#train-progress .job-progress").get_attribute("data-status") or ""


def wait_status(page, wanted) -> list[str]:
    """Poll the progress bar's status until it is one of `wanted`; return the statuses seen on the way."""
    seen = []

    def arrived() -> bool:
        if not page.locator("#train-progress .job-progress").count():
            return False
        status = status_of(page)
        if not seen or seen[-1] != status:
            seen.append(status)
        return status in wanted

    wait_for(arrived, f"the job's progress bar to say {' or '.join(sorted(wanted))}", interval_s=0.2,
             last=lambda: f"statuses seen {seen}")
    return seen


def wait_text(page, selector, text):
    """Wait until the element's text contains `text`, spaces collapsed (as Playwright's to_contain_text checks)."""
    wait_until(page, "([selector, text]) => (document.querySelector(selector)?.textContent || '')"
               ".replace(/\\s+/g, ' ').includes(text)", f"{selector} to say {text!r}", arg=[selector, text],
               last=text_at(selector))


def fill(page, elem_id, value):
    box = page.locator(f"#{elem_id} input, #{elem_id} textarea").first
    box.fill(str(value))
    box.press("Tab")


def legend(page, elem_id) -> dict:
    """Wait until the chart in #elem_id has drawn its legend; return its labels and whether it lies inside the chart."""
    wait_until(page, f"() => ({LEGEND_INSIDE})('{elem_id}') !== null", f"the chart #{elem_id} to draw its legend",
               last=f"() => document.querySelector('#{elem_id} svg') ? 'a chart without a legend' : 'no chart'")
    return page.evaluate(LEGEND_INSIDE, elem_id)


def timer_trigger(live_app) -> int:
    """Return the component id of the Train tab's polling timer: the timer whose ticks update #train-status."""
    config = httpx.get(f"{live_app}/config", timeout=30).json()
    ids = {c.get("props", {}).get("elem_id"): c["id"] for c in config["components"]}
    (timer,) = {target for dep in config["dependencies"] for target, event in dep["targets"]
                if event == "tick" and ids["train-status"] in dep["outputs"]}
    return timer


def open_train_tab(browser, live_app, viewport, storage_state=None, hold_ticks=False, **options):
    """Open the app in a fresh browser context and select the Train tab; return (context, page).

    hold_ticks: the polling timer's requests are held back (never answered), so only other events
    can change the page; `options` go to the context (a time zone, a locale).
    """
    context = open_context(browser, viewport=viewport, storage_state=storage_state, **options)
    page = context.new_page()
    page.add_init_script(RECORD_EVENT_STREAM)
    if hold_ticks:
        timer, held = timer_trigger(live_app), []
        page.route("**/queue/join*", lambda route: held.append(route)
                   if json.loads(route.request.post_data or "{}").get("trigger_id") == timer else route.continue_())
    page.goto(live_app)
    page.get_by_role("tab", name="Train").click()
    return context, page


def test_launch_watch_cancel_reload_and_leave(browser, live_app, artifacts, tmp_path):
    context, page = open_train_tab(browser, live_app, {"width": 1280, "height": 720})
    fill(page, "train-name", "first try")
    fill(page, "train-epochs", 3)
    fill(page, "train-vae-hidden-size", 32)
    page.locator("#train-launch").click()
    seen = wait_status(page, {"done"})
    assert any(s in ("queued", "running") for s in seen), seen  # it changed while we watched
    status = page.locator("#train-status")
    wait_text(page, "#train-status", "Epochs 3 of 3")
    wait_text(page, "#train-status", "first try")
    job_id = JOB_ID.search(status.inner_text()).group(0)
    wait_text(page, "#train-table", "first try")
    assert page.locator("#train-table").inner_text().count(job_id) == 1

    # The curves: every series named in a legend that lies inside its chart (a fixed height used to cut it off).
    loss = legend(page, "train-loss-plot")
    assert loss == {"inside": True, "labels": ["train (steps)", "train", "validation"]}, loss
    kl = legend(page, "train-kl-plot")
    assert kl == {"inside": True, "labels": ["train", "validation"]}, kl
    wait_text(page, "#train-loss-plot", "−ELBO (nats per image)")
    wait_shown(page.locator("#train-accuracy-plot"), "the accuracy chart to hide (a VAE has none)", state="hidden")
    # Each series is drawn as an SVG path with a line-to ("L"): two points or more.
    wait_until(page, f"() => ({LINES_DRAWN})() >= 3", "the loss chart to draw its three series as lines",
               last=f"() => ({LINES_DRAWN})() + ' series drawn as lines'")
    wait_shown(page.locator("#train-grid img"), "the job's picture grid")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts / "train-tab-1280x720.png"))
    page.screenshot(path=str(artifacts / "train-tab-done-full.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#train-status").evaluate("element => element.scrollIntoView()")  # the status at the top
    wait_shown(page.locator("#train-loss-plot svg .role-legend"), "the loss chart's legend on a phone")
    assert legend(page, "train-loss-plot")["inside"]  # still whole on a phone
    page.screenshot(path=str(artifacts / "train-tab-390x844.png"))
    page.screenshot(path=str(artifacts / "train-tab-390x844-full.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 720})

    # A second, long job: cancel it once it has finished an epoch.
    fill(page, "train-name", "")
    fill(page, "train-epochs", 100)
    page.locator("#train-launch").click()
    wait_until(page, "(old) => { const t = document.querySelector('#train-status').innerText; "
               "return !t.includes(old) && /Epochs [1-9]\\d* of 100/.test(t); }",
               "the second job to finish an epoch of 100", arg=job_id, last=text_at("#train-status"))
    assert status_of(page) == "running"
    wait_shown(page.locator("#train-cancel:enabled"), "the Cancel button to be enabled")
    page.locator("#train-cancel").click()
    wait_status(page, {"cancelled"})
    wait_text(page, "#train-status", "cancelled")
    wait_shown(page.locator("#train-resume:enabled"), "the Resume button to be enabled (a checkpoint was kept)")
    cancelled = JOB_ID.search(page.locator("#train-status").inner_text()).group(0)

    # After a reload the followed job is shown as soon as the tab opens, not at the timer's first tick:
    # with every tick held back, only the tab-select and browser-storage events can show it.
    state = tmp_path / "storage.json"
    context.storage_state(path=str(state))
    context.close()
    context, page = open_train_tab(browser, live_app, {"width": 1280, "height": 720}, str(state), hold_ticks=True)
    wait_text(page, "#train-status", cancelled)
    wait_shown(page.locator("#train-resume:enabled"), "the Resume button after the reload (the owner token came back)")
    wait_text(page, "#train-table", "first try")

    # Back on the Explore tab, the Train tab's reply switches its polling timer off.
    page.get_by_role("tab", name="Explore").click()
    wait_until(page, """() => window.__sse.some(m => m.msg === 'process_completed' && m.output
        && JSON.stringify(m.output.data || []).includes('"active":false'))""",
               "a reply that switches the Train tab's timer off", last="() => window.__sse.length + ' messages received'")
    context.close()


@pytest.fixture
def rnn_run(runs_dir):
    """A finished RowRNN run (the shipped checkpoint) with three epochs of metrics, owned by nobody here."""
    folder = Path(copy_shipped_run(runs_dir, RNN_RUN, checkpoint="rnn-mnist", owner=hash_token("someone-else"),
                                   name="reader run"))
    metrics = folder / "metrics.jsonl"
    metrics.unlink(missing_ok=True)
    for epoch in (1, 2, 3):
        for step in range(1, 5):
            append_jsonl(metrics, {"kind": "step", "x": epoch - 1 + step / 4, "loss": 1.0 / (epoch + step)})
        append_jsonl(metrics, {"kind": "epoch", "epoch": epoch, "train_loss": 0.9 / epoch, "val_loss": 0.8 / epoch,
                               "train_accuracy": 0.7 + 0.05 * epoch, "val_accuracy": 0.72 + 0.05 * epoch})
    return RNN_RUN


def test_a_chinese_visitor_reads_the_train_tab_in_chinese(browser, live_app, rnn_run):
    """Issue 26: with ?lang=zh-CN the form, the followed run's status, its curves' legend and the job table speak
    Chinese; the values sent stay the same (the model filter's choices keep their values)."""
    context = open_context(browser, viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(f"{live_app}/?lang=zh-CN")
    page.get_by_role("tab", name="训练").click()
    wait_text(page, "#train-launch", "开始训练")
    wait_text(page, "#train-seed", "随机种子")
    wait_text(page, "#train-seed", "打开页面时为你随机抽取")  # a text with parameters, in Chinese too
    wait_text(page, "#train-expert", "高级设置")
    wait_text(page, "#train-status", "还没有关注任何任务")
    # Issue 25: a class experiment fills the form; its varied setting (β) comes from the visitor's own seed.
    page.locator("#train-experiment input").click()
    page.get_by_role("option", name="β 扫描：每位同学分到不同的 β").click()
    name = "document.querySelector('#train-name input, #train-name textarea')?.value"
    wait_until(page, f"() => {name}.startsWith('β = ')", "the experiment to name the run after its β",
               last=f"() => {name}")
    wait_until(page, f"() => {PAGE_MESSAGES}().filter(t => t.includes('表单已填好')).length === 1",
               "one message saying the form is filled", last=PAGE_MESSAGES)
    page.locator('#train-table [data-testid^="cell-"]', has_text=rnn_run).first.click()
    wait_text(page, "#train-status", "准确率 87.0%（第 3 轮）")
    assert legend(page, "train-accuracy-plot")["labels"] == ["训练集", "验证集"]
    wait_text(page, "#train-loss-plot", "交叉熵（奈特/图像）")
    wait_text(page, "#train-table", "已完成")
    page.screenshot(path=str(ROOT / "test-artifacts" / "train-tab-zh-CN.png"))
    context.close()


def test_a_rowrnn_run_shows_its_accuracy_and_cannot_be_opened_as_a_vae(browser, live_app, rnn_run):
    context, page = open_train_tab(browser, live_app, {"width": 1280, "height": 720})
    page.locator('#train-table [data-testid^="cell-"]', has_text=rnn_run).first.click()  # its row in the table
    for text in ("reader run", "RowRNN", "accuracy 87.0%"):
        wait_text(page, "#train-status", text)
    assert legend(page, "train-accuracy-plot") == {"inside": True, "labels": ["train", "validation"]}
    assert legend(page, "train-loss-plot")["labels"] == ["train (steps)", "train", "validation"]
    wait_text(page, "#train-loss-plot", "cross-entropy (nats per image)")
    wait_shown(page.locator("#train-kl-plot"), "the KL chart to hide (a RowRNN has none)", state="hidden")
    wait_shown(page.locator("#train-open:disabled"), "the Open button to be disabled (the explorer opens VAEs)")
    wait_shown(page.locator("#train-cancel:disabled"), "the Cancel button to be disabled (somebody else's job)")
    wait_until(page, IN_VIEWPORT, "the page to scroll up to the followed run's status", arg="#train-status",
               last="() => 'scrollY ' + window.scrollY")
    page.screenshot(path=str(ROOT / "test-artifacts" / "train-tab-rowrnn.png"))
    context.close()


# ------------------------------------------------------------------------------- a class on one slot
SHORT_VAE = {"model": "vae", "dataset": "mnist-5k", "epochs": 1, "hidden_size": 32, "batch_size": 256}
PHONE, SCREEN = {"width": 390, "height": 844}, {"width": 1280, "height": 720}


@pytest.fixture(scope="module")
def one_slot(tmp_path_factory):
    """The app over a runs folder of its own that trains one job at a time, so a second one waits its turn."""
    with ServedApp(tmp_path_factory.mktemp("one-slot-runs"), HostLimits(max_concurrent=1)) as served:
        yield served


def test_a_second_student_sees_their_place_in_the_queue_until_their_job_starts(browser, one_slot, artifacts):
    first, teacher = open_train_tab(browser, one_slot.url, SCREEN)
    # 100 epochs of the default-sized VAE: a job that never ends by itself while the test runs (it is cancelled);
    # tiny ones could end before the cancel on a quiet machine, and the second student's job then started anyway.
    fill(teacher, "train-epochs", 100)
    teacher.locator("#train-launch").click()
    wait_status(teacher, {"running"})
    running = JOB_ID.search(teacher.locator("#train-status").inner_text()).group(0)

    # Issue 25: after a reload the running job reattaches as the page opens, on whichever tab is open (it used to
    # wait until the Train tab was opened): it is announced, and its status is what the Train tab then shows.
    teacher.reload()
    wait_until(teacher, f"() => {PAGE_MESSAGES}().some(t => t.includes({json.dumps(running)}))",
               "the page to announce the running job as it opens", last=PAGE_MESSAGES)
    teacher.get_by_role("tab", name="Train").click()
    wait_text(teacher, "#train-status", running)

    # A student in another time zone, on a phone: their job waits behind the first.
    second, student = open_train_tab(browser, one_slot.url, PHONE, timezone_id="Asia/Tokyo", locale="en-GB")
    fill(student, "train-name", "my turn")
    fill(student, "train-epochs", 1)
    fill(student, "train-vae-hidden-size", 32)
    student.locator("#train-launch").click()
    wait_text(student, "#train-progress", "1st in the queue, starts in")
    wait_text(student, "#train-progress", "done in")
    wait_text(student, "#train-status", "my turn")
    # Each estimate's clock time is the student's own (Tokyo), not the server's.
    first_time = student.locator("#train-progress time").first
    stamp, shown = first_time.get_attribute("datetime"), first_time.inner_text()
    at = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Tokyo"))
    assert shown == at.strftime("%H:%M"), (stamp, shown)
    student.locator("#train-status").evaluate("element => element.scrollIntoView()")
    student.screenshot(path=str(artifacts / "train-queue-390x844.png"))
    # The first student's job table shows where the waiting job stands too.
    wait_text(teacher, "#train-table", "1st in the queue")

    # The first job is cancelled: the waiting one starts, and its queue line says so.
    wait_shown(teacher.locator("#train-cancel:enabled"), "the first student's Cancel button to be enabled")
    teacher.locator("#train-cancel").click()
    seen = wait_status(student, {"running", "done"})
    assert seen[0] == "queued", seen
    wait_until(student, "() => !(document.querySelector('#train-progress')?.textContent || '').includes('in the queue')",
               "the second student's progress to leave the queue", last=text_at("#train-progress"))
    first.close()
    second.close()


def finished_runs(url, betas: dict) -> dict:
    """Train one short VAE per {name: beta} through /train, each for its own owner; return {name: its /job view}."""
    client = Client(url, verbose=False)
    ids = {name: client.predict(dict(SHORT_VAE, beta=beta, name=name), f"owner of {name}", api_name="/train")
           for name, beta in betas.items()}
    views = {}
    for name, job_id in ids.items():
        views[name] = wait_for_view(lambda: client.predict(job_id, api_name="/job"), lambda v: v["status"] not in ACTIVE,
                                    f"the run {name!r} to finish", interval_s=0.3)
        assert views[name]["status"] == "done", views[name]
    return views


# The gallery's captions, in order (a JavaScript expression).
CAPTIONS = "[...document.querySelectorAll('#train-compare-pictures .caption-label')].map(c => c.textContent)"


def test_compare_runs_shows_each_run_with_its_figures_and_picture(browser, one_slot, artifacts):
    finished = finished_runs(one_slot.url, {"beta half": 0.5, "beta four": 4.0})
    context, page = open_train_tab(browser, one_slot.url, SCREEN)
    page.locator("#train-compare").get_by_text("Compare runs").click()
    for name in ("beta half", "beta four"):
        wait_text(page, "#train-compare-table", name)
    wait_text(page, "#train-compare-table", "−ELBO")
    for name, view in finished.items():  # each run's figure as /job has it, in its row
        nelbo = round(view["figures"]["val_nelbo"], 2)
        row = page.locator("#train-compare-table [role=row]", has_text=view["id"])
        wait_shown(row, f"the comparison's row of {name!r}")
        assert f"{nelbo:g}" in row.inner_text(), (name, nelbo, row.inner_text())
    # A picture per run, captioned with its name, its beta and its −ELBO.
    wait_until(page, f"() => {{ const c = {CAPTIONS}; return c.some(t => t.includes('beta half · beta 0.5 · −ELBO'))"
               f" && c.some(t => t.includes('beta four · beta 4 · −ELBO')); }}", "a captioned picture of each run",
               last=f"() => {CAPTIONS}")
    page.locator("#train-compare-pictures").scroll_into_view_if_needed()  # its pictures load once in view
    wait_until(page, "() => [...document.querySelectorAll('#train-compare-pictures img')]"
               ".filter(i => i.complete && i.naturalWidth > 0).length >= 2", "two of the comparison's pictures to load",
               last="() => [...document.querySelectorAll('#train-compare-pictures img')].map(i => i.complete && i.naturalWidth)")

    # VAEs only, smallest beta first: the pictures follow the table's order.
    page.locator("#train-compare-model").get_by_text("VAE", exact=True).click()
    page.locator("#train-compare-sort input").click()
    page.get_by_role("option", name="Beta", exact=True).click()
    wait_until(page, f"""() => {{ const c = {CAPTIONS}, half = c.findIndex(t => t.startsWith('beta half')),
        four = c.findIndex(t => t.startsWith('beta four'));
        return half >= 0 && four > half; }}""", "the pictures in order of beta, beta half first", last=f"() => {CAPTIONS}")
    page.locator("#train-compare").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "train-compare-1280x720.png"))
    page.screenshot(path=str(artifacts / "train-compare-full.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.locator("#train-compare").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "train-compare-390x844.png"))
    page.screenshot(path=str(artifacts / "train-compare-390x844-full.png"), full_page=True)

    # A row of the comparison follows that run above.
    page.set_viewport_size(SCREEN)
    page.locator('#train-compare-table [data-testid^="cell-"]', has_text=finished["beta four"]["id"]).first.click()
    wait_text(page, "#train-status", "beta four")

    # Issue 25: Open in explorer lands at the explorer's top (its model, then its digit), not at the height the
    # Train tab was scrolled to.
    page.set_viewport_size(PHONE)
    wait_shown(page.locator("#train-open:enabled"), "the Open button to be enabled (a VAE run)")
    page.locator("#train-open").click()
    wait_until(page, "() => document.querySelector('[role=tab][aria-selected=true]')?.textContent.includes('Explore')",
               "the Explore tab to open", last="() => document.querySelector('[role=tab][aria-selected=true]')?.textContent")
    wait_until(page, "() => { const r = document.querySelector('#ll-model').getBoundingClientRect();"
               " return r.top >= -1 && r.top < 200; }", "the explorer's model choice at the top of the window",
               last="() => 'its top at ' + document.querySelector('#ll-model').getBoundingClientRect().top")
    context.close()
