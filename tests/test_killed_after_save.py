"""A worker killed after the trainer saved an epoch but before it wrote that epoch's metrics line and picture
grid (the previous checkpoint was still being deleted): the curves, the status and its message agree, and
the grid comes back when the job is resumed.

The state the kill leaves is made from a real finished job (its last epoch's line and grid removed,
its progress back to mid-epoch, its record still 'running'); then a real runner starts over it.
"""

import json

import pytest

from hostile import wait_for

from jobs import HostLimits, JobRunner
from jobs.records import JobFolder

OWNER = "killed-after-save-owner"
TINY = {"model": "vae", "dataset": "mnist-5k", "epochs": 2, "hidden_size": 32, "batch_size": 256}


@pytest.mark.slow
@pytest.mark.extended  # a host failure mode: make test-all
def test_an_epoch_saved_before_a_kill_keeps_its_line_and_its_grid(tmp_path):
    runs = tmp_path / "runs"
    runner = JobRunner(runs, HostLimits(), poll_s=0.2)
    try:
        job_id = runner.submit_settings(TINY, OWNER)
        assert runner.wait(job_id, timeout_s=300)["status"] == "done"
    finally:
        runner.close()
    folder = JobFolder(runs, job_id)
    lines = folder.metrics_file.read_text().splitlines()
    kept = [line for line in lines if not (json.loads(line).get("kind") == "epoch" and json.loads(line)["epoch"] == 2)]
    folder.metrics_file.write_text("\n".join(kept) + "\n")
    (folder.samples / "epoch-002.png").unlink()
    progress = json.loads(folder.progress_file.read_text())
    folder.progress_file.write_text(json.dumps(dict(progress, outcome=None, phase="training", epochs_done=1)))
    record = folder.record()
    folder.save_record(dict(record, status="running", finished=None, pid=None))

    runner = JobRunner(runs, HostLimits(), poll_s=0.2)  # starts over the folder as a restarted app does
    try:
        view = runner.status(job_id)
        assert view["status"] == "interrupted" and "epoch 2" in view["error"], view
        assert [e["epoch"] for e in runner.metrics(job_id)["epochs"]] == [1, 2]
        assert view["epochs_done"] == 2, view
        runner.resume(job_id, OWNER, 1)
        wait_for(lambda: runner.status(job_id)["status"] == "done", "the resumed job to finish",
                 last=lambda: runner.status(job_id))
        assert sorted(runner.sample_grids(job_id)) == [1, 2, 3]
        assert runner.grid_png(job_id, 2).startswith(b"\x89PNG")
    finally:
        runner.close()
