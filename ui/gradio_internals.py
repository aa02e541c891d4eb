"""Every Gradio internal the server side relies on, each behind one named function.

The app uses Gradio's public API wherever one does the job; what is left is here, and only here. Each
function's docstring names the internal it relies on and why no public API does it, and
tests/test_gradio_internals.py checks each against the installed Gradio, failing with a sentence that
names the version: upgrading Gradio is one test run, not an audit. The page scripts' counterpart is
ui/static/gradio_internals.js (served at SCRIPT_URL, loaded through gr.HTML's public `head`), and the
stylesheet's is ui/static/gradio_internals.css (STYLESHEET, every rule over Gradio's markup).
"""

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Callable

import gradio as gr
import gradio.exceptions as gradio_exceptions
import gradio.i18n as gradio_i18n
import gradio.processing_utils as gradio_processing
from gradio.context import get_blocks_context
from gradio.utils import get_type_hints, get_upload_folder
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

import i18n

GRADIO_VERSION = gr.__version__  # the version these internals were checked against names itself in failures
STATIC_DIR = Path(__file__).resolve().parent / "static"
SCRIPT = "gradio_internals.js"
# The page's rules over Gradio's own markup (the stylesheet counterpart of SCRIPT), served in launch's `css`.
STYLESHEET = (STATIC_DIR / "gradio_internals.css").read_text()
SCRIPT_URL = f"/latent-lab/static/{SCRIPT}"  # beside ui/inpage.py's script, under the same prefix
# The tag a gr.HTML passes as `head`: Gradio loads it before that component's js_on_load runs.
SCRIPT_HEAD = f'<script src="{SCRIPT_URL}"></script>'
# The route gradio receives uploads on (its API_PREFIX and "/upload"): launch's max_file_size bounds it.
UPLOAD_ROUTE = "/gradio_api/upload"
# Headers gradio derives the page's root URL from (route_utils.get_request_origin); ASGI names are lower case.
ROOT_HEADERS = (b"host", b"x-forwarded-host", b"x-forwarded-proto", b"x-gradio-server")
# How often, and over how many of the latest events, the queue summarises its events for gradio's
# monitoring dashboard (gradio's defaults: after every event, over the last 10,000).
QUEUE_ANALYTICS = {"GRADIO_ANALYTICS_CACHE_FREQUENCY": "1000", "GRADIO_ANALYTICS_MAX_EVENTS": "1000"}
# What gr.I18n(...)(key) returns, a text the page translates: ui.language.shown reads its key to render it
# on the server (a field's label in a refusal). Internal: gradio.i18n.I18nData; the page's config holds it
# as {"__type__": I18N_TEXT_TYPE, "key": key}, or as that JSON after I18N_TEXT_PREFIX where a component made
# it a string (str(I18nData)). gr.I18n offers no public way back from the text to its key.
I18N_TEXT = gradio_i18n.I18nData
I18N_TEXT_TYPE = "translation_metadata"
I18N_TEXT_PREFIX = "__i18n__"


def current_blocks() -> gr.Blocks:
    """Return the Blocks being built (inside `with gr.Blocks()`), the one gr.api registers endpoints in.

    Internal: gradio.context.get_blocks_context().root_block. The tabs register their endpoints with
    gr.api, which returns a Dependency that does not name its Blocks, and no public call returns the
    Blocks of the current `with` block.
    """
    return get_blocks_context().root_block


def before_each_call(blocks: gr.Blocks, check: Callable[[str | None, list, list], None]) -> None:
    """Make `blocks` call `check(api_name, components, inputs)` with each call's input components and raw input
    list, page events and API calls alike, before Gradio checks it.

    `check` may extend `inputs` in place (Gradio then goes on with the longer list) or raise gr.Error,
    which the caller receives as it is. Internal: Blocks.validate_inputs(block_fn, inputs), which
    Blocks.preprocess_data calls first with the caller's list, before the argument count and the
    "file not in the upload folder" checks (which answer a missing argument or a foreign file with a
    logged traceback and `{"error": null}`), and BlockFunction.api_name and .inputs. The public
    `validator=` of event listeners exists neither on gr.api nor for queue=False events, and cannot
    fill in defaults.
    """
    validate = blocks.validate_inputs

    def validate_inputs(block_fn, inputs):
        check(getattr(block_fn, "api_name", None), list(getattr(block_fn, "inputs", [])), inputs)
        return validate(block_fn, inputs)

    blocks.validate_inputs = validate_inputs


def on_each_call(blocks: gr.Blocks, enter: Callable[[object], None]) -> None:
    """Make `blocks` call `enter(request)` (a gr.Request, or None for a call without one) at the start of each call,
    page events and API calls alike, in the context the call's checks, handler and answer run in.

    What `enter` sets in a contextvars.ContextVar holds for the whole call, its handler's thread
    included (anyio copies the context into it). Internal: Blocks.process_api(block_fn, inputs, state,
    request, ...), which the queue and the HTTP API call for every event; its `request` is a list for a
    batched event. No public hook runs before gradio's own input checks, whose refusals (ui/errors.py)
    must be in the caller's language too.
    """
    process_api = blocks.process_api

    async def process_api_entered(block_fn, inputs, state=None, request=None, *args, **kwargs):
        enter(request[0] if isinstance(request, list) and request else request)
        return await process_api(block_fn, inputs, state, request, *args, **kwargs)

    blocks.process_api = process_api_entered


def on_refused_input(blocks: gr.Blocks, answer: Callable[[list, list, list], gr.Error]) -> None:
    """Make `blocks` answer `answer(components, inputs, session_components)` (a gr.Error) for a call whose value a
    component's own check refuses, page events and API calls alike, instead of gradio's answer.

    `session_components` are the components as this visitor's session holds them (a dropdown's
    choices as the page last updated them). Internal: Blocks.preprocess_data(block_fn, inputs, state,
    ...), where gradio runs each component's preprocess; a Dropdown or Radio value outside its
    choices raises gradio.exceptions.Error quoting the whole value and every choice (logged with a
    traceback, print_exception), and any other component's refusal a ComponentProcessingError
    (a traceback, `{"error": null}`). SessionState.__contains__/__getitem__ give the session's copies.
    """
    preprocess = blocks.preprocess_data

    async def preprocess_data(block_fn, inputs, state, *args, **kwargs):
        try:
            return await preprocess(block_fn, inputs, state, *args, **kwargs)
        except gradio_exceptions.Error as error:
            if not error.print_exception:
                raise  # already one sentence of ours
            refused = error
        except gradio_exceptions.ComponentProcessingError as error:
            refused = error
        components = list(getattr(block_fn, "inputs", []))
        session = [state[c._id] if state is not None and c._id in state else c for c in components]
        raise answer(components, list(inputs), session) from refused

    blocks.preprocess_data = preprocess_data
    call_function = blocks.call_function

    async def call_with_event_data(block_fn, processed_input, iterator=None, requests=None, event_id=None,
                                   event_data=None, *args, **kwargs):
        fn = getattr(block_fn, "fn", None)
        if fn is not None and getattr(block_fn, "collects_event_data", False):
            for hint in get_type_hints(fn).values():
                if isinstance(hint, type) and issubclass(hint, gr.EventData) and event_data is not None:
                    try:
                        hint(event_data.target, event_data._data)
                    except (TypeError, KeyError, ValueError, AttributeError):
                        raise gr.Error(i18n.text("errors.no_event_data"), print_exception=False) from None
        return await call_function(block_fn, processed_input, iterator, requests, event_id, event_data,
                                   *args, **kwargs)

    blocks.call_function = call_with_event_data


def queue(blocks: gr.Blocks, **queue_kwargs) -> gr.Blocks:
    """Turn on `blocks`' queue (blocks.queue(**queue_kwargs)), summarising its events once per 1,000 events
    over the latest 1,000 instead of after every event over the latest 10,000 (a host's own setting wins).

    Internal: gradio.queueing.Queue reads GRADIO_ANALYTICS_CACHE_FREQUENCY and GRADIO_ANALYTICS_MAX_EVENTS
    when blocks.queue() makes it; neither is documented, and no queue() parameter sets them. After each
    event the queue builds a pandas DataFrame of the latest MAX_EVENTS events (compute_analytics_summary)
    for its monitoring dashboard; under a class's Train tabs polling /job that was the server's largest
    cost, and it slowed the explorer's requests (BENCHMARKS.md, "A class trains at once").
    """
    for name, value in QUEUE_ANALYTICS.items():
        os.environ.setdefault(name, value)
    return blocks.queue(**queue_kwargs)


def upload_folder() -> str:
    """Return the path of gradio's file cache (uploads and the files components write), as gradio spells it.

    Internal: gradio.utils.get_upload_folder(). GRADIO_TEMP_DIR is the public setting, but the
    default without it is gradio's own choice; asking gradio keeps that choice defined once.
    """
    return get_upload_folder()


def write_to_cache(data: bytes, file_name: str) -> str:
    """Return the resolved path of `data` written into gradio's cache as <cache>/<sha256 of data>/<file_name>.

    Internal: gradio.processing_utils.hash_bytes, the content hash that names the folders of gradio's
    own components (the same bytes land on the same path, which a gr.api output then serves as it is).
    Publicly a gr.api function can only return a path to some other file, which gradio copies into its
    cache: every picture written twice, and a second file to delete.
    """
    return _write_whole(Path(upload_folder()) / gradio_processing.hash_bytes(data), Path(file_name).name, data)


def _write_whole(folder: Path, name: str, data: bytes) -> str:
    """Return the resolved path of folder/name holding `data`, which no reader ever sees partly written.

    The name is the content's, so identical answers share the file: one already complete is reused
    (touched, as the cache's sweep ages files by their ctime), else the bytes go to a temporary file
    beside it that os.replace puts in place at once. Rewriting the file in place, as gradio does, let a
    client download it half-truncated while an identical request rewrote it.
    """
    path = folder / name
    for _ in range(3):  # the cache's sweep may remove the folder between these steps
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_size == len(data):
                os.utime(path)
                return str(path.resolve())
        folder.mkdir(parents=True, exist_ok=True)
        try:
            fd, staging = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        except FileNotFoundError:
            continue
        try:
            os.fchmod(fd, 0o644)  # as gradio's own writes leave it (mkstemp makes 0600)
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(staging, path)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            raise
        return str(path.resolve())
    raise OSError(f"cannot write {name} into the file cache")


def _save_pil_whole(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:  # noqa: A002 - gradio's names
    data = gradio_processing.encode_pil_to_bytes(img, format)
    return _write_whole(Path(cache_dir) / gradio_processing.hash_bytes(data), f"{name}.{format}", data)


def _save_bytes_whole(data: bytes, file_name: str, cache_dir: str) -> str:
    if not Path(file_name).suffix:
        file_name += gradio_processing.detect_audio_format(data)
    return _write_whole(Path(cache_dir) / gradio_processing.hash_bytes(data), Path(file_name).name, data)


# Gradio's writers of component outputs that rewrite a content-named file in place, and their replacements.
WHOLE_WRITERS = {"save_pil_to_cache": _save_pil_whole, "save_bytes_to_cache": _save_bytes_whole}


def make_cache_writes_atomic() -> None:
    """Make gradio's components write their output files whole (as write_to_cache does); calling it again does nothing.

    Internal: gradio.processing_utils.save_pil_to_cache (gr.Image's and gr.Gallery's pictures; its
    save_img_array_to_cache calls it too) and save_bytes_to_cache, which gr.Image and the others call
    through the module, so replacing the module's functions reaches every call. Both name a file by
    its content and then truncate and rewrite it for every identical output: when a class pressed
    Reset at once, clients downloaded it half-written. Nothing public chooses how gradio writes.
    """
    for name, replacement in WHOLE_WRITERS.items():
        setattr(gradio_processing, name, replacement)


def cached_file_sets(blocks: gr.Blocks) -> list[set[str]]:
    """Return the live sets of cache paths that `blocks`' components wrote (request threads add to them).

    Internal: Blocks.temp_file_sets. Gradio's public sweep (`gr.Blocks(delete_cache=...)`) stops for
    good on its first error and walks these sets while requests add to them (ui/cache.py says why the
    app sweeps itself); there is no public list of the files it would sweep.
    """
    return list(blocks.temp_file_sets)


def files_kept_in_cache(blocks: gr.Blocks) -> set[str]:
    """Return the cache paths `blocks`' components must keep (their default values, served to every page).

    Internal: Block.keep_in_cache on each of Blocks.blocks, the set gradio's own sweep spares.
    """
    keep = set()
    for block in list(blocks.blocks.values()):
        keep.update(getattr(block, "keep_in_cache", ()))
    return keep


def served_blocks(asgi_app) -> gr.Blocks:
    """Return the Blocks a gradio ASGI app (Starlette's scope["app"], the app.get_blocks() of a lifespan) serves.

    Internal: gradio's App.get_blocks(). launch() returns the app, but the middleware and lifespan
    that FastAPI's `app_kwargs` install receive only the ASGI app.
    """
    return asgi_app.get_blocks()


def behind_login(asgi_app) -> bool:
    """Return whether gradio's ASGI app asks for a login (launch's `auth` or mount_gradio_app's `auth_dependency`).

    Internal: App.auth and App.auth_dependency, which gradio's page route reads to decide whom it
    shows the app; the public parameters set them but nothing reads them back.
    """
    return asgi_app.auth is not None or asgi_app.auth_dependency is not None


def page_config(asgi_app) -> dict:
    """Return the config gradio builds its page from: the same object until gradio makes a new one (a reload).

    Internal: Blocks.config, which the page route copies for every visit; its identity says whether
    a page built from it is still the page gradio would build.
    """
    return served_blocks(asgi_app).config


def held_sessions(blocks: gr.Blocks) -> int:
    """Return how many sessions a launched `blocks` holds state for (each API call that names no session opens one).

    Internal: Blocks.server_app.state_holder.session_data. launch's `state_session_capacity` bounds
    them publicly, but nothing counts them; bench/soak.py watches that the bound holds.
    """
    return len(blocks.server_app.state_holder.session_data)


def script_route() -> Route:
    """Return the Starlette route that serves ui/static/gradio_internals.js at SCRIPT_URL."""
    async def script(request: Request) -> Response:
        return FileResponse(STATIC_DIR / SCRIPT, media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    return Route(SCRIPT_URL, script)
