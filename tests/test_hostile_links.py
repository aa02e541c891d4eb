"""Links, devices and pipes planted in the runs folder, and damaged run files, against the real app over HTTP.

The runs folder is untrusted (shared storage, an older version's, a restored backup): nothing in it
is read through a link, no special file is read, every read is bounded, and a damaged file shows a
sentence where it is used while every other run keeps working.
"""

import json
import os
import shutil
import struct
import zlib

from types import SimpleNamespace

import gradio as gr
import pytest

from hostile import ServedApp, ServerLog, api_call, copy_shipped_run, error_sentence, leaks

from jobs import HostLimits
from jobs.records import JobFolder
from jobs.runner import hash_token
from ui.errors import user_errors
from ui.train.page import TrainPage

OWNER = "link-test-owner-token"
Z = json.dumps([0.0] * 20)
GOOD, LOG_LINK, METRICS_ZERO, WEIGHTS_ZERO, METRICS_FIFO, LINKED_RUN, RECORD_LINK = (
    "20250101-000000-0a00", "20250101-000000-0a01", "20250101-000000-0a02", "20250101-000000-0a03",
    "20250101-000000-0a04", "20250101-000000-0a05", "20250101-000000-0a06")
TEXT_GRID, HUGE_GRID, GRID_LINK = "20250101-000000-0a07", "20250101-000000-0a08", "20250101-000000-0a09"
CALL_S = 120  # an answer within this, or the read was not bounded (a deadline, not a speed claim)


def huge_png(width: int, height: int) -> bytes:
    """Return a PNG whose header claims width x height pixels (its data is a few bytes: never decoded here)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def epoch_lines(n: int) -> str:
    return "".join(json.dumps({"kind": "epoch", "epoch": e, "val_nelbo": 100.0 - e, "val_recon": 90.0,
                               "val_kl": 10.0, "train_nelbo": 101.0}) + "\n" for e in range(1, n + 1))


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    runs = tmp_path_factory.mktemp("linked-runs")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    for job_id in (GOOD, LOG_LINK, METRICS_ZERO, WEIGHTS_ZERO, METRICS_FIFO, RECORD_LINK, TEXT_GRID, HUGE_GRID,
                   GRID_LINK):
        copy_shipped_run(runs, job_id, owner=hash_token(OWNER))
        JobFolder(runs, job_id).metrics_file.write_text(epoch_lines(2))
    os.symlink("/etc/passwd", JobFolder(runs, LOG_LINK).log_file)
    os.replace(JobFolder(runs, METRICS_ZERO).metrics_file, elsewhere / "unused")
    os.symlink("/dev/zero", JobFolder(runs, METRICS_ZERO).metrics_file)
    os.unlink(JobFolder(runs, WEIGHTS_ZERO).checkpoint / "model.safetensors")
    os.symlink("/dev/zero", JobFolder(runs, WEIGHTS_ZERO).checkpoint / "model.safetensors")
    os.unlink(JobFolder(runs, METRICS_FIFO).metrics_file)
    os.mkfifo(JobFolder(runs, METRICS_FIFO).metrics_file)
    # a whole run folder that is a link to a run elsewhere
    copy_shipped_run(elsewhere, LINKED_RUN, owner=hash_token(OWNER))
    os.symlink(elsewhere / LINKED_RUN, runs / LINKED_RUN)
    # a record that is a link to a good record elsewhere
    record = JobFolder(runs, RECORD_LINK).job_file
    shutil.copy(record, elsewhere / "job.json")
    os.unlink(record)
    os.symlink(elsewhere / "job.json", record)
    # picture grids: text, a header claiming 20000x20000 pixels, a link to /etc/passwd
    for job_id in (TEXT_GRID, HUGE_GRID, GRID_LINK):
        JobFolder(runs, job_id).samples.mkdir()
    (JobFolder(runs, TEXT_GRID).samples / "epoch-001.png").write_text("this is not a picture\n")
    (JobFolder(runs, HUGE_GRID).samples / "epoch-001.png").write_bytes(huge_png(20000, 20000))
    os.symlink("/etc/passwd", JobFolder(runs, GRID_LINK).samples / "epoch-001.png")
    with ServedApp(runs, HostLimits(max_concurrent=1)) as served:
        yield served


def page_over(runner) -> TrainPage:
    """Return a Train tab's page over `runner`, built in a Blocks of its own (its handlers are called directly)."""
    with gr.Blocks():
        with gr.Tabs() as tabs:
            with gr.Tab("Explore"):
                explore = SimpleNamespace(model_selector=gr.Dropdown([]))
            with gr.Tab("Train") as tab:
                return TrainPage(None, runner, explore, tabs, tab)


def job(planted, job_id):
    event, data = api_call(planted.url, "job", f'["{job_id}", "{OWNER}"]', timeout_s=CALL_S)
    assert event == "complete", (job_id, data)
    assert not leaks(data, planted.runs_dir), data
    return data[0]


def test_a_log_linked_to_etc_passwd_is_not_shown(planted):
    with open("/etc/passwd") as f:
        first = f.readline().split(":")[0] + ":x:"
    tail = job(planted, LOG_LINK)["log_tail"]
    assert first not in tail and "not read" in tail, tail


def test_metrics_linked_to_dev_zero_give_a_sentence_not_a_read_without_end(planted):
    data = job(planted, METRICS_ZERO)
    assert data["metrics"]["epochs"] == [] and "cannot be used" in data["problem"], data["problem"]


def test_metrics_that_are_a_fifo_give_a_sentence_not_a_wait(planted):
    data = job(planted, METRICS_FIFO)
    assert data["metrics"]["epochs"] == [] and "not read" in data["problem"], data["problem"]


def test_weights_linked_to_dev_zero_get_a_sentence_and_other_models_keep_loading(planted, capfd):
    capfd.readouterr()
    with ServerLog() as log:
        message = error_sentence(*api_call(planted.url, "decode", f'[{Z}, "run-{WEIGHTS_ZERO}"]', timeout_s=CALL_S))
    assert "cannot be loaded" in message and not leaks(message, planted.runs_dir), message
    assert not log.tracebacks(), log.tracebacks()
    for model in (f"run-{GOOD}", "vae-mnist"):  # the model locks are free: other models load
        event, data = api_call(planted.url, "decode", f'[{Z}, "{model}"]', timeout_s=CALL_S)
        assert event == "complete", (model, data)


def test_a_run_folder_that_is_a_link_is_neither_listed_nor_served(planted):
    event, (listed,) = api_call(planted.url, "jobs", "[]", timeout_s=CALL_S)
    assert event == "complete"
    ids = {view["id"] for view in listed}
    assert GOOD in ids and LINKED_RUN not in ids and RECORD_LINK not in ids, sorted(ids)
    for job_id in (LINKED_RUN, RECORD_LINK):
        message = error_sentence(*api_call(planted.url, "job", f'["{job_id}", "{OWNER}"]', timeout_s=CALL_S))
        assert "no job" in message.lower() or "cannot be read" in message, message
    message = error_sentence(*api_call(planted.url, "decode", f'[{Z}, "run-{LINKED_RUN}"]', timeout_s=CALL_S))
    assert "Unknown model" in message, message


@pytest.mark.parametrize("job_id, words", [(TEXT_GRID, "damaged or not a PNG"), (HUGE_GRID, "larger than any grid"),
                                           (GRID_LINK, "not read")], ids=["text", "20000x20000", "link"])
def test_a_damaged_picture_grid_shows_a_sentence_where_it_is_used(planted, job_id, words, capfd):
    """/job, the Train tab's grid and its epoch slider, and /runs with pictures: a sentence, no traceback."""
    runner = planted.lab.jobs
    page = page_over(runner)
    capfd.readouterr()
    with ServerLog() as log:
        assert job(planted, job_id)["sample_epochs"] in ([1], [])
        shown = page.show(job_id, OWNER)
        grid = shown[page.live.grid]
        assert words in grid.label and grid.value is None, grid.label
        scrubbed = user_errors(page.on_scrub)(1, job_id)
        assert scrubbed.value is None and words in scrubbed.label, scrubbed.label
        event, (runs,) = api_call(planted.url, "runs", '["all", "newest", true]', timeout_s=CALL_S)
        assert event == "complete"
        assert [r["grid_png"] for r in runs if r["id"] == job_id] in ([None], []), "a damaged grid was served"
        with pytest.raises(ValueError, match=words):
            runner.grid_png(job_id, 1)
    assert not log.tracebacks(), log.tracebacks()
    assert "Traceback" not in capfd.readouterr().err


def test_the_good_run_beside_them_keeps_working(planted):
    data = job(planted, GOOD)
    assert [e["epoch"] for e in data["metrics"]["epochs"]] == [1, 2] and data["problem"] is None
    event, _ = api_call(planted.url, "decode", f'[{Z}, "run-{GOOD}"]', timeout_s=CALL_S)
    assert event == "complete"


def test_garbage_metrics_lines_are_left_out_with_a_sentence(planted):
    folder = JobFolder(planted.runs_dir, GOOD)
    with open(folder.metrics_file, "a") as f:
        f.write('{"kind": "epoch", "epo\n\x00\x01garbage\n')
        f.write(json.dumps({"kind": "epoch", "epoch": 3, "val_nelbo": 96.0, "val_recon": 90.0, "val_kl": 6.0}) + "\n")
    data = job(planted, GOOD)
    assert [e["epoch"] for e in data["metrics"]["epochs"]] == [1, 2, 3]
    assert "2 lines" in data["problem"], data["problem"]


def test_a_damaged_record_hides_its_run_with_the_others_listed(planted):
    folder = JobFolder(planted.runs_dir, TEXT_GRID)
    folder.job_file.write_text('{"id": "' + TEXT_GRID + '", "status": ')
    event, (listed,) = api_call(planted.url, "jobs", "[]", timeout_s=CALL_S)
    assert event == "complete" and GOOD in {v["id"] for v in listed} and TEXT_GRID not in {v["id"] for v in listed}
    message = error_sentence(*api_call(planted.url, "job", f'["{TEXT_GRID}", "{OWNER}"]', timeout_s=CALL_S))
    assert "cannot be read" in message, message
