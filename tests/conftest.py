"""Shared fixtures: a live app server (real checkpoints, a temporary runs folder) and headless Chromium."""

import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LATENT_LAB_DEVICE", "cpu")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Each test process (pytest-xdist runs two in `make test` and `make test-fast`) gets its own gradio file cache, so
# counting the files one app leaves behind is not disturbed by the other's. Gradio creates it on use.
if os.environ.get("PYTEST_XDIST_WORKER") or not os.environ.get("GRADIO_TEMP_DIR"):  # workers inherit the parent's
    os.environ["GRADIO_TEMP_DIR"] = f"{tempfile.gettempdir()}/latent-lab-tests-gradio-{os.getpid()}"
GRADIO_CACHE = os.environ["GRADIO_TEMP_DIR"]
# Imported once the path and gradio's cache folder above are set.
from types import SimpleNamespace  # noqa: E402

import gradio as gr  # noqa: E402
from browser_waits import WAIT_MS  # noqa: E402

from jobs import HostLimits, JobRunner  # noqa: E402
from ui.train.page import TrainPage  # noqa: E402
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def bare_train_page(jobs: JobRunner) -> TrainPage:
    """Return a TrainPage over `jobs`, built in a Blocks of its own beside a stand-in explorer (nothing is served)."""
    with gr.Blocks():
        with gr.Tabs() as tabs:
            with gr.Tab("Explore"):
                explore = SimpleNamespace(model_selector=gr.Dropdown([]))
            with gr.Tab("Train") as tab:
                return TrainPage(None, jobs, explore, tabs, tab)


@pytest.fixture(scope="module")
def train_page(tmp_path_factory):
    """A TrainPage over an empty runs folder (nothing is served)."""
    jobs = JobRunner(tmp_path_factory.mktemp("form-runs"), HostLimits(max_epochs=100), supervise=False)
    yield bare_train_page(jobs)
    jobs.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def own_gradio_cache():
    """Remove this process's gradio cache when its tests end (unless the caller chose the folder)."""
    yield
    if Path(GRADIO_CACHE).name.startswith("latent-lab-tests-gradio-"):
        shutil.rmtree(GRADIO_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    """An empty runs folder for the app under test (never the project's own runs/)."""
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def live_app(runs_dir):
    """The real app (shipped checkpoints, in-process models) served on a free port; yields its URL."""
    import app

    lab = app.build_app(runs_dir=runs_dir, limits=app.limits_from_env())
    app.serve(lab, server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield lab.blocks.local_url.rstrip("/")
    lab.close()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (its own browser download does not work here)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium package.")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_context(browser, **options):
    """A fresh browser context (its own session) whose actions, navigations and waits have a deadline of
    browser_waits.WAIT_MS: tests wait for events, never for a set time, and the deadline only turns a hang
    into a failure that says what it waited for (tests/browser_waits.py gives the sentence)."""
    context = browser.new_context(**options)
    context.set_default_timeout(WAIT_MS)
    context.set_default_navigation_timeout(WAIT_MS)
    return context


@pytest.fixture
def page(browser, live_app):
    """A fresh browser page (own context = own session) opened on the app."""
    context = open_context(browser, viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.goto(live_app)
    yield pg
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for screenshots and other test artifacts (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Tiny models run fastest, and steadiest on a shared 2-core machine, on one CPU thread
    (tiny recurrent nets were ~100x slower with two contended threads)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def digits():
    """The real mnist-5k data set (4,500 train / 500 validation digits), on the CPU."""
    from genmodels.data import load_dataset

    return load_dataset("mnist-5k", device="cpu")


def run_folders(runs_dir):
    """Registry extra folders as the app had them before jobs: each <runs_dir>/<name>/checkpoint as run-<name>."""
    return lambda: {f"run-{p.parent.name}": p for p in sorted(Path(runs_dir).glob("*/checkpoint"))}


def finished_run(runs_dir: Path, job_id: str, model_type: str, model_config, train_config, owner="",
                 name="") -> Path:
    """Train a model in-process into a job folder of `runs_dir` recorded as a finished job; return the folder."""
    import dataclasses
    import time

    from genmodels.train import train
    from jobs.records import JobFolder

    folder = JobFolder(runs_dir, job_id)
    result = train(model_type, model_config, train_config, out=folder.checkpoint)
    now = time.time()
    folder.save_record({
        "id": job_id, "name": name, "model_type": model_type, "model_config": dataclasses.asdict(model_config),
        "train_config": dataclasses.asdict(train_config), "status": "done", "owner": owner, "created": now,
        "queued": now, "started": now, "finished": now, "pid": None, "error": None, "cancel_requested": None,
        "target_epochs": len(result.history), "segments": [{"epochs": train_config.epochs, "resume": False}]})
    return folder.path


@pytest.fixture(scope="session")
def latent8_run(runs_dir):
    """A finished run of a tiny VAE with 8 latent dimensions in the app's runs folder; returns its model name."""
    from genmodels import VAEConfig
    from genmodels.train import TrainConfig

    finished_run(runs_dir, "20250101-000000-0008", "vae", VAEConfig(latent_dim=8, hidden_size=32),
                 TrainConfig(epochs=1, device="cpu", nll_samples=0), name="latent 8")
    return "run-20250101-000000-0008"
