"""Latent Lab: explore a VAE's latent space and watch an RNN read digits. `python app.py` serves it.

This file owns the paths and the settings read from the environment; each tab lives in its own
module under ui/, background training in jobs/, and all model work in genmodels (which never
imports gradio).
"""

import ctypes
import os
from pathlib import Path
from typing import NamedTuple

import gradio as gr
from starlette.middleware import Middleware

import i18n
from genmodels.registry import CHECKPOINTS_DIR, ModelRegistry
from jobs import HostLimits, JobRunner
from ui import a11y, cache, gradio_internals, language, lesson
from ui.errors import answer_refused_inputs, refuse_foreign_files
from ui.guards import bound_bodies, security_headers
from ui.limits import MAX_UPLOAD_BYTES
from ui.page_cache import cache_page
from ui.theme import THEME
from ui.inpage import SCRIPT_URL as INPAGE_SCRIPT_URL
from ui.inpage import InPageModels
from ui.explore import API_FILES, EXPLORE_CSS, build_explore_tab
from ui.train import build_train_tab
from ui.write import build_write_tab
from ui.teacher import TeacherChannel

PROJECT_DIR = Path(__file__).resolve().parent
CACHE_CLEANUP = (60, 120)  # every N seconds, delete the app's cached files older than M seconds
MALLOC_ARENAS = 2  # glibc malloc arenas for the server's threads (cap_malloc_arenas)
M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's <malloc.h>


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() else default


def _env_seconds(name: str, default: float) -> float:
    """Return a LATENT_LAB_* number of seconds (or a rate): finite and not negative, else `default`."""
    try:
        value = float(os.environ.get(name, "").strip())
    except ValueError:
        return default
    return value if 0 <= value < 1e9 else default


def runs_dir_from_env() -> Path:
    """Return the runs folder: LATENT_LAB_RUNS_DIR, else /data/latent-lab-runs where a Space has
    persistent storage (/data), else runs/ in the project."""
    if os.environ.get("LATENT_LAB_RUNS_DIR"):
        return Path(os.environ["LATENT_LAB_RUNS_DIR"])
    if Path("/data").is_dir() and os.access("/data", os.W_OK):
        return Path("/data/latent-lab-runs")
    return PROJECT_DIR / "runs"


def limits_from_env() -> HostLimits:
    """Return the training limits set by LATENT_LAB_* variables (docs/hosting.md, "Settings")."""
    defaults = HostLimits()
    return HostLimits(
        enabled=os.environ.get("LATENT_LAB_TRAINING", "on").strip().lower() not in ("off", "0", "false", "no"),
        max_concurrent=max(1, _env_int("LATENT_LAB_MAX_JOBS", defaults.max_concurrent)),
        max_queue=_env_int("LATENT_LAB_MAX_QUEUE", defaults.max_queue),
        jobs_per_owner=_env_int("LATENT_LAB_JOBS_PER_OWNER", defaults.jobs_per_owner),
        max_epochs=max(1, _env_int("LATENT_LAB_MAX_EPOCHS", defaults.max_epochs)),
        max_runs=_env_int("LATENT_LAB_MAX_RUNS", defaults.max_runs),
        runs_per_owner=_env_int("LATENT_LAB_RUNS_PER_OWNER", defaults.runs_per_owner),
        keep_days=float(_env_int("LATENT_LAB_KEEP_DAYS", int(defaults.keep_days))),
        tiny_run_s=_env_seconds("LATENT_LAB_TINY_RUN_S", defaults.tiny_run_s),
        unopened_grace_s=_env_seconds("LATENT_LAB_UNOPENED_GRACE_S", defaults.unopened_grace_s),
        new_owners_per_minute=_env_seconds("LATENT_LAB_NEW_OWNERS_PER_MINUTE", defaults.new_owners_per_minute),
        new_owners_burst=max(1, _env_int("LATENT_LAB_NEW_OWNERS_BURST", defaults.new_owners_burst)),
        class_code=os.environ.get("LATENT_LAB_CLASS_CODE", "").strip(),
        ray_address=os.environ.get("LATENT_LAB_RAY_ADDRESS", defaults.ray_address).strip(),
    )


class LatentLab(NamedTuple):
    """What build_app returns: the Blocks to serve and the parts beside it that serve() and whoever closes the app need."""

    blocks: gr.Blocks
    jobs: JobRunner  # the runner of training jobs, for whoever closes the app (tests, a clean shutdown)
    inpage: InPageModels  # the page's own decoder and reader; serve() adds their routes

    def close(self) -> None:
        """Stop the server (when launched) and the job runner."""
        self.blocks.close()
        self.jobs.close()


def build_app(runs_dir=None, limits: HostLimits | None = None, checkpoints_dir=CHECKPOINTS_DIR,
              device=None) -> LatentLab:
    """Return the Latent Lab app (its Blocks, job runner and in-page models) over the shipped checkpoints and a
    runs folder (default: from the environment)."""
    jobs = JobRunner(runs_dir or runs_dir_from_env(), limits or limits_from_env())
    registry = ModelRegistry(checkpoints_dir, extra_folders=jobs.checkpoint_folders,
                             device=device or os.environ.get("LATENT_LAB_DEVICE") or None)
    # The title of the page as served (and of its link previews); the page's script puts its language's (language.js).
    with gr.Blocks(title=i18n.text("app.title", i18n.DEFAULT)) as demo:
        gr.Markdown(language.words("app.intro"))
        with gr.Tabs() as tabs:
            with gr.Tab(language.words("app.tab.explore"), id="explore"):
                explore = build_explore_tab(registry)
            with gr.Tab(language.words("app.tab.write"), id="write"):
                build_write_tab(registry)
            with gr.Tab(language.words("app.tab.train"), id="train") as train_tab:
                build_train_tab(registry, jobs, explore=explore, tabs=tabs, train_tab=train_tab)
        # On page open the explorer reads ?model=...&z=... and refreshes its model list.
        demo.load(explore.on_load.fn, explore.on_load.inputs, explore.on_load.outputs, api_visibility="private")
    # A file field given a path that was never uploaded (/etc/passwd) answers one sentence, page or API.
    refuse_foreign_files(demo)
    # A value a field cannot take (a dropdown value outside its choices) answers one sentence naming the field.
    answer_refused_inputs(demo)
    # Each call is answered in its caller's language (the page sends its visitor's choice).
    language.answer_in_callers_language(demo)
    return LatentLab(demo, jobs, InPageModels(explore.views))


def cap_malloc_arenas(count: int = MALLOC_ARENAS) -> bool:
    """Cap the malloc arenas glibc gives threads (unless the host sets its own); return whether it applied.

    By default glibc adds an arena per concurrently allocating thread (up to 8 per core), and the
    server's short-lived worker threads leave each arena fragmented by pictures and tensors: under a
    class its memory crept by megabytes a minute while Python's own heap stayed flat (BENCHMARKS.md,
    "A class of 50"). Arenas made before the call stay; every thread started later shares these.
    """
    if "MALLOC_ARENA_MAX" in os.environ or "glibc.malloc.arena_max" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    try:
        return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, count))
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to cap
        return False


def serve(lab: LatentLab, **launch_kwargs):
    """Queue and launch `lab`'s Blocks with the app's settings (tests use the same path as `python app.py`)."""
    cap_malloc_arenas()
    # Identical answers share one content-named file: gradio's components must write it whole, too.
    gradio_internals.make_cache_writes_atomic()
    launch_kwargs.setdefault("server_name", os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    port = os.environ.get("GRADIO_SERVER_PORT") or os.environ.get("PORT") or "7860"
    launch_kwargs.setdefault("server_port", int(port))
    # Uploads above this are refused by the server before any handler sees them.
    launch_kwargs.setdefault("max_file_size", MAX_UPLOAD_BYTES)
    launch_kwargs.setdefault("css", gradio_internals.STYLESHEET + EXPLORE_CSS)
    launch_kwargs.setdefault("theme", THEME)  # text contrast of at least 4.5:1 (ui/theme.py)
    # Gradio keeps per-session state (~0.4 MB each) for every API call that names no session; the
    # oldest go first beyond this bound, which is still ten times a class of fifty open pages.
    launch_kwargs.setdefault("state_session_capacity", 500)
    app_kwargs = dict(launch_kwargs.pop("app_kwargs", None) or {})
    # Every answer carries the security headers, a body over the bound is refused unread (ui/guards.py),
    # the page itself is built once and then served from memory (ui/page_cache.py), and it starts with
    # the script that picks its language (ui/language.py).
    app_kwargs["middleware"] = [*app_kwargs.get("middleware", []), Middleware(security_headers),
                                Middleware(bound_bodies), Middleware(cache_page), Middleware(language.speak_first)]
    # The in-page models, and the page scripts' one module of Gradio internals (ui/gradio_internals.py).
    app_kwargs["routes"] = [*app_kwargs.get("routes", []), *lab.inpage.routes(), gradio_internals.script_route()]
    # The lessons and their glossary (ui/lesson.py), and the teacher's view sent to the class (ui/teacher.py).
    teacher = TeacherChannel(os.environ.get("LATENT_LAB_TEACHER_KEY", ""))
    app_kwargs["routes"] += [*lesson.routes(), *teacher.routes(), *language.routes()]
    # Every minute, uploads and rendered pictures older than two minutes are deleted (ui/cache.py). A
    # page loads its pictures the moment they arrive and keeps them (switching tabs fetches nothing),
    # and an upload is read as it lands; only the interpolation GIF's download expires. The HTTP
    # API's newest files have a bound of their own (a script may reuse an upload while it uses it).
    app_kwargs.setdefault("lifespan", cache.sweeper(*CACHE_CLEANUP, spare=API_FILES.__contains__))
    launch_kwargs["app_kwargs"] = app_kwargs
    # Python serves the page itself, as in every test: Spaces turn on gradio's Node server-side
    # rendering by default, which would build the page elsewhere, past the page cache.
    launch_kwargs.setdefault("ssr_mode", False)
    # The page's own decoder and reader (ui/inpage.py); the page works without it, through the server.
    launch_kwargs.setdefault("head", f'<script src="{INPAGE_SCRIPT_URL}" defer></script>' + lesson.HEAD + a11y.HEAD)
    # Every word of ours built into the page, in every language (ui/language.py, i18n/).
    launch_kwargs.setdefault("i18n", language.I18N)
    return gradio_internals.queue(lab.blocks, default_concurrency_limit=4).launch(**launch_kwargs)


if __name__ == "__main__":
    serve(build_app())
