"""Shared fixtures: a live app server (real checkpoints, a temporary runs folder) and headless Chromium."""

import os
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LATENT_LAB_DEVICE", "cpu")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    """An empty runs folder for the app under test (never the project's own runs/)."""
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def live_app(runs_dir):
    """The real app (shipped checkpoints, in-process models) served on a free port; yields its URL."""
    import app
    from genmodels.registry import ModelRegistry

    demo = app.build_app(registry=ModelRegistry(runs_dir=runs_dir), runs_dir=runs_dir)
    app.serve(demo, server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield demo.local_url.rstrip("/")
    demo.close()


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


@pytest.fixture
def page(browser, live_app):
    """A fresh browser page (own context = own session) opened on the app."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
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


@pytest.fixture(scope="session")
def latent8_run(runs_dir):
    """A run checkpoint of a tiny VAE with 8 latent dimensions in the app's runs folder; returns its name."""
    from genmodels import VAEConfig
    from genmodels.train import TrainConfig, train

    train("vae", VAEConfig(latent_dim=8, hidden_dim=32), TrainConfig(epochs=1, device="cpu"),
          out=runs_dir / "explore-latent8" / "checkpoint")
    return "run-explore-latent8"
