"""Sweep gradio's file cache: every minute, delete the files the app's components wrote that are
older than a few minutes (each release of a slider renders two pictures, so a class writes
thousands an hour).

Hand-written because gradio's own sweep (`Blocks(delete_cache=...)`) stopped deleting under the
load of bench/class_sim.py (the cache grew for the whole 5-minute run, while a lighter run was
swept); its task ends on the first error, and it walks live sets that request threads add to.
This one walks a copy of each set, and an error costs one round, not the rest of the day.
"""

import asyncio
import contextlib
import logging
import os
import time
from pathlib import Path
from typing import Callable

from ui.gradio_internals import cached_file_sets, files_kept_in_cache, served_blocks, upload_folder

log = logging.getLogger("latent_lab.cache")


def remove(path) -> None:
    """Delete a file of gradio's cache and then its own folder, once that is empty (gradio keeps each
    file in a folder named by its content hash); a file already gone is no error."""
    path = Path(path)
    path.unlink(missing_ok=True)
    if path.parent != Path(upload_folder()):
        with contextlib.suppress(OSError):
            path.parent.rmdir()


def sweep(blocks, age_s: float, spare: Callable[[str], bool] = lambda path: False) -> int:
    """Delete the files in `blocks`' temporary file sets older than `age_s` seconds, except those
    `spare(path)` keeps (files with a bound of their own); return how many."""
    keep = files_kept_in_cache(blocks)  # a component's default value stays
    now, removed = time.time(), 0
    for files in cached_file_sets(blocks):
        for path in list(files):  # a copy: request threads add to the set meanwhile
            if path in keep or spare(path):
                continue
            try:
                if now - os.lstat(path).st_ctime <= age_s:
                    continue
                remove(path)
                removed += 1
            except FileNotFoundError:
                pass
            except OSError as error:
                log.warning("cannot delete a cached file: %s", error)
                continue
            files.discard(path)
    return removed


def sweeper(every_s: float, age_s: float, spare: Callable[[str], bool] = lambda path: False):
    """Return a lifespan (FastAPI `app_kwargs`) that sweeps every `every_s` seconds, and all on shutdown."""
    @contextlib.asynccontextmanager
    async def lifespan(app):
        async def loop():
            while True:
                await asyncio.sleep(every_s)
                try:
                    await asyncio.to_thread(sweep, served_blocks(app), age_s, spare)
                except Exception:  # noqa: BLE001 - the next round tries again; the cause goes to the log
                    log.exception("sweeping gradio's cache failed")

        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(Exception):
                sweep(served_blocks(app), 0)
    return lifespan
