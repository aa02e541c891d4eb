"""ui/cache.py: the sweep of gradio's file cache deletes the app's old files, keeps young ones,
components' defaults and the files it is told to spare, and is not disturbed by request threads
adding files while it runs."""

import threading
from pathlib import Path

import gradio as gr

from ui.cache import sweep
from ui.gradio_internals import write_to_cache


def cached_files(n: int, tag: str) -> list[str]:
    return [write_to_cache(f"{tag} {k}".encode(), "image.png") for k in range(n)]


def test_old_files_go_young_ones_and_defaults_stay():
    with gr.Blocks() as demo:
        picture = gr.Image()
    written = cached_files(5, "written")
    default = cached_files(1, "default")[0]
    picture.temp_files.update(written + [default])
    picture.keep_in_cache.add(default)

    assert sweep(demo, age_s=3600) == 0  # all of them are young
    assert all(Path(p).is_file() for p in written)
    # Older than "-1 s ago": all but the default and what the caller spares (the API's newest files).
    assert sweep(demo, age_s=-1, spare=lambda path: path == written[0]) == 4
    assert not any(Path(p).exists() for p in written[1:])
    assert not any(Path(p).parent.exists() for p in written[1:])  # their folders too
    assert Path(default).is_file() and picture.temp_files == {default, written[0]}


def test_files_added_while_it_sweeps_do_not_stop_it():
    with gr.Blocks() as demo:
        picture = gr.Image()
    written = []

    def requests():  # what request threads do: add the files they wrote to the component's set
        for k in range(100):
            files = cached_files(3, f"request {k}")
            written.extend(files)
            picture.temp_files.update(files)

    thread = threading.Thread(target=requests)
    thread.start()
    removed = 0
    while thread.is_alive():
        removed += sweep(demo, age_s=-1)
    thread.join()
    removed += sweep(demo, age_s=-1)
    assert removed == len(written) == 300
    assert picture.temp_files == set() and not any(Path(p).exists() for p in written)
