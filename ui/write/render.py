"""Pictures for the Write tab: the digit being written, the reader's bars, prompts, endings, samples, the NLL table.

Pure functions of arrays (no gradio, no models). Digits are float arrays (side, side) in [0,1], white
ink on black, as the models see them. Pictures go into gr.HTML as small inline PNGs that the
browser scales up with hard pixel edges (an MNIST digit is about 300 bytes), so the animation's
update per row stays light.
"""

import base64
import html
import io

import numpy as np
from PIL import Image, ImageDraw

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
"""


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
    status = caption or (f"Done: {side} of {side} rows written." if done else f"Writing row {rows} of {side}…")
    alt = "the written digit" if done else f"the digit after {rows} rows"
    return (f'<div class="ll-write-digit" data-rows="{rows}" data-done="{str(done).lower()}">'
            f'<img class="ll-pic" alt="{alt}" src="{png_data_url(writing_picture(canvas, rows, done))}">'
            f'<div class="ll-caption ll-write-status">{html.escape(status)}</div></div>')


def empty_digit_html(message: str) -> str:
    """Return the digit area before anything is written: a black square with a short message."""
    return (f'<div class="ll-write-digit" data-rows="0" data-done="false">'
            f'<div class="ll-pic ll-empty">{html.escape(message)}</div></div>')


def bars_html(belief, class_names, title: str) -> str:
    """Return the reader's belief as one horizontal bar per class, in class order, the favourite highlighted."""
    head = f'<div class="ll-title">{html.escape(title)}</div>'
    if belief is None:
        return f'<div class="ll-write-bars">{head}<div>No reader (RowRNN) is trained on this data set.</div></div>'
    belief = np.asarray(belief, dtype=np.float64)
    best = int(np.argmax(belief))
    rows = []
    for k, p in enumerate(belief):
        name = html.escape(class_names[k] if k < len(class_names) else str(k))
        rows.append(f'<div class="ll-bar{" top" if k == best else ""}" data-class="{name}" data-p="{p:.4f}">'
                    f'<span class="n">{name}</span><span class="t"><span class="f" style="width:{100 * p:.1f}%">'
                    f'</span></span><span class="p">{100 * p:.0f}%</span></div>')
    return f'<div class="ll-write-bars" data-best="{best}">{head}{"".join(rows)}</div>'


def waiting_bars_html(title: str, message: str) -> str:
    """Return the bars' place before anything is written: the title and a short message."""
    return f'<div class="ll-write-bars"><div class="ll-title">{html.escape(title)}</div><div>{html.escape(message)}</div></div>'


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


PROMPT_HINT = "Draw or upload a digit, then press Complete my drawing."


def prompt_html(prompt: np.ndarray | None, rows: int) -> str:
    """Return the prompt picture with its caption (or a hint before anything was drawn)."""
    if prompt is None:
        return f'<div class="ll-prompt"><div class="ll-pic ll-empty">{html.escape(PROMPT_HINT)}</div></div>'
    return (f'<div class="ll-prompt" data-rows="{rows}">'
            f'<img class="ll-pic" alt="your digit, top {rows} rows kept" src="{png_data_url(prompt_picture(prompt, rows))}">'
            f'<div class="ll-caption">Your digit, binarized: the top {rows} rows (above the red line) are the prompt.'
            f'</div></div>')


def endings_html(endings: np.ndarray, rows: int, labels, probabilities) -> str:
    """Return the endings in a wrapping grid, each with the reader's top class and probability under it."""
    cells = []
    for k, ending in enumerate(endings):
        name = labels[k] if k < len(labels) else ""
        reading = f"reads as {html.escape(name)} · {100 * probabilities[k]:.0f}%" if name else "no reader"
        cells.append(
            f'<figure class="ll-ending" data-label="{html.escape(name)}">'
            f'<img class="ll-pic" alt="ending {k + 1}" src="{png_data_url(ending_picture(ending, rows))}">'
            f'<figcaption>{reading}</figcaption></figure>')
    return f'<div class="ll-endings">{"".join(cells)}</div>'


def samples_html(digits: np.ndarray | None, title: str, empty: str = "") -> str:
    """Return a titled grid of small digits (N, side, side) in [0,1] (4 per row where there is room)."""
    head = f'<div class="ll-title">{html.escape(title)}</div>'
    if digits is None:
        return f'<div class="ll-samples">{head}<div class="ll-caption">{html.escape(empty)}</div></div>'
    cells = "".join(f'<img class="ll-pic" alt="sample {k + 1}" src="{png_data_url(_paint(d))}">'
                    for k, d in enumerate(digits))
    return f'<div class="ll-samples">{head}<div class="grid">{cells}</div></div>'


NOT_MEASURED = ("not measured", "this checkpoint was saved without it (a run stopped early, or saved before the "
                                 "measurement existed): bench/writer_figures.py --store, or train it again")


def _digits(record: dict) -> str:
    return f"{record['digits']:,} binarized {record.get('split', 'validation')} digits of {record['dataset']}"


def nll_markdown(figures, writer_name: str, vae_name: str | None) -> str:
    """Return the NLL table as Markdown from the checkpoints' stored records (ui.write.actions.NllFigures):
    a figure per model, "not measured" where a checkpoint has none."""
    writer, vae = figures.writer, figures.vae
    rows = ["| model | NLL, nats per image | what the number is |", "|---|---|---|"]
    if writer is None:
        rows.append(f"| writer `{writer_name}` | {NOT_MEASURED[0]} | {NOT_MEASURED[1]} |")
    else:
        rows.append(f"| writer `{writer_name}` | **{writer['nats']:.1f}** | exact: −log p(x), from its conditionals |")
        rows.append(f"| writer, told the true class | {writer['given_class']:.1f} | exact: −log p(x \\| class) |")
    if vae_name is None:
        rows.append(f"| VAE | — | {figures.no_vae} |")
    elif vae is None:
        rows.append(f"| VAE `{vae_name}` | {NOT_MEASURED[0]} | {NOT_MEASURED[1]} |")
    else:
        rows.append(f"| VAE `{vae_name}` | ≤ **{vae['nats']:.1f}** | IWAE bound, k = {vae.get('k', 0):,} "
                    "(its NLL is at most this) |")
    if writer is not None and vae is not None and likelihood.same_digits(writer, vae):
        where = f"Both on the same {_digits(writer)}; lower is better."
    elif writer is not None and vae is not None:
        where = (f"Not on the same digits (the writer: {_digits(writer)}; the VAE: {_digits(vae)}), so the two "
                 "are not directly comparable; lower is better.")
    else:
        where = f"On the {_digits(writer or vae)}; lower is better." if writer or vae else "Lower is better."
    return ("\n".join(rows) + f"\n\n{where} The writer's figure is its exact negative log-likelihood; the VAE "
            "cannot compute its own, so its figure is an upper bound on it (the true VAE NLL is somewhat lower). "
            "Measured when each model was trained or benched, and stored with its checkpoint.")


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
"""


def heat_colour(p: float) -> tuple[int, int, int]:
    """Return the heat scale's RGB colour for a probability p in [0,1]."""
    x = float(np.clip(p, 0, 1)) * (len(HEAT) - 1)
    k = min(int(x), len(HEAT) - 2)
    rgb = HEAT[k] + (HEAT[k + 1] - HEAT[k]) * (x - k)
    return tuple(int(c + 0.5) for c in rgb)


def _strip(probabilities: np.ndarray, kind: str) -> str:
    """Return one heat strip: a cell per pixel coloured by its probability, the value in its tooltip."""
    cells = "".join(f'<span style="background:rgb{heat_colour(p)}" title="pixel {j + 1}: {100 * p:.0f}%"></span>'
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
    same = " (the same)" if abs(temperature - 1) < 1e-9 else ""
    side = len(pixels)
    return (f'<div class="ll-next" data-row="{row}" data-done="{str(row == side - 1).lower()}">'
            f'<div class="ll-title">Row {row + 1} of {side}: the probability of ink, pixel by pixel</div>'
            f'<div class="lbl"><span>the writer\'s own (temperature 1)</span></div>{_strip(probabilities, "model")}'
            f'<div class="lbl"><span>at temperature {temperature:.2f}{same}: drawn from these</span></div>'
            f'{_strip(tempered, "tempered")}'
            f'<div class="lbl"><span>the pixels drawn</span></div>'
            f'<div class="ll-strip drawn" data-pixels="{bits}" style="{_columns(side)}">{drawn}</div>'
            f'<div class="ll-scale"></div><div class="ll-scale-ends"><span>0%</span><span>50%</span><span>100%</span></div>'
            f'<div class="ll-ll" data-log-likelihood="{log_likelihood:.6f}">log-likelihood so far: '
            f'<b>{log_likelihood:.1f}</b> nats (this row {row_log_likelihood:.1f})</div></div>')


def next_row_waiting_html(message: str) -> str:
    """Return the strips' place before a row is stepped: a short message."""
    return f'<div class="ll-next" data-row="-1"><div class="ll-caption">{html.escape(message)}</div></div>'
