"""Pictures for the Write tab: the digit being written, the reader's bars, prompts, endings, samples, the NLL table.

Pure functions of arrays (no gradio, no models); their words are the catalogue's (i18n), in the language of
the call being answered. Words in a picture built into the page carry their key (`said`), so the page
shows them in its visitor's language (ui/write/layout.py, SAY_JS). Digits are float arrays (side, side) in [0,1], white
ink on black, as the models see them. Pictures go into gr.HTML as small inline PNGs that the
browser scales up with hard pixel edges (an MNIST digit is about 300 bytes), so the animation's
update per row stays light.
"""

import base64
import html
import io

import numpy as np
from PIL import Image, ImageDraw

import i18n
from genmodels import likelihood

INK = (255, 255, 255)  # pixels the user gave (or the whole finished digit)
WRITTEN_INK = (255, 196, 61)  # pixels the writer wrote below a prompt, and the row being written
CURRENT_ROW = (88, 22, 34)  # background of the row being written
CUT = (239, 68, 68)  # the line under the kept prompt rows
DIMMED = 0.3  # brightness of the prompt rows that are cut away
# One stylesheet for the tab's HTML components (gr.HTML(css_template=WRITE_CSS) scopes it to each),
# so the markup streamed per row carries class names, not inline styles.
WRITE_CSS = """
.ll-pic { width: 100%; aspect-ratio: 1; image-rendering: pixelated; image-rendering: crisp-edges; display: block;
          background: #000; border-radius: 6px; }
.ll-empty { display: flex; align-items: center; justify-content: center; color: #ddd; font-size: 14px;
            padding: 12px; box-sizing: border-box; text-align: center; }
.ll-write-digit { max-width: 280px; margin: 0 auto; }
.ll-caption { text-align: center; font-size: 14px; margin-top: 6px; }
.ll-write-bars { font-size: 14px; }
.ll-title { font-weight: 600; margin-bottom: 6px; }
.ll-bar { display: flex; align-items: center; gap: 8px; margin: 3px 0; }
.ll-bar .n { width: 5.5em; text-align: right; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.ll-bar .t { flex: 1; height: 14px; background: rgba(128, 128, 128, .18); border-radius: 3px; overflow: hidden; }
.ll-bar .f { display: block; height: 100%; background: #2563eb; }
.ll-bar .p { width: 3.2em; text-align: right; font-variant-numeric: tabular-nums; }
.ll-bar.top { font-weight: 700; }
.ll-bar.top .f { background: #f59e0b; }
.ll-prompt { max-width: 200px; margin: 0 auto; }
.ll-endings { display: flex; flex-wrap: wrap; gap: 10px; justify-content: center; }
.ll-ending { margin: 0; width: 112px; }
.ll-ending figcaption { text-align: center; font-size: 13px; margin-top: 3px; }
.ll-samples { max-width: 360px; margin: 0 auto; }
.ll-samples .ll-title { text-align: center; }
.ll-samples .grid { display: grid; grid-template-columns: repeat(4, 1fr); gap: 6px; }
/* Presentation mode (.ll-present on the page's container, ui/explore/explore.js): the digit as wide as its
   column, and its caption and the reader's bars large enough to read from the back of a room.
   X:is(.ll-present *) is an X inside the presenting page (the stylesheet is scoped to its component; no
   backquotes in it: it is a JavaScript template). */
.ll-write-digit:is(.ll-present *) { max-width: 100%; }
.ll-write-digit:is(.ll-present *) .ll-caption { font-size: 22px; }
.ll-write-bars:is(.ll-present *) { font-size: 22px; }
.ll-write-bars:is(.ll-present *) .ll-title { font-size: 24px; }
.ll-write-bars:is(.ll-present *) .ll-bar { margin: 6px 0; }
.ll-write-bars:is(.ll-present *) .ll-bar .t { height: 24px; }
.ll-write-bars:is(.ll-present *) .ll-bar .n { width: 4em; }
"""


def said(key: str, classes: str = "") -> str:
    """Return a catalogue text (no placeholders) as a div of `classes` in the current language, marked with its key
    for the page. The mark is on the element that holds the classes: the page's styles colour every element inside
    a gr.HTML, so a span inside would not take its box's colour."""
    return f'<div class="{classes}" data-ll-key="{html.escape(key)}">{html.escape(i18n.text(key))}</div>'


def png_data_url(rgb: np.ndarray) -> str:
    """Return an RGB (H, W, 3) uint8 array as a data: URL holding a PNG."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), mode="RGB").save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _paint(digit: np.ndarray, ink=INK, background=(0, 0, 0)) -> np.ndarray:
    """Return a digit (side, side) in [0,1] as RGB uint8, each pixel blended from `background` to `ink`."""
    level = np.clip(np.asarray(digit, dtype=np.float32), 0, 1)[..., None]
    return (np.array(background, np.float32) * (1 - level) + np.array(ink, np.float32) * level + 0.5).astype(np.uint8)


def writing_picture(canvas: np.ndarray, rows: int, done: bool) -> np.ndarray:
    """Return the digit being written as RGB (side, side, 3): the row just written lit up, unless `done`."""
    rgb = _paint(canvas)
    if not done and 0 < rows <= len(canvas):
        rgb[rows - 1] = _paint(canvas[rows - 1], WRITTEN_INK, CURRENT_ROW)
    return rgb


def writing_html(canvas: np.ndarray, rows: int, done: bool, caption: str = "") -> str:
    """Return the digit being written (scaled up crisply) with a line saying which row the writer is on."""
    side = len(canvas)
    status = caption or (i18n.text("write.digit.done", side=side) if done
                         else i18n.text("write.digit.writing", rows=rows, side=side))
    alt = i18n.text("write.digit.alt_done") if done else i18n.text("write.digit.alt_rows", rows=rows)
    return (f'<div class="ll-write-digit" data-rows="{rows}" data-done="{str(done).lower()}">'
            f'<img class="ll-pic" alt="{html.escape(alt)}" src="{png_data_url(writing_picture(canvas, rows, done))}">'
            f'<div class="ll-caption ll-write-status">{html.escape(status)}</div></div>')


def empty_digit_html() -> str:
    """Return the digit area before anything is written: a black square with a short message."""
    return (f'<div class="ll-write-digit" data-rows="0" data-done="false">'
            f'{said("write.digit.empty", "ll-pic ll-empty")}</div>')


def bars_html(belief, class_names, title: str) -> str:
    """Return the reader's belief as one horizontal bar per class, in class order, the favourite highlighted."""
    head = f'<div class="ll-title">{html.escape(title)}</div>'
    if belief is None:
        return f'<div class="ll-write-bars">{head}<div>{html.escape(i18n.text("write.bars.no_reader"))}</div></div>'
    belief = np.asarray(belief, dtype=np.float64)
    best = int(np.argmax(belief))
    rows = []
    for k, p in enumerate(belief):
        name = html.escape(class_names[k] if k < len(class_names) else str(k))
        rows.append(f'<div class="ll-bar{" top" if k == best else ""}" data-class="{name}" data-p="{p:.4f}">'
                    f'<span class="n">{name}</span><span class="t"><span class="f" style="width:{100 * p:.1f}%">'
                    f'</span></span><span class="p">{100 * p:.0f}%</span></div>')
    return f'<div class="ll-write-bars" data-best="{best}">{head}{"".join(rows)}</div>'


def waiting_bars_html() -> str:
    """Return the bars' place before anything is written: the title and a short message."""
    return f'<div class="ll-write-bars">{said("write.bars.title", "ll-title")}{said("write.bars.waiting")}</div>'


def _enlarge(rgb: np.ndarray, scale: int) -> Image.Image:
    height, width = rgb.shape[:2]
    return Image.fromarray(rgb, mode="RGB").resize((width * scale, height * scale), Image.Resampling.NEAREST)


def _cut_line(picture: Image.Image, rows: int, scale: int) -> Image.Image:
    y = rows * scale
    ImageDraw.Draw(picture).rectangle([0, y - 1, picture.width, y], fill=CUT)
    return picture


def prompt_picture(prompt: np.ndarray, rows: int, scale: int = 6) -> np.ndarray:
    """Return the prompt as RGB, (side*scale)^2: kept rows bright, the rest dimmed, a red line at the cut."""
    rgb = _paint(prompt)
    rgb[rows:] = (rgb[rows:] * DIMMED).astype(np.uint8)
    return np.asarray(_cut_line(_enlarge(rgb, scale), rows, scale))


def ending_picture(ending: np.ndarray, rows: int, scale: int = 4) -> np.ndarray:
    """Return an ending as RGB, (side*scale)^2: the kept rows in white, the written rows in amber, the cut in red."""
    rgb = _paint(ending)
    rgb[rows:] = _paint(ending[rows:], WRITTEN_INK)
    return np.asarray(_cut_line(_enlarge(rgb, scale), rows, scale))


def prompt_html(prompt: np.ndarray | None, rows: int) -> str:
    """Return the prompt picture with its caption (or a hint before anything was drawn)."""
    if prompt is None:
        return f'<div class="ll-prompt">{said("write.prompt.hint", "ll-pic ll-empty")}</div>'
    alt = html.escape(i18n.text("write.prompt.alt", rows=rows))
    caption = html.escape(i18n.text("write.prompt.caption", rows=rows))
    return (f'<div class="ll-prompt" data-rows="{rows}">'
            f'<img class="ll-pic" alt="{alt}" src="{png_data_url(prompt_picture(prompt, rows))}">'
            f'<div class="ll-caption">{caption}</div></div>')


def unusable_prompt_html(sentence: str) -> str:
    """Return the prompt's place when the drawing or picture cannot be a prompt: the sentence saying why."""
    return (f'<div class="ll-prompt" data-unusable="true"><div class="ll-pic ll-empty" role="status">'
            f'{html.escape(sentence)}</div></div>')


def endings_html(endings: np.ndarray, rows: int, labels, probabilities) -> str:
    """Return the endings in a wrapping grid, each with the reader's top class and probability under it."""
    cells = []
    for k, ending in enumerate(endings):
        name = labels[k] if k < len(labels) else ""
        reading = (i18n.text("write.ending.reads_as", name=name, percent=100 * probabilities[k]) if name
                   else i18n.text("write.ending.no_reader"))
        alt = html.escape(i18n.text("write.ending.alt", n=k + 1))
        cells.append(
            f'<figure class="ll-ending" data-label="{html.escape(name)}">'
            f'<img class="ll-pic" alt="{alt}" src="{png_data_url(ending_picture(ending, rows))}">'
            f'<figcaption>{html.escape(reading)}</figcaption></figure>')
    return f'<div class="ll-endings">{"".join(cells)}</div>'


def samples_html(digits: np.ndarray | None, title: str, empty: str = "") -> str:
    """Return a titled grid of small digits (N, side, side) in [0,1] (4 per row where there is room), or `empty`
    under the title when there are none."""
    head = f'<div class="ll-title">{html.escape(title)}</div>'
    if digits is None:
        return f'<div class="ll-samples">{head}<div class="ll-caption">{html.escape(empty)}</div></div>'
    cells = "".join(f'<img class="ll-pic" alt="{html.escape(i18n.text("write.sample.alt", n=k + 1))}" '
                    f'src="{png_data_url(_paint(d))}">' for k, d in enumerate(digits))
    return f'<div class="ll-samples">{head}<div class="grid">{cells}</div></div>'


def samples_waiting_html(title_key: str) -> str:
    """Return a samples grid's place before any are drawn: its title (a catalogue key) and a hint to press the button."""
    return f'<div class="ll-samples">{said(title_key, "ll-title")}{said("write.compare.press", "ll-caption")}</div>'


BAR = "\\|"  # a | inside a Markdown table's cell (as in p(x | class)) is written escaped


def _digits(record: dict) -> str:
    """Return which digits a record was measured on, as words ("500 binarized validation digits of mnist-5k")."""
    split = record.get("split", "validation")
    key = f"write.nll.split.{split}"
    shown = i18n.text(key) if key in i18n.catalogue(i18n.DEFAULT) else split
    return i18n.text("write.nll.digits", count=record["digits"], split=shown, dataset=record["dataset"])


def nll_markdown(figures, writer_name: str, vae_name: str | None) -> str:
    """Return the NLL table as Markdown from the checkpoints' stored records (ui.write.actions.NllFigures):
    a figure per model, "not measured" where a checkpoint has none."""
    writer, vae = figures.writer, figures.vae
    say = i18n.text
    not_measured = f"{say('write.nll.not_measured')} | {say('write.nll.not_measured_why')}"
    rows = [f"| {say('write.nll.col_model')} | {say('write.nll.col_nll')} | {say('write.nll.col_what')} |", "|---|---|---|"]
    named_writer = say("write.nll.writer", name=f"`{writer_name}`")
    if writer is None:
        rows.append(f"| {named_writer} | {not_measured} |")
    else:
        rows.append(f"| {named_writer} | **{writer['nats']:.1f}** | {say('write.nll.exact')} |")
        rows.append(f"| {say('write.nll.writer_class')} | {writer['given_class']:.1f} | "
                    f"{say('write.nll.exact_class').replace('|', BAR)} |")
    named_vae = say("write.nll.vae", name=f"`{vae_name}`")
    if vae_name is None:
        rows.append(f"| {say('write.nll.vae_none')} | — | {figures.no_vae} |")
    elif vae is None:
        rows.append(f"| {named_vae} | {not_measured} |")
    else:
        rows.append(f"| {named_vae} | ≤ **{vae['nats']:.1f}** | {say('write.nll.iwae', k=vae.get('k', 0))} |")
    if writer is not None and vae is not None and likelihood.same_digits(writer, vae):
        where = say("write.nll.same", digits=_digits(writer))
    elif writer is not None and vae is not None:
        where = say("write.nll.different", writer=_digits(writer), vae=_digits(vae))
    else:
        where = say("write.nll.on", digits=_digits(writer or vae)) if writer or vae else say("write.nll.lower")
    return "\n".join(rows) + "\n\n" + say("write.nll.footer", where=where, note=say("write.nll.note"))


# ---------------------------------------------------------------------- the next row's probabilities (Step / Play)
# A dark-to-bright heat scale (sampled from matplotlib's "inferno"), so p = 0 reads as the black
# background of the digit and p = 1 as bright ink.
HEAT = np.array([(0, 0, 4), (87, 16, 110), (188, 55, 84), (249, 142, 9), (252, 255, 164)], np.float32)
NEXT_ROW_CSS = """
.ll-next { max-width: 280px; margin: 8px auto 0; font-size: 13px; }
.ll-next .ll-title { font-size: 14px; margin-bottom: 2px; }
.ll-next .lbl { display: flex; justify-content: space-between; margin: 4px 0 1px; }
.ll-strip { display: grid; height: 14px; border-radius: 2px; overflow: hidden;
            background: #000; }
.ll-strip span { display: block; }
.ll-strip.drawn span.on { background: #fff; }
.ll-strip.drawn { height: 10px; }
.ll-scale { height: 8px; border-radius: 2px; margin-top: 6px;
            background: linear-gradient(to right, rgb(0,0,4), rgb(87,16,110), rgb(188,55,84), rgb(249,142,9),
                                        rgb(252,255,164)); }
.ll-scale-ends { display: flex; justify-content: space-between; font-size: 12px; opacity: .8; }
.ll-next .ll-ll { margin-top: 6px; font-size: 14px; font-variant-numeric: tabular-nums; }
.ll-next:is(.ll-present *) { max-width: 100%; font-size: 18px; }
.ll-next:is(.ll-present *) .ll-title, .ll-next:is(.ll-present *) .ll-ll { font-size: 20px; }
.ll-next:is(.ll-present *) .ll-strip { height: 22px; }
"""


def heat_colour(p: float) -> tuple[int, int, int]:
    """Return the heat scale's RGB colour for a probability p in [0,1]."""
    x = float(np.clip(p, 0, 1)) * (len(HEAT) - 1)
    k = min(int(x), len(HEAT) - 2)
    rgb = HEAT[k] + (HEAT[k + 1] - HEAT[k]) * (x - k)
    return tuple(int(c + 0.5) for c in rgb)


def _strip(probabilities: np.ndarray, kind: str) -> str:
    """Return one heat strip: a cell per pixel coloured by its probability, the value in its tooltip."""
    cells = "".join(f'<span style="background:rgb{heat_colour(p)}" '
                    f'title="{html.escape(i18n.text("write.next.pixel", n=j + 1, percent=100 * p))}"></span>'
                    for j, p in enumerate(probabilities))
    values = ",".join(f"{p:.4f}" for p in probabilities)
    return (f'<div class="ll-strip" data-kind="{kind}" data-p="{values}" style="{_columns(len(probabilities))}">'
            f'{cells}</div>')


def _columns(n: int) -> str:
    """Return the style that lays a strip's n pixels out in n equal columns (one row of the image)."""
    return f"grid-template-columns: repeat({n}, 1fr)"


def next_row_html(row: int, probabilities: np.ndarray, tempered: np.ndarray, pixels: np.ndarray,
                  temperature: float, row_log_likelihood: float, log_likelihood: float) -> str:
    """Return the row just written as heat strips (p of ink at temperature 1 and tempered), the pixels drawn, and nats.

    Row numbers are shown from 1 (the data attribute `data-row` is 0-based, as the API's `row`).
    """
    drawn = "".join(f'<span class="{"on" if x > 0.5 else ""}"></span>' for x in pixels)
    bits = "".join("1" if x > 0.5 else "0" for x in pixels)
    tempered_words = "write.next.tempered_same" if abs(temperature - 1) < 1e-9 else "write.next.tempered"
    side = len(pixels)

    def say(key, **params):
        return html.escape(i18n.text(key, **params))

    # The total in bold: the catalogue's sentence around it is escaped, then the mark goes in its place.
    total = say("write.next.log_likelihood", total="\0", row=row_log_likelihood).replace(
        "\0", f"<b>{log_likelihood:.1f}</b>")
    return (f'<div class="ll-next" data-row="{row}" data-done="{str(row == side - 1).lower()}">'
            f'<div class="ll-title">{say("write.next.title", row=row + 1, side=side)}</div>'
            f'<div class="lbl"><span>{say("write.next.model")}</span></div>{_strip(probabilities, "model")}'
            f'<div class="lbl"><span>{say(tempered_words, temperature=temperature)}</span></div>'
            f'{_strip(tempered, "tempered")}'
            f'<div class="lbl"><span>{say("write.next.drawn")}</span></div>'
            f'<div class="ll-strip drawn" data-pixels="{bits}" style="{_columns(side)}">{drawn}</div>'
            f'<div class="ll-scale"></div><div class="ll-scale-ends"><span>0%</span><span>50%</span><span>100%</span></div>'
            f'<div class="ll-ll" data-log-likelihood="{log_likelihood:.6f}">{total}</div></div>')


def next_row_waiting_html() -> str:
    """Return the strips' place before a row is stepped: a short message."""
    return f'<div class="ll-next" data-row="-1">{said("write.step.hint", "ll-caption")}</div>'
