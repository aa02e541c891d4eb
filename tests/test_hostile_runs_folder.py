"""Every file the app reads from the runs folder is untrusted.

A property-based test writes random JSON shapes (deep nesting, wrong types, huge numbers, NaN,
strings where numbers belong, missing keys) and random bytes into one file of a run folder
(job.json, progress.json, metrics.jsonl, checkpoint/config.json, the .safetensors files) and
checks that the registry and the job runner keep working: the bad run is skipped or shown
sanely, the good run is still listed and loads. Named cases (a config.json nested 100,000 deep,
"class_names": 5, a job.json without status) are skipped and logged once, and never break the
list, the page-load handler or another user's training.
"""

import json
import logging
import math
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hostile import ROOT, copy_shipped_run, leaks, wait_job
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from genmodels.registry import ModelRegistry
from jobs import HostLimits, JobRunner
from jobs.records import JobFolder
from jobs.runner import hash_token

GOOD, BAD = "20250101-000000-0001", "20250102-000000-0bad"
OWNER = "hostile-owner-token"
TARGETS = ("job.json", "progress.json", "metrics.jsonl", "checkpoint/config.json",
           "checkpoint/model.safetensors", "checkpoint/latent.safetensors")
HUGE = [10 ** 400, -(10 ** 400), 2 ** 64, 1e308, -1e308]
GOOD_METRICS = [
    {"kind": "step", "segment": 0, "epoch": 1, "step": 5, "x": 0.5, "loss": 150.0, "time": 1.0},
    {"kind": "epoch", "segment": 0, "epoch": 1, "val_nelbo": 120.5, "val_recon": 100.0, "val_kl": 20.5,
     "train_recon": 101.0, "train_kl": 20.0, "seconds": 3.0, "time": 2.0},
]
GOOD_PROGRESS = {"segment": 0, "phase": "training", "epoch": 1, "epochs_done": 1, "step": 3,
                 "steps_per_epoch": 10, "fraction": 0.5, "eta_s": 12.0, "outcome": None, "error": None}


def _plant(runs: Path) -> None:
    """A good and a (soon to be) bad finished run, each with metrics and progress files."""
    for job_id in (GOOD, BAD):
        copy_shipped_run(runs, job_id, owner=hash_token(OWNER), name=f"run {job_id[-4:]}")
        folder = JobFolder(runs, job_id)
        folder.metrics_file.write_text("".join(json.dumps(m) + "\n" for m in GOOD_METRICS))
        folder.progress_file.write_text(json.dumps(GOOD_PROGRESS))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("template") / "runs"
    _plant(runs)
    return runs


# -- what hypothesis writes --------------------------------------------------------------------
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from(HUGE),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
nasty = st.sampled_from(HUGE + [math.nan, math.inf, -math.inf, "12", "", "nan", [], {}, None, True, -1, 0, 2.5,
                                "x" * 5000])
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=12)


def _original(runs: Path, target: str):
    path = runs / BAD / target
    if target.endswith(".jsonl"):
        return [json.loads(line) for line in path.read_text().splitlines()]
    return json.loads(path.read_text())


@st.composite
def damaged_json(draw, original):
    """The original document with a few keys replaced by random values or deleted, or another shape entirely."""
    kind = draw(st.sampled_from(["mutate", "mutate", "mutate", "random", "deep", "truncated"]))
    if kind == "random":
        return json.dumps(draw(json_values), allow_nan=True)
    if kind == "deep":
        depth = draw(st.integers(500, 120_000))
        return draw(st.sampled_from(["[", '{"a":'])) * depth + "1" + "]" * depth
    if kind == "truncated":
        text = json.dumps(original)
        return text[:draw(st.integers(0, len(text) - 1))]
    doc = json.loads(json.dumps(original))
    for _ in range(draw(st.integers(1, 4))):
        node = doc
        keys = sorted(node) if isinstance(node, dict) else []
        # Sometimes go one level deeper (model settings, train settings, metrics, files).
        if keys and draw(st.booleans()):
            inner = [k for k in keys if isinstance(node[k], dict) and node[k]]
            if inner:
                node = node[draw(st.sampled_from(inner))]
                keys = sorted(node)
        if not keys:
            break
        key = draw(st.sampled_from(keys))
        if draw(st.integers(0, 4)) == 0:
            del node[key]
        else:
            node[key] = draw(st.one_of(nasty, json_values))
    return json.dumps(doc, allow_nan=True)


@st.composite
def damaged_file(draw):
    """(target file, its new bytes)."""
    target = draw(st.sampled_from(TARGETS))
    if target.endswith(".safetensors"):
        original = (ROOT / "checkpoints" / "vae-mnist" / Path(target).name).read_bytes()
        kind = draw(st.sampled_from(["bytes", "truncated", "flipped", "header"]))
        if kind == "bytes":
            return target, draw(st.binary(max_size=2000))
        if kind == "truncated":
            return target, original[:draw(st.integers(0, len(original) - 1))]
        if kind == "header":  # a safetensors header claiming absurd sizes
            header = draw(st.sampled_from([b'{"w":{"dtype":"F32","shape":[100000000000],"data_offsets":[0,4]}}',
                                           b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4000000000000]}}',
                                           b"[" * 100000]))
            return target, len(header).to_bytes(8, "little") + header + b"\0" * 8
        at = draw(st.integers(0, len(original) - 1))
        return target, original[:at] + bytes([original[at] ^ 0xFF]) + original[at + 1:]
    if target.endswith(".jsonl"):
        lines = [draw(damaged_json(line)) for line in _original_lines()]
        if draw(st.booleans()):
            lines.append(draw(st.binary(max_size=200)).decode("latin-1"))
        return target, "\n".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:
        return target, draw(st.binary(max_size=500))
    return target, draw(damaged_json(_ORIGINALS[target])).encode()


def _original_lines():
    return GOOD_METRICS


def _write(runs: Path, target: str, data: bytes) -> None:
    path = runs / BAD / target
    path.unlink(missing_ok=True)  # the template's files are hard links: never write through them
    path.write_bytes(data)


def _job_json_template() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        _plant(Path(tmp))
        return {t: _original(Path(tmp), t) for t in TARGETS if t.endswith(".json")}


_ORIGINALS = _job_json_template()


def _sane_view(view: dict) -> None:
    """A status view a client can be sent: strict JSON, machine-size numbers, no server paths."""
    text = json.dumps(view, allow_nan=False)
    assert not leaks(text), text[:300]

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, int):
            assert abs(value) < 2 ** 53, value
        elif isinstance(value, float):
            assert math.isfinite(value)
    walk(view)


def check_app_copes(runs: Path) -> None:
    """The runner and registry over `runs` keep working; the good run is listed and loads; the bad one is sane."""
    runner = JobRunner(runs, HostLimits(max_concurrent=0), supervise=False)  # nothing ever starts here
    registry = ModelRegistry(runs / "no-shipped-checkpoints", extra_folders=runner.checkpoint_folders, device="cpu")
    for _ in range(2):
        runner.refresh()
        views = runner.list_jobs()
        assert GOOD in [v["id"] for v in views]
        for view in views:
            _sane_view(view)
        names = registry.names()
        assert f"run-{GOOD}" in names
        registry.entries("vae")
    good = runner.status(GOOD)
    assert good["status"] == "done" and good["has_checkpoint"]
    assert registry.load(f"run-{GOOD}") is not None
    for call in (lambda: runner.status(BAD), lambda: runner.metrics(BAD), lambda: runner.log_tail(BAD, OWNER),
                 lambda: runner.is_owner(BAD, OWNER), lambda: runner.cancel(BAD, OWNER, wait=False),
                 lambda: runner.resume(BAD, OWNER, 1), lambda: registry.load(f"run-{BAD}"),
                 lambda: registry.classifier_for(f"run-{BAD}")):
        try:
            result = call()
        except ValueError as error:
            assert not leaks(str(error), runs), str(error)
            continue
        if isinstance(result, dict):
            _sane_view(result)
    runner.close(stop_jobs=False)


@settings(max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(damaged_file())
@example(damage=("job.json", json.dumps({**_ORIGINALS["job.json"], "model_type": []}).encode()))  # once unhashable
@example(damage=("checkpoint/config.json", json.dumps({**_ORIGINALS["checkpoint/config.json"], "model_type": {}}).encode()))
def test_random_damage_to_one_file_of_a_run_never_breaks_the_list_or_the_other_runs(template, damage):
    target, data = damage
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        shutil.copytree(template, runs, copy_function=os.link)
        _write(runs, target, data)
        check_app_copes(runs)


# -- named cases: skipped, logged once, never in the way ---------------------------------------
def _named_cases(runs: Path) -> dict[str, Path]:
    """Three broken runs beside a good one; returns {case: the file that is broken}."""
    _plant(runs)  # GOOD and BAD
    deep_id, classes_id, status_id = "20250103-000000-0dee", "20250104-000000-0c1a", "20250105-000000-05a7"
    for job_id in (deep_id, classes_id, status_id):
        copy_shipped_run(runs, job_id, owner=hash_token("someone"))
    deep = JobFolder(runs, deep_id).checkpoint / "config.json"
    deep.unlink()
    deep.write_text("[" * 100_000 + "]" * 100_000)
    classes = JobFolder(runs, classes_id).checkpoint / "config.json"
    config = json.loads(classes.read_text())
    config["class_names"] = 5
    classes.unlink()
    classes.write_text(json.dumps(config))
    record_file = JobFolder(runs, status_id).job_file
    record = json.loads(record_file.read_text())
    del record["status"]
    record_file.write_text(json.dumps(record))
    shutil.rmtree(runs / BAD)
    return {"deep": deep, "class_names": classes, "no status": record_file}


def _warnings_about(caplog, path: Path) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and str(path) in r.getMessage()]


def test_named_broken_runs_are_skipped_and_logged_once_over_many_refreshes(tmp_path, caplog):
    runs = tmp_path / "runs"
    broken = _named_cases(runs)
    caplog.set_level(logging.WARNING)
    runner = JobRunner(runs, HostLimits(max_concurrent=0), supervise=False)
    registry = ModelRegistry(tmp_path / "none", extra_folders=runner.checkpoint_folders, device="cpu")
    for _ in range(5):  # the page polls: several refreshes, lists and model lists
        runner.refresh()
        listed = [v["id"] for v in runner.list_jobs()]
        names = registry.names()
        assert GOOD in listed and f"run-{GOOD}" in names
        assert "run-20250103-000000-0dee" not in names and "run-20250104-000000-0c1a" not in names
        assert "20250105-000000-05a7" not in listed
    for case, path in broken.items():
        folder = path.parent.parent if case != "no status" else path.parent
        found = _warnings_about(caplog, folder)
        assert len(found) == 1, f"{case}: {found}"


def test_the_page_load_handler_works_over_broken_runs(tmp_path):
    import app

    runs = tmp_path / "runs"
    _named_cases(runs)
    lab = app.build_app(runs_dir=runs, limits=HostLimits(max_concurrent=0))
    try:
        load = next(f for f in lab.blocks.fns.values() if getattr(f.fn, "__name__", "") == "on_load")
        outputs = load.fn(None)  # no request: the page opened without a shared link
        assert outputs is not None
        lists = [o["choices"] for o in (outputs.values() if isinstance(outputs, dict) else outputs)
                 if isinstance(o, dict) and "choices" in o]
        names = {c[-1] if isinstance(c, (list, tuple)) else c for choices in lists for c in choices}
        assert f"run-{GOOD}" in names  # the model list offers the good run ...
        assert not {"run-20250103-000000-0dee", "run-20250104-000000-0c1a"} & names  # ... and none of the broken
    finally:
        lab.jobs.close()


@pytest.mark.slow
def test_a_good_job_trains_to_done_beside_broken_runs(tmp_path, caplog):
    runs = tmp_path / "runs"
    broken = _named_cases(runs)
    caplog.set_level(logging.WARNING)
    runner = JobRunner(runs, HostLimits(), poll_s=0.2)
    try:
        job_id = runner.submit_settings({"model": "vae", "dataset": "mnist-5k", "epochs": 1, "hidden_size": 32,
                                         "batch_size": 256}, "another-user-token")
        view = wait_job(runner, job_id)
        assert view["status"] == "done", runner.log_tail(job_id, "another-user-token")
        registry = ModelRegistry(tmp_path / "none", extra_folders=runner.checkpoint_folders, device="cpu")
        assert {f"run-{job_id}", f"run-{GOOD}"} <= set(registry.names())
    finally:
        runner.close()
    for case, path in broken.items():  # the supervisor refreshed many times meanwhile
        folder = path.parent.parent if case != "no status" else path.parent
        assert len(_warnings_about(caplog, folder)) == 1, case
