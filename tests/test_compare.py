"""Comparing finished runs without a server (jobs.compare and the Train tab's formatting of it): settings and
figures of each run, the sort orders and filters, the pictures, a malformed folder left out or shown without
a picture, and the reading of each run once per version of its files."""

import io
import time

import pytest
from PIL import Image

from jobs import HostLimits, JobRunner
from jobs.compare import ALL, BEST, NEWEST, RunComparison, check_model_filter, check_sort_key, sort_keys
from jobs.records import JobFolder, append_jsonl
from ui.train import compare as view

GRID = (484, 184)


def png_bytes(size=GRID, colour=128) -> bytes:
    out = io.BytesIO()
    Image.new("L", size, colour).save(out, "PNG")
    return out.getvalue()


def plant(runs_dir, job_id, model_type="vae", model_config=None, epochs=None, status="done", name="",
          finished=None, grid: bytes | None = None):
    """Write a job folder as the runner and worker leave it: job.json, metrics.jsonl, and a grid per epoch."""
    folder = JobFolder(runs_dir, job_id)
    folder.path.mkdir(parents=True)
    now = time.time()
    config = model_config or {"vae": {"latent_dim": 20, "hidden_size": 32, "beta": 1.0, "kl_warmup_epochs": 0},
                              "rnn": {"cell": "gru", "hidden_size": 64}, "writer": {"hidden_size": 64}}[model_type]
    folder.save_record({
        "id": job_id, "name": name, "model_type": model_type, "model_config": config,
        "train_config": {"dataset": "mnist-5k", "epochs": len(epochs or [1]), "lr": 0.001, "batch_size": 128,
                         "augment": False, "seed": 0, "device": "cpu", "data_dir": "/server/secret"},
        "status": status, "owner": "", "created": now, "queued": now, "started": now,
        "finished": finished or now, "pid": None, "error": None, "cancel_requested": None,
        "target_epochs": len(epochs or [1]), "segments": [{"epochs": len(epochs or [1]), "resume": False}]})
    for number, figures in enumerate(epochs or [], start=1):
        append_jsonl(folder.metrics_file, {"kind": "epoch", "epoch": number, **figures})
        if grid is not None:
            folder.samples.mkdir(exist_ok=True)
            (folder.samples / f"epoch-{number:03d}.png").write_bytes(grid)
    return folder


def vae_epoch(nelbo, kl):
    return {"val_nelbo": nelbo, "val_recon": nelbo - kl, "val_kl": kl}


@pytest.fixture
def runs(tmp_path):
    plant(tmp_path, "20250101-000000-0001", name="small beta", finished=1000.0, grid=png_bytes(),
          model_config={"latent_dim": 8, "hidden_size": 32, "beta": 0.5, "kl_warmup_epochs": 0},
          epochs=[vae_epoch(160.0, 40.0), vae_epoch(150.0, 42.0)])
    plant(tmp_path, "20250101-000000-0002", name="big beta", finished=2000.0, grid=png_bytes(colour=200),
          model_config={"latent_dim": 8, "hidden_size": 32, "beta": 4.0, "kl_warmup_epochs": 0},
          epochs=[vae_epoch(170.0, 12.0)])
    plant(tmp_path, "20250101-000000-0003", "rnn", name="reader", finished=3000.0,
          epochs=[{"val_accuracy": 0.9, "val_loss": 0.3}, {"val_accuracy": 0.95, "val_loss": 0.2}])
    plant(tmp_path, "20250101-000000-0004", "vae", status="running", epochs=[vae_epoch(140.0, 20.0)])
    plant(tmp_path, "20250101-000000-0005", "writer", status="cancelled", epochs=[{"val_nll": 90.0}])
    jobs = JobRunner(tmp_path, HostLimits(), supervise=False)
    yield tmp_path, jobs, RunComparison(jobs)
    jobs.close()


def titles(found) -> list[str]:
    return [run.title for run in found]


def test_every_finished_run_with_its_settings_and_best_figures(runs):
    _, _, comparison = runs
    found = comparison.runs()
    assert titles(found) == ["reader", "big beta", "small beta"]  # newest first; running and cancelled left out
    small = found[-1]
    assert small.settings == {"dataset": "mnist-5k", "epochs": 2, "batch_size": 128, "lr": 0.001, "augment": False,
                              "seed": 0, "latent_dim": 8, "hidden_size": 32, "beta": 0.5, "kl_warmup": 0}
    assert small.figures == {"best_epoch": 2, "val_nelbo": 150.0, "val_recon": 108.0, "val_kl": 42.0}
    assert small.grid_epoch == 2 and small.name == "run-20250101-000000-0001"
    assert found[0].figures == {"best_epoch": 2, "val_accuracy": 0.95, "val_loss": 0.2}
    assert "data_dir" not in str(found[0].as_dict())  # server settings never leave


def test_sort_orders_and_filters(runs):
    _, _, comparison = runs
    assert titles(comparison.runs("vae", "beta")) == ["small beta", "big beta"]
    assert titles(comparison.runs("vae", "val_kl")) == ["big beta", "small beta"]  # a loss: smallest first
    assert titles(comparison.runs("vae", BEST)) == ["small beta", "big beta"]  # the model's own rule: −ELBO
    # Runs without that figure go last, newest first.
    assert titles(comparison.runs(ALL, "val_accuracy")) == ["reader", "big beta", "small beta"]
    assert titles(comparison.runs("rnn")) == ["reader"] and comparison.runs("writer") == []
    assert "beta" in sort_keys("vae") and "beta" not in sort_keys("rnn") and sort_keys()[:2] == [NEWEST, BEST]


@pytest.mark.parametrize("call, message", [
    (lambda: check_model_filter("gan"), "model must be one of all, vae, rnn, writer, ae, got 'gan'."),
    (lambda: check_model_filter(["vae"]), "model must be one of all, vae, rnn, writer, ae, got 'list'."),
    (lambda: check_sort_key("beta", "rnn"), "sort_by must be one of newest, best,"),
    (lambda: check_sort_key(3), "sort_by must be one of"),
])
def test_unknown_filters_and_orders_get_one_sentence(call, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("(", r"\(")):
        call()


def test_none_means_the_defaults():
    assert check_model_filter(None) == ALL and check_sort_key(None) == NEWEST and check_model_filter(" VAE ") == "vae"


def test_each_run_is_read_once_per_version_of_its_files(runs):
    runs_dir, _, comparison = runs
    first = {run.id: run for run in comparison.runs()}
    again = {run.id: run for run in comparison.runs("vae", "beta")}
    assert all(again[job_id] is first[job_id] for job_id in again)  # the same objects: nothing was rebuilt
    append_jsonl(JobFolder(runs_dir, "20250101-000000-0002").metrics_file, {"kind": "epoch", "epoch": 2,
                                                                             **vae_epoch(120.0, 15.0)})
    after = {run.id: run for run in comparison.runs()}
    assert after["20250101-000000-0002"].figures["val_nelbo"] == 120.0
    assert after["20250101-000000-0001"] is first["20250101-000000-0001"]


def test_pictures_are_the_last_grid_as_a_png_and_a_bad_one_is_none(runs):
    runs_dir, _, comparison = runs
    by_title = {run.title: run for run in comparison.runs()}
    png = comparison.grid_png(by_title["small beta"])
    assert Image.open(io.BytesIO(png)).size == GRID and comparison.grid_png(by_title["reader"]) is None
    # A planted grid that is not a PNG, one too large to be a grid, and a missing one: no picture, no error.
    samples = JobFolder(runs_dir, "20250101-000000-0002").samples
    for bad in (b"<svg onload=alert(1)>", png_bytes((4000, 10))):
        (samples / "epoch-001.png").write_bytes(bad)
        assert comparison.grid_png(by_title["big beta"]) is None
    (samples / "epoch-001.png").unlink()
    assert comparison.grid_png(by_title["big beta"]) is None


def test_malformed_folders_are_left_out(runs):
    runs_dir, _, comparison = runs
    (runs_dir / "20250101-000000-0bad").mkdir()
    (runs_dir / "20250101-000000-0bad" / "job.json").write_text('{"id": "20250101-000000-0bad", "status": "done"')
    odd = plant(runs_dir, "20250101-000000-0dd0", name="odd settings",
                model_config={"latent_dim": [1, 2], "hidden_size": "x" * 300, "beta": None, "kl_warmup_epochs": 0},
                epochs=[{"val_nelbo": "NaN", "val_recon": 1.0}])
    (odd.metrics_file).open("a").write("not json\n{\"kind\": \"epoch\", \"epoch\": -3}\n")
    found = {run.id: run for run in comparison.runs()}
    assert "20250101-000000-0bad" not in found
    odd_run = found["20250101-000000-0dd0"]  # listed, with what could be read of it
    assert odd_run.settings["latent_dim"] is None and odd_run.settings["hidden_size"] is None
    assert odd_run.figures == {}
    table = view.frame(list(found.values()), ALL)
    assert table.loc[table["job"] == "20250101-000000-0dd0", "−ELBO"].tolist() == [None]


def test_the_table_and_the_captions(runs):
    _, _, comparison = runs
    found = comparison.runs("vae", "beta")
    table = view.frame(found, "vae")
    assert list(table.columns) == ["run", "Data set", "Epochs", "Batch size", "Learning rate", "Augment", "Seed",
                                   "Latent size", "Hidden size", "Beta", "KL warm-up", "−ELBO", "reconstruction",
                                   "KL", "best epoch", "finished", "job"]
    assert table["Beta"].tolist() == [0.5, 4.0] and table["Augment"].tolist() == ["no", "no"]
    types = dict(zip(table.columns, view.column_types(table)))
    assert types["Beta"] == types["−ELBO"] == "number" and types["run"] == types["Augment"] == "str"
    assert view.caption(found[0], "latent_dim") == "small beta · beta 0.5 · latent size 8 · −ELBO 150.0"
    everything = view.frame(comparison.runs(), ALL)
    assert {"model", "Cell", "accuracy %"} <= set(everything.columns)
    assert everything.loc[everything["run"] == "reader", "accuracy %"].tolist() == [95.0]
    assert everything.loc[everything["run"] == "reader", "Beta"].tolist() == [None]  # a RowRNN has no beta
    assert view.caption(comparison.runs("rnn")[0], NEWEST) == "reader · accuracy 95.0%"
