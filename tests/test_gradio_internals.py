"""Each Gradio internal the app relies on (ui/gradio_internals.py, ui/static/gradio_internals.js), checked
against the installed Gradio: after an upgrade, a failure here names the internal, what changed and the
version, so the upgrade is this one test run and not an audit of the code.

The Python internals are checked directly (the attribute, the call order, the behaviour the app counts
on); the page's in a browser on the real page, each selector and behaviour the page scripts use.
"""

import inspect
import io
import json
import re
from pathlib import Path

import gradio as gr
import gradio.processing_utils as gradio_processing
import httpx
import numpy as np
import pytest
from browser_waits import expecting_request, src_at, text_at, wait_shown, wait_until
from conftest import free_port, open_context
from fastapi import FastAPI
from PIL import Image

from ui import gradio_internals as gi
from ui.explore import render
from ui.explore.models import SLIDER_LIMIT

VERSION = gr.__version__
PYTHON_SIDE, PAGE_SIDE = "ui/gradio_internals.py", "ui/static/gradio_internals.js"


def broken(where: str, what: str) -> str:
    """The sentence a failure says: which internal of which module changed in this Gradio version."""
    return f"Gradio {VERSION} changed an internal that {where} relies on: {what}. Update {where} (and this test)."


def launched(demo: gr.Blocks, **launch_kwargs) -> str:
    """Launch `demo` on a free port in this process; return its URL."""
    demo.launch(server_port=free_port(), prevent_thread_lock=True, quiet=True, **launch_kwargs)
    return demo.local_url.rstrip("/")


def png_file(folder: Path) -> Path:
    path = folder / "grey.png"
    Image.new("L", (8, 8), 128).save(path)
    return path


# ---------------------------------------------------------------- Python side


def test_a_translated_text_names_its_key_in_python_and_in_the_pages_config():
    from ui import language

    text = gr.I18n(en={"k": "v"})("k")
    assert isinstance(text, gi.I18N_TEXT) and text.key == "k", f"gradio {gi.GRADIO_VERSION}: {type(text)}"
    assert text.to_dict() == {"__type__": gi.I18N_TEXT_TYPE, "key": "k"}, f"gradio {gi.GRADIO_VERSION}"
    label = language.words("app.tab.explore")
    assert language.shown(label, "zh-CN") == "探索" and language.shown(label.to_dict(), "en") == "Explore"
    assert str(text).startswith(gi.I18N_TEXT_PREFIX), f"gradio {gi.GRADIO_VERSION}: {text}"
    assert language.shown(str(label), "zh-CN") == "探索"  # as a component that made it a string holds it
    filled = language.words("explore.upload_label", mb=10)
    assert "10" in language.shown(str(filled), "en") and "10" in language.shown(filled, "zh-CN")


def test_current_blocks_is_the_blocks_being_built():
    with gr.Blocks() as demo:
        with gr.Row():
            inner = gi.current_blocks()
    assert inner is demo, broken(PYTHON_SIDE, "current_blocks: get_blocks_context().root_block is not the Blocks of "
                                              "the enclosing `with gr.Blocks()`")


def echo(word: str, times: int = 2) -> str:
    return " ".join([word] * times)


def test_before_each_call_sees_the_components_and_raw_inputs_first_and_may_fill_them_in():
    seen = []

    def check(api_name, components, inputs):
        seen.append((api_name, [type(c).__name__ for c in components], list(inputs)))
        if any(isinstance(value, dict) for value in inputs):
            raise gr.Error("Refused by the app's own check.", print_exception=False)
        if len(inputs) == 1 and api_name == "echo":
            inputs.append(3)

    with gr.Blocks() as demo:
        gr.api(echo, api_name="echo", queue=False)
        file, text = gr.File(), gr.Textbox()
        file.upload(lambda path: path, file, text, api_name="read")  # a page event that takes a file
    gi.before_each_call(demo, check)
    url = launched(demo)
    foreign_file = {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}
    try:
        filled = httpx.post(f"{url}/gradio_api/run/echo", json={"data": ["la"]}, timeout=60)
        foreign = httpx.post(f"{url}/gradio_api/run/echo", json={"data": [foreign_file]}, timeout=60)
        read = httpx.post(f"{url}/gradio_api/run/read", json={"data": [foreign_file]}, timeout=60)
    finally:
        demo.close()
    assert seen[:1] == [("echo", ["Api", "Api"], ["la"])], broken(  # gr.api: one component per parameter
        PYTHON_SIDE, f"before_each_call: Blocks.validate_inputs(block_fn, inputs) no longer sees each call's api_name, "
        f"input components and raw inputs ({seen})")
    assert ("read", ["File"], [foreign_file]) in seen, broken(
        PYTHON_SIDE, f"before_each_call: BlockFunction.inputs are not a page event's input components ({seen})")
    assert filled.json().get("data") == ["la la la"], broken(
        PYTHON_SIDE, f"before_each_call: inputs added to the list are no longer passed on ({filled.text[:200]})")
    assert "Refused by the app's own check." in foreign.text and "Refused by the app's own check." in read.text, broken(
        PYTHON_SIDE, f"before_each_call: gradio checks a call's files before validate_inputs ({foreign.text[:200]}, "
        f"{read.text[:200]})")


def test_the_upload_folder_is_where_components_and_uploads_keep_their_files(tmp_path):
    with gr.Blocks():
        picture = gr.Image()
    cached = picture.move_resource_to_block_cache(str(png_file(tmp_path)))
    assert Path(cached).resolve().is_relative_to(Path(gi.upload_folder()).resolve()), broken(
        PYTHON_SIDE, f"upload_folder: gradio.utils.get_upload_folder() ({gi.upload_folder()}) is not where "
                     f"components cache their files ({cached})")
    with gr.Blocks() as demo:
        gr.Markdown("uploads")
    url = launched(demo)
    try:
        answer = httpx.post(f"{url}/gradio_api/upload", files={"files": ("a.png", png_file(tmp_path).read_bytes())},
                            timeout=60)
    finally:
        demo.close()
    assert Path(answer.json()[0]).resolve().is_relative_to(Path(gi.upload_folder()).resolve()), broken(
        PYTHON_SIDE, f"upload_folder: an upload landed outside gradio.utils.get_upload_folder() ({answer.text[:200]})")


def test_a_file_written_to_the_cache_is_served_by_gr_api_as_it_is():
    data = b"latent lab " + VERSION.encode()
    path = gi.write_to_cache(data, "digit.png")
    assert Path(path).read_bytes() == data and Path(path).name == "digit.png", broken(
        PYTHON_SIDE, f"write_to_cache: data is not written under its own name ({path})")
    assert Path(path).parent.parent == Path(gi.upload_folder()).resolve(), broken(
        PYTHON_SIDE, f"write_to_cache: the file is not in <cache>/<hash>/ ({path})")
    assert Path(path).parent.name == gradio_processing.hash_bytes(data), broken(
        PYTHON_SIDE, "write_to_cache: processing_utils.hash_bytes no longer names the folder of these bytes")
    assert gi.write_to_cache(data, "digit.png") == path != gi.write_to_cache(data + b"!", "digit.png"), broken(
        PYTHON_SIDE, "write_to_cache: the same bytes no longer land on the same path")

    def picture() -> dict:
        return gr.FileData(path=path, orig_name="digit.png", mime_type="image/png").model_dump()

    with gr.Blocks() as demo:
        gr.api(picture, api_name="picture", queue=False)
    url = launched(demo)
    try:
        answer = httpx.post(f"{url}/gradio_api/run/picture", json={"data": []}, timeout=60).json()["data"][0]
        served = httpx.get(answer["url"], timeout=60).content
    finally:
        demo.close()
    assert answer["path"] == path and served == data, broken(
        PYTHON_SIDE, f"write_to_cache: gr.api copies a file already in the cache elsewhere ({answer['path']}), "
                     "so the API's recent files (ui/explore/api.py) are not the ones served")


def test_gradio_writes_component_outputs_through_the_functions_made_atomic(tmp_path, monkeypatch):
    """gr.Image's pictures and save_bytes_to_cache reach the replacements make_cache_writes_atomic installs."""
    originals = {name: getattr(gradio_processing, name) for name in gi.WHOLE_WRITERS}
    for name, replacement in gi.WHOLE_WRITERS.items():
        if originals[name] is not replacement:  # gradio's own: the replacement must take the same arguments
            assert list(inspect.signature(originals[name]).parameters) == list(
                inspect.signature(replacement).parameters), broken(
                PYTHON_SIDE, f"make_cache_writes_atomic: processing_utils.{name} takes other arguments now")
    gi.make_cache_writes_atomic()
    written = []
    whole = gi._write_whole
    monkeypatch.setattr(gi, "_write_whole", lambda folder, name, data: written.append(name) or whole(folder, name, data))
    with gr.Blocks():
        pil, array = gr.Image(format="png"), gr.Image(format="png")
    saved = [pil.postprocess(Image.new("L", (8, 8), 7)).path, array.postprocess(np.zeros((8, 8, 3), np.uint8)).path]
    by_bytes = gradio_processing.save_bytes_to_cache(b"RIFF0000WAVE", "sound", str(tmp_path))
    assert written == ["image.png", "image.png", "sound.wav"] and all(Path(p).is_file() for p in saved), broken(
        PYTHON_SIDE, f"make_cache_writes_atomic: gr.Image no longer writes its pictures through "
                     f"processing_utils.save_pil_to_cache ({written})")
    assert Path(by_bytes).name == "sound.wav", broken(
        PYTHON_SIDE, "make_cache_writes_atomic: save_bytes_to_cache names files differently")


def test_the_cache_sweep_sees_the_files_components_write_and_keep(tmp_path):
    default = png_file(tmp_path)
    with gr.Blocks() as demo:
        picture = gr.Image()
        kept = gr.Image(value=str(default))
    written = picture.move_resource_to_block_cache(str(default))  # what a component does with an output file
    sets = gi.cached_file_sets(demo)
    assert any(files is picture.temp_files for files in sets) and any(written in files for files in sets), broken(
        PYTHON_SIDE, "cached_file_sets: Blocks.temp_file_sets no longer holds the live sets of files components write")
    kept_path = kept.value["path"]
    assert kept_path in gi.files_kept_in_cache(demo), broken(
        PYTHON_SIDE, f"files_kept_in_cache: a component's default value ({kept_path}) is not in its keep_in_cache")


def test_the_page_cache_reads_the_login_and_the_config_gradio_builds_the_page_from():
    with gr.Blocks(title="Open") as demo:
        gr.Markdown("hello")
    url = launched(demo)
    try:
        app = demo.app
        assert gi.served_blocks(app) is demo, broken(PYTHON_SIDE, "served_blocks: App.get_blocks() is not the Blocks served")
        assert not gi.behind_login(app), broken(PYTHON_SIDE, "behind_login: an app without auth reads as behind a login")
        config = gi.page_config(app)
        assert config is demo.config and gi.page_config(app) is config, broken(
            PYTHON_SIDE, "page_config: Blocks.config is not one object between visits, so no kept page would ever be used")
        demo.config = dict(config, title="Rebuilt")
        assert '"title":"Rebuilt"' in httpx.get(url, timeout=60).text, broken(
            PYTHON_SIDE, "page_config: the page is no longer built from Blocks.config")
    finally:
        demo.close()

    with gr.Blocks() as members:
        gr.Markdown("hello")
    launched(members, auth=("teacher", "chalk"))
    try:
        assert gi.behind_login(members.app), broken(PYTHON_SIDE, "behind_login: App.auth is not set by launch(auth=...)")
    finally:
        members.close()
    with gr.Blocks() as mounted:
        gr.Markdown("hello")
    outer = gr.mount_gradio_app(FastAPI(), mounted, path="/app", auth_dependency=lambda request: None)
    inner = next(route.app for route in outer.routes if getattr(route, "path", "") == "/app")
    assert gi.behind_login(inner), broken(PYTHON_SIDE, "behind_login: App.auth_dependency is not set by "
                                                       "mount_gradio_app(auth_dependency=...)")


# Headers a proxy or a browser sends that must not change the page (the page cache does not key on them).
OTHER_HEADERS = {"forwarded": "for=1.2.3.4;host=other.example;proto=https", "x-forwarded-port": "8443",
                 "x-forwarded-prefix": "/elsewhere", "x-forwarded-for": "1.2.3.4", "x-real-ip": "1.2.3.4",
                 "x-forwarded-server": "other.example", "accept-language": "de-DE,de;q=0.9",
                 "user-agent": "Mozilla/5.0 (Phone)", "referer": "https://other.example/", "cookie": "a=b"}
ROOT_VALUES = {b"host": "other.example:8080", b"x-forwarded-host": "other.example",
               b"x-forwarded-proto": "https", b"x-gradio-server": "https://other.example/base"}


def test_the_page_depends_on_the_root_headers_and_on_no_other():
    assert set(ROOT_VALUES) == set(gi.ROOT_HEADERS)
    with gr.Blocks(title="Headers") as demo:
        gr.Markdown("hello")
    url = launched(demo)
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            plain = client.get("/").text
            changed = {name: client.get("/", headers={name.decode(): value}).text for name, value in ROOT_VALUES.items()}
            others = {name: client.get("/", headers={name: value}).text for name, value in OTHER_HEADERS.items()}
    finally:
        demo.close()
    root = re.search(r'"root":"([^"]*)"', plain).group(1)
    for name, page in changed.items():
        assert re.search(r'"root":"([^"]*)"', page).group(1) != root, broken(
            PYTHON_SIDE, f"ROOT_HEADERS: the page's root no longer follows the {name.decode()} header")
    for name, page in others.items():
        assert page == plain, broken(PYTHON_SIDE, f"ROOT_HEADERS: the page now depends on the {name} header too, "
                                                  "which ui/page_cache.py does not key on")


def test_each_api_call_without_a_session_is_one_held_session():
    with gr.Blocks() as demo:
        gr.api(echo, api_name="echo")
    url = launched(demo.queue())
    try:
        before = gi.held_sessions(demo)
        for _ in range(3):  # the queued call protocol: the call, then its answer as a stream
            event = httpx.post(f"{url}/gradio_api/call/echo", json={"data": ["la", 1]}, timeout=60).json()["event_id"]
            assert "la" in httpx.get(f"{url}/gradio_api/call/echo/{event}", timeout=60).text
        after = gi.held_sessions(demo)
    finally:
        demo.close()
    assert after == before + 3, broken(PYTHON_SIDE, f"held_sessions: three API calls made {after - before} sessions "
                                                    "in Blocks.server_app.state_holder.session_data")


def analytics_summary_after_three_calls(demo: gr.Blocks) -> dict:
    """Make three queued /echo calls to a queued `demo`; return the queue's analytics summary afterwards."""
    url = launched(demo)
    try:
        for _ in range(3):
            event = httpx.post(f"{url}/gradio_api/call/echo", json={"data": ["la", 1]}, timeout=60).json()["event_id"]
            assert "la" in httpx.get(f"{url}/gradio_api/call/echo/{event}", timeout=60).text
        return demo._queue.cached_event_analytics_summary
    finally:
        demo.close()


def test_the_queue_summarises_its_events_once_per_thousand_not_after_each(monkeypatch):
    for name in gi.QUEUE_ANALYTICS:
        monkeypatch.delenv(name, raising=False)
    with gr.Blocks() as plain:
        gr.api(echo, api_name="echo")
    assert "echo" in analytics_summary_after_three_calls(plain.queue())["functions"], broken(
        PYTHON_SIDE, "queue: Queue.cached_event_analytics_summary no longer lists the functions called")
    with gr.Blocks() as demo:
        gr.api(echo, api_name="echo")
    assert analytics_summary_after_three_calls(gi.queue(demo))["functions"] == {}, broken(
        PYTHON_SIDE, "queue: the queue summarised three events although GRADIO_ANALYTICS_CACHE_FREQUENCY is 1000")
    assert demo._queue.ANALYTICS_MAX_EVENTS == 1000, broken(
        PYTHON_SIDE, "queue: Queue.ANALYTICS_MAX_EVENTS does not follow GRADIO_ANALYTICS_MAX_EVENTS")


def test_gr_image_saves_a_png_with_the_compression_quick_png_asks_for():
    # render.quick_png (no gradio import: it only marks the picture) relies on gradio saving PNGs
    # through Pillow's save without a compression level of its own.
    rng = np.random.default_rng(0)
    picture = Image.fromarray((rng.random((96, 96)) > 0.7).astype(np.uint8) * 255)
    sizes = {}
    for level in (1, 9):
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG", compress_level=level)
        sizes[level] = len(buffer.getvalue())
    with gr.Blocks():
        image = gr.Image(format="png")
    saved = image.postprocess(render.quick_png(picture.copy()))
    assert sizes[1] != sizes[9] and Path(saved.path).stat().st_size == sizes[1], broken(
        "ui/explore/render.py quick_png", "gr.Image no longer saves a PNG with the picture's own encoderinfo")


# ---------------------------------------------------------------- the page (browser)

LLG = "window.llGradio"


@pytest.fixture
def explore_page(browser, live_app):
    context = open_context(browser, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(live_app)
    wait_shown(page.locator("#ll-digit-box img.ll-digit"), "the Explore tab's digit")
    wait_shown(page.locator("#ll-map img"), "the latent map's picture (the load event's answer)", state="attached")
    yield page
    context.close()


def page_broken(what: str) -> str:
    return broken(PAGE_SIDE, what)


@pytest.mark.browser
def test_the_script_is_loaded_before_the_page_scripts_that_use_it(explore_page):
    assert explore_page.evaluate(f"() => typeof {LLG} === 'object' && window.llExploreReady === true"), broken(
        "ui/explore/layout.py", "gr.HTML's `head` no longer loads the internals script before js_on_load runs")


@pytest.mark.browser
def test_a_slider_block_holds_its_range_its_box_and_its_name(explore_page):
    parts = explore_page.evaluate(f"""() => {{
        const G = {LLG}, slider = document.querySelector('#ll-z0');
        const range = G.sliderRange(slider), box = G.sliderBox(slider);
        return {{range: Boolean(range && G.isSliderRange(range)), box: Boolean(box && G.isSliderBox(box)),
                 min: range && range.min, max: range && range.max, name: G.sliderName(slider),
                 nameClick: G.onSliderName(slider.querySelector('label') || slider),
                 inputClick: box ? G.onSliderName(box) : true}};
    }}""")
    assert parts["range"] and parts["box"], page_broken(f"gr.Slider no longer holds input[type=range] and "
                                                        f"input[type=number] ({parts})")
    assert (float(parts["min"]), float(parts["max"])) == (-SLIDER_LIMIT, SLIDER_LIMIT), page_broken(
        f"gr.Slider's range input no longer carries the slider's min and max ({parts})")
    assert parts["name"].startswith("z") and "KL" in parts["name"], page_broken(
        f"gr.Slider's name is no longer in [data-testid=block-info] ({parts})")
    assert parts["nameClick"] and not parts["inputClick"], page_broken(f"gr.Slider's name is no longer in its label ({parts})")


@pytest.mark.browser
def test_typing_in_a_slider_box_moves_it_and_a_pointerup_releases_it(explore_page):
    page = explore_page
    link = "(() => { const l = document.querySelector('#ll-link'); return l && window.llGradio.textboxInput(l); })()"
    # A <textarea>: empty until the server first answers with a code.
    wait_until(page, f"() => {link}", "the share link's box", last="() => 'no link box'")
    before = page.evaluate(f"() => {link}.value")
    moved = page.evaluate(f"""() => {{
        const G = {LLG}, slider = document.querySelector('#ll-z0');
        G.typeInSliderBox(G.sliderBox(slider), 1.25);
        return new Promise((resolve) => requestAnimationFrame(() => resolve(G.sliderRange(slider).value)));
    }}""")
    assert float(moved) == 1.25, page_broken(f"typeInSliderBox: Gradio no longer takes a box's value on its input event "
                                             f"(the range shows {moved})")
    page.evaluate(f"() => {LLG}.releaseSlider({LLG}.sliderRange(document.querySelector('#ll-z0')))")
    # The release reaches the server, whose answer puts the new code in the link box.
    wait_until(page, f"(before) => {link}.value !== before",
               "the server's answer to releaseSlider's pointerup on the range (the slider's release event)",
               arg=before, last=f"() => {link}.value")
    assert "1.25" in page.evaluate(f"() => {link}.value"), page_broken(
        "releaseSlider: a pointerup on the range no longer sends the slider's release event")


@pytest.mark.browser
def test_an_event_withheld_in_the_capture_phase_never_reaches_gradio(explore_page):
    values = explore_page.evaluate(f"""() => {{
        const G = {LLG}, slider = document.querySelector('#ll-z1');
        const withhold = (event) => {{ if (event.target === G.sliderBox(slider)) G.withholdFromGradio(event); }};
        document.addEventListener('input', withhold, true);
        const before = G.sliderRange(slider).value;
        G.typeInSliderBox(G.sliderBox(slider), before === '2' ? 1 : 2);
        return new Promise((resolve) => requestAnimationFrame(() => {{
            document.removeEventListener('input', withhold, true);
            resolve([before, G.sliderRange(slider).value]);
        }}));
    }}""")
    assert values[0] == values[1], page_broken(f"withholdFromGradio: Gradio's slider took a value withheld from it "
                                               f"in the capture phase ({values})")


@pytest.mark.browser
def test_the_label_bars_are_drawn_as_the_page_redraws_them(explore_page):
    page = explore_page
    wait_until(page, f"() => {LLG} && {LLG}.labelHasBars({LLG}.labelBars(document.querySelector('#ll-probs')))",
               "gr.Label's bars in #ll-probs (labelBars, labelHasBars)",
               last="() => document.querySelector('#ll-probs').innerHTML.slice(0, 200)")
    rows = page.evaluate(f"""() => {{
        const G = {LLG}, bars = G.labelBars(document.querySelector('#ll-probs'));
        const top = bars.querySelector('.output-class');
        return G.labelRows(bars).map((row) => {{
            const copy = row.cloneNode(true), name = row.querySelector('dt').textContent.trim();
            const p = Number(row.querySelector('meter').value);
            G.setLabelRow(copy, name, p);
            return {{name, top: top && top.textContent.trim(), testid: row.getAttribute('data-testid'),
                     dd: row.querySelector('dd').textContent.trim(), ours: copy.querySelector('dd').textContent.trim(),
                     width: row.querySelector('meter').style.width, ourWidth: copy.querySelector('meter').style.width}};
        }});
    }}""")
    assert len(rows) == 10, page_broken(f"gr.Label's bars are no longer .confidence-set rows in a .container ({rows})")
    assert rows[0]["top"] == rows[0]["name"], page_broken(f"gr.Label's top class is no longer in .output-class ({rows[0]})")
    for row in rows:
        assert row["testid"] == f"{row['name']}-confidence-set", page_broken(f"gr.Label's rows changed data-testid ({row})")
        assert row["dd"] == row["ours"], page_broken(f"setLabelRow: gr.Label writes a row's percentage otherwise ({row})")
        # (the meter's value reads back rounded, so the two widths agree to about 6 digits)
        gradio_width, our_width = (float(row[key].rstrip("%")) for key in ("width", "ourWidth"))
        assert gradio_width == pytest.approx(our_width, rel=1e-4, abs=1e-6), page_broken(
            f"setLabelRow: gr.Label's meter width is no longer its percentage ({row})")


@pytest.mark.browser
def test_a_click_on_the_map_is_the_pixel_gradio_sends_as_its_select_event(explore_page):
    page = explore_page
    page.locator("#ll-map img").scroll_into_view_if_needed()
    wait_until(page, "() => { const i = document.querySelector('#ll-map img'); return i && i.naturalWidth > 0; }",
               "the map's picture to load", last=src_at("#ll-map img"))
    assert page.evaluate(f"""() => {{ const img = document.querySelector('#ll-map img');
        return {LLG}.imageButton(img, '#ll-map') === img.closest('button')
            && {LLG}.imageIn(document.querySelector('#ll-map')) === img; }}"""), \
        page_broken("gr.Image's picture is no longer an <img> inside its own <button>")
    # The page's pixel for the very click Gradio answers (the page may still be laying itself out).
    page.evaluate(f"""() => document.addEventListener('click', (event) => {{
        window.llTestPixel = {LLG}.imagePixel(document.querySelector('#ll-map img'), event);
    }}, {{capture: true, once: true}})""")
    box = page.locator("#ll-map img").bounding_box()
    with expecting_request(page, lambda r: "/gradio_api/queue/join" in r.url and '"index"' in (r.post_data or ""),
                           "gr.Image's select event (a queue/join request with an index)") as sent:
        page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    index = json.loads(sent.value.post_data)["event_data"]["index"]
    ours = page.evaluate("() => window.llTestPixel")
    assert ours == index, page_broken(f"imagePixel: gr.Image's select event sends pixel {index}, the page computes {ours}")


@pytest.mark.browser
def test_the_sketchpad_waits_for_a_tool_until_its_brush_is_clicked(browser, live_app):
    context = open_context(browser, viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.add_init_script("window.llSketchBrush = 'off';")  # the page's timer would choose the brush first
    try:
        page.goto(live_app)
        page.get_by_role("tab", name="Write").click()
        wait_until(page, f"() => {{ const p = document.querySelector('#ll-complete-sketch');"
                   f" return p && {LLG} && {LLG}.sketchBrush(p); }}",  # the page's script may load after the tab
                   "gr.Sketchpad's brush button (sketchBrush)",
                   last="() => document.querySelector('#ll-complete-sketch') ? 'a sketchpad without a brush' : 'no sketchpad'")
        waiting = page.evaluate(f"""() => {{ const p = document.querySelector('#ll-complete-sketch');
            return [{LLG}.sketchWaitsForTool(p), (p.querySelector('.empty') || {{}}).textContent || '']; }}""")
        assert waiting[0] and "draw tool" in waiting[1], page_broken(
            f"gr.Sketchpad no longer shows its prompt for a tool in an .empty element ({waiting})")
        assert page.evaluate(f"() => {LLG}.chooseSketchBrush(document.querySelector('#ll-complete-sketch'))")
        # Its prompt goes away: the brush is chosen.
        wait_until(page, f"() => !{LLG}.sketchWaitsForTool(document.querySelector('#ll-complete-sketch'))",
                   "gr.Sketchpad's prompt for a tool to go away (chooseSketchBrush)",
                   last=text_at("#ll-complete-sketch .empty"))
    finally:
        context.close()


# ---------------------------------------------------------------- the stylesheet (browser)
CSS_SIDE = "ui/static/gradio_internals.css"
# Runs in the page: parse `css` with the browser's own parser and return every selector of its rules (those
# in @media rules too), each with its pseudo-elements dropped (they match no element of the DOM).
STYLESHEET_SELECTORS = """(css) => {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  const selectors = [];
  const walk = (rules) => { for (const rule of rules) {
    if (rule.cssRules && !rule.selectorText) walk(rule.cssRules);
    else if (rule.selectorText) selectors.push(...rule.selectorText.split(/,(?![^(]*\\))/).map((s) => s.trim()));
  } };
  walk(sheet.cssRules);
  // The keyboard's focus ring (:focus-visible) applies once a control has the focus: its element is checked.
  return [...new Set(selectors.map((s) => s.replace(/::[\\w-]+/g, "").replace(/:focus-visible/g, "")))];
}"""
COUNT = "(selector) => document.querySelectorAll(selector).length"


def stylesheet_selectors(page) -> list[str]:
    selectors = page.evaluate(STYLESHEET_SELECTORS, gi.STYLESHEET)
    assert len(selectors) > 20, f"{CSS_SIDE} parsed into too few selectors: {selectors}"
    return selectors


@pytest.mark.browser
def test_every_selector_of_the_stylesheet_matches_an_element_of_the_explore_page(explore_page):
    page = explore_page
    # explore.js marks the belief [data-live] while the page draws it itself: the rest is Gradio's.
    selectors = [s.replace("[data-live]", "") for s in stylesheet_selectors(page) if not s.startswith("#train-")]
    unmatched = [s for s in selectors if ".ll-present" not in s and not page.evaluate(COUNT, s)]
    if any(s.startswith("#ll-upload ") for s in unmatched):  # Gradio builds a tab's content when it is opened
        page.locator("#ll-upload-section button[role=tab]").nth(1).click()
        wait_shown(page.locator("#ll-upload"), "the upload tab's file box")
        unmatched = [s for s in unmatched if not page.evaluate(COUNT, s)]
    page.evaluate(f"() => {LLG}.pageContainer().classList.add('ll-present')")  # the presentation layout
    unmatched += [s for s in selectors if ".ll-present" in s and not page.evaluate(COUNT, s)]
    assert not unmatched, broken(CSS_SIDE, f"these selectors match no element of the page: {unmatched}")
    assert page.evaluate(f"() => {LLG}.pageContainer().contains(document.querySelector('#ll-explore'))"), page_broken(
        "pageContainer: .gradio-container no longer holds the app")
    progress = page.evaluate("() => document.querySelector('#ll-z0 input[type=range]').style.getPropertyValue("
                             "'--range_progress')")
    assert progress.endswith("%"), broken(CSS_SIDE, f"a slider's range input no longer carries --range_progress ({progress!r})")


@pytest.mark.browser
def test_every_gallery_selector_of_the_stylesheet_matches_and_shapes_its_thumbnails(browser, tmp_path):
    grid = tmp_path / "grid.png"
    Image.new("L", (484, 184), 200).save(grid)
    with gr.Blocks() as demo:
        gr.Gallery([(str(grid), f"run {k}") for k in range(3)], columns=3, height="auto", format="png", object_fit="contain",
                   elem_id="train-compare-pictures")
    url = launched(demo, css=gi.STYLESHEET)
    context = open_context(browser, viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        page.goto(url)
        wait_shown(page.locator("#train-compare-pictures img").first, "the gallery's pictures")
        selectors = [s for s in stylesheet_selectors(page) if s.startswith("#train-")]
        unmatched = [s for s in selectors if not page.evaluate(COUNT, s)]
        columns = page.evaluate("() => getComputedStyle(document.querySelector('#train-compare-pictures "
                                ".grid-container')).getPropertyValue('--grid-cols')")
        shape = page.evaluate("() => { const b = document.querySelector('#train-compare-pictures .thumbnail-item')"
                              "?.getBoundingClientRect(); return b ? b.width / b.height : null; }")
    finally:
        context.close()
        demo.close()
    assert selectors and not unmatched, broken(CSS_SIDE, f"these gallery selectors match nothing: {unmatched} of {selectors}")
    assert columns.strip() == "3", broken(CSS_SIDE, f"gr.Gallery no longer reads its columns from --grid-cols ({columns!r})")
    assert shape and abs(shape - 484 / 184) < 0.05, broken(
        CSS_SIDE, f"gr.Gallery's thumbnails no longer take their shape from --ratio-square (width/height {shape})")
