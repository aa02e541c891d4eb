// The Explore tab's page script: run once by gr.HTML's js_on_load (with `element`, `trigger`, `props`).
// What it needs of Gradio's own markup and event handling comes from ui/static/gradio_internals.js
// (window.llGradio, loaded before this runs).
//
// It only adds what Gradio's own components do not do, all in the browser:
//  - arrow keys on a slider and Enter in its number box count as "released", so the RNN readout,
//    the map and the link follow (Gradio sends "release" only for the mouse and on leaving the box);
//  - a box being typed in sends Gradio only values in the slider's range (not an empty box, a lone minus
//    sign or 9 on the way to 99); when the typing is finished (Enter, leaving the box) a value beyond the
//    range is clamped, with one short note;
//  - the address bar and the link box always hold the link to the digit on screen (with the page's ?lang=);
//  - "Copy link" says that the link was copied, or shows it to copy by hand;
//  - a file over the upload limit is refused here with our sentence (Gradio's own is English only);
//  - window.llShowDigit() brings the digit into view (the Train tab's "Open in explorer" calls it);
//  - the presentation layout (a class on the page's container), by button, by ?present=1, Esc leaves;
//  - clicking a slider's name asks the server for a preview of that dimension (a "select" event).

const KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End"]);

window.llTrigger = trigger;  // the newest mount of this component sends the events
if (window.llExploreReady) return;
window.llExploreReady = true;

const G = window.llGradio;
const L = window.llLanguage;  // ui/static/language.js: the page's language and the catalogue's texts
const say = (key, params) => L.t(key, params);  // after `await L.ready`
const inSliders = (node) => node instanceof Element && node.closest("#ll-sliders .ll-slider");
const rangeOf = (slider) => G.sliderRange(slider);  // its min and max are the slider's
const clampTo = (range, value) => Math.max(parseFloat(range.min), Math.min(parseFloat(range.max), value));
const release = (input) => G.releaseSlider(input);

document.addEventListener("keyup", (event) => {
  const input = event.target;
  if (inSliders(input) && G.isSliderRange(input) && KEYS.has(event.key)) release(input);
}, true);

// Typing is finished (Enter, leaving the box): a value beyond the range becomes its nearest end, said once in
// the note, and Gradio takes it; a box left without a number shows the slider's value again.
function finishTyping(input) {
  const slider = inSliders(input);
  const range = rangeOf(slider);
  const value = parseFloat(input.value);
  if (!Number.isFinite(value)) {
    input.value = range.value;
    return;
  }
  const clamped = clampTo(range, value);
  if (clamped === value) return;
  G.typeInSliderBox(input, clamped);  // Gradio takes the value in range (the input listener below lets it pass)
  const note = document.querySelector("#ll-slider-note");
  const name = (G.sliderName(slider) || "").split(" ")[0] || "z";
  L.ready.then(() => {
    if (note) note.textContent = say("explore.slider_clamped", { name, min: range.min.replace("-", "−"), max: range.max, value, clamped });
  });
}

document.addEventListener("keydown", (event) => {
  const input = event.target;
  if (inSliders(input) && G.isSliderBox(input) && event.key === "Enter") {
    finishTyping(input);
    release(input);
  }
  if (event.key === "Escape") setPresenting(false);
}, true);

// Capture phase: these run before Gradio's own listeners on the box ("change" comes first when the box is
// left, then "blur", on which Gradio sends "release"); a second call finds the value in range.
for (const type of ["change", "blur"]) {
  document.addEventListener(type, (event) => {
    const input = event.target;
    if (inSliders(input) && G.isSliderBox(input)) finishTyping(input);
  }, true);
}

// Capture phase: this runs before Gradio reads the box, so the slider only ever sees a number in range. A
// value beyond it is typing not finished yet (the 9 of 99): Gradio does not see it, and nothing is said.
document.addEventListener("input", (event) => {
  const input = event.target;
  if (!inSliders(input) || !G.isSliderBox(input)) return;
  const value = parseFloat(input.value);
  if (!Number.isFinite(value) || clampTo(rangeOf(inSliders(input)), value) !== value) {
    G.withholdFromGradio(event);
    return;
  }
  const note = document.querySelector("#ll-slider-note");
  if (note) note.textContent = "";
}, true);

// The presentation layout is the class ll-present on Gradio's page container.
const presenting = () => Boolean(G.pageContainer()?.classList.contains("ll-present"));

// The server puts "?model=...&z=..." into the link box; show it whole and mirror it in the address bar. A
// language chosen in the link (?lang=, as the switch sets it) stays in it.
window.llLink = (query) => {
  if (typeof query !== "string" || !query.startsWith("?")) return query;
  live.answered = true;  // the server has shown a digit (openLink below leaves an opened link to it)
  const params = new URLSearchParams(query);
  const lang = new URLSearchParams(window.location.search).get("lang");
  if (lang) params.set("lang", lang);
  if (presenting()) params.set("present", "1");
  const search = params.toString().replace(/%2C/g, ",");
  const url = window.location.origin + window.location.pathname + (search ? "?" + search : "");
  try { window.history.replaceState(null, "", url); } catch (e) { /* a sandboxed frame */ }
  return url;
};
// On a slow page the server's first link can arrive before this script has defined llLink: its transform then
// failed and the box kept the bare query. Give the box its whole link once both are here (called at the end).
function wholeFirstLink(tries = 600) {
  const block = document.querySelector("#ll-link");
  const box = block && G.textboxInput(block);
  if (!box || !box.value) { if (tries > 0) setTimeout(() => wholeFirstLink(tries - 1), 100); return; }
  if (box.value.startsWith("?")) box.value = window.llLink(box.value);
}

// Copy the link, and say so beside the button and in the live region; without the clipboard (no permission,
// a sandboxed frame) show the link beside the button, selected, for the visitor to copy by hand (the link box
// is read-only: its text cannot be selected).
window.llCopyLink = async () => {
  const link = document.querySelector("#ll-link");
  const box = link && G.textboxInput(link);
  const url = box && box.value ? box.value : window.location.href;
  let copied = false;
  try {
    await navigator.clipboard.writeText(url);
    copied = true;
  } catch (e) { /* no clipboard here: the visitor copies from the box */ }
  await L.ready;
  const words = copied ? say("explore.link_copied") : say("explore.link_copy_by_hand");
  const note = document.querySelector("#ll-share-note");
  const region = document.querySelector("#ll-announce");
  if (region) region.textContent = words;
  if (!note) return;
  note.textContent = words;
  if (!copied) {
    const shown = document.createElement("code");
    shown.className = "ll-share-link";
    shown.textContent = url;
    note.append(" ", shown);
    window.getSelection()?.selectAllChildren(shown);
  }
};

// Bring the digit and its sliders into view (the first screen of the tab): for a button elsewhere that opens
// a model here (the Train tab's "Open in explorer", ui/explore SHOW_DIGIT_JS). Two frames: the tab it switches
// to is drawn first.
window.llShowDigit = () => {
  requestAnimationFrame(() => requestAnimationFrame(() => {
    const target = document.querySelector("#ll-model-row") || document.querySelector("#ll-digit-box");
    if (target) target.scrollIntoView({ block: "start" });
  }));
};

// A file over the upload limit never reaches Gradio (its refusal is one English sentence, in a toast): ours
// says how large it is, in the page's language, beside the upload; the pictures there are the previous digit's.
function refuseLargeFiles(event, files) {
  const note = document.querySelector("#ll-upload-note");
  const limit = Number(note?.dataset.limitBytes);
  const large = [...(files || [])].find((file) => limit && file.size > limit);
  if (!note) return;
  if (!large) {
    note.textContent = "";
    return;
  }
  event.preventDefault();
  G.withholdFromGradio(event);
  if (event.target instanceof HTMLInputElement) event.target.value = "";
  L.ready.then(() => {
    note.textContent = say("explore.upload_too_large", { name: large.name, size: large.size / 2 ** 20, limit: limit / 2 ** 20 });
  });
}
document.addEventListener("change", (event) => {
  if (event.target instanceof HTMLInputElement && event.target.type === "file" && event.target.closest("#ll-upload")) {
    refuseLargeFiles(event, event.target.files);
  }
}, true);
document.addEventListener("drop", (event) => {
  if (event.target instanceof Element && event.target.closest("#ll-upload")) refuseLargeFiles(event, event.dataTransfer?.files);
}, true);

function setPresenting(on) {
  const container = G.pageContainer();
  if (!container) return;
  container.classList.toggle("ll-present", on);
  // The projector's first screen is the top of the page; the explanation follows below it.
  if (on) window.scrollTo(0, 0);
  const url = new URL(window.location.href);  // its ?lang= stays
  if (on) url.searchParams.set("present", "1"); else url.searchParams.delete("present");
  try { window.history.replaceState(null, "", url.toString().replace(/%2C/g, ",")); } catch (e) { /* sandboxed */ }
}
window.llTogglePresenting = () => {
  setPresenting(!presenting());
};
if (new URLSearchParams(window.location.search).get("present") === "1") setPresenting(true);

document.addEventListener("click", (event) => {
  const slider = inSliders(event.target);
  if (!slider || !G.onSliderName(event.target)) return;
  const slot = parseInt((slider.id || "").replace("ll-z", ""), 10);
  if (Number.isInteger(slot)) window.llTrigger("select", { index: slot, value: slot });
});

// ---------------------------------------------------------------- the drag loop, in the page
// The server hands each digit in a frame that names its model, reader, code and slider order
// (page.py digit_html). When ui/static/latent_lab.js can load that model, every slider move is
// decoded and read here, once per display frame, and painted on the frame's <canvas>; the RNN's
// bars and row-by-row picture get a live copy while the hand moves. The server sees the move only on
// release (the full view). A page without the models (script or weights blocked) asks the server
// for each frame's picture instead (page.py decode_slots, through this component's "input" event).

// answered: the server has shown a digit; touched: a person moved a slider; linkOpened: openLink has run.
const live = { key: "", models: null, loads: new Map(), frameQueued: false, userMove: false, paints: 0,
  answered: false, touched: false, linkOpened: false };
window.llLive = live;  // for tests and benches: live.models is set when the page decodes itself

const digitFrame = () => document.querySelector("#ll-digit-box .ll-digit-frame");

// One load per (model, reader, version) per page; a failure stays a failure. The version changes when
// either checkpoint is saved again (a run still training), so the page then loads the new one.
function modelsFor(model, reader, version) {
  const key = `${model}|${reader}|${version}`;
  if (!live.loads.has(key)) {
    live.loads.set(key, window.LatentLab.load(model, reader).catch(() => null));
  }
  return live.loads.get(key);
}

// Follow the model and reader the frame names; load them (once) and paint the frame's code.
async function sync() {
  const frame = digitFrame();
  if (!frame || !window.LatentLab) return;
  const { model, reader, version } = frame.dataset;
  const key = `${model}|${reader}|${version}`;
  if (key !== live.key) {
    live.key = key;
    live.models = null;  // until the new models are here, the server draws
    const models = await modelsFor(model, reader, version);
    if (live.key !== key) return;  // switched again meanwhile
    live.models = models;
  }
  if (live.models) paintSoon(false);
}

// The code on the sliders: the frame's full code with each shown slider's value at its dimension.
function currentZ(frame) {
  const z = Float32Array.from(frame.dataset.z.split(","), Number);
  frame.dataset.order.split(",").forEach((d, slot) => {
    const slider = document.querySelector(`#ll-z${slot}`);
    const box = slider && G.sliderBox(slider), range = slider && G.sliderRange(slider);
    const value = parseFloat(box && box.value !== "" ? box.value : range && range.value);
    if (Number.isFinite(value)) z[Number(d)] = value;
  });
  return z;
}

function paintSoon(userMove) {
  live.userMove = live.userMove || userMove;
  if (live.frameQueued) return;
  live.frameQueued = true;
  requestAnimationFrame(() => {  // many events in one frame: one picture
    live.frameQueued = false;
    const readToo = live.userMove;
    live.userMove = false;
    const frame = digitFrame();
    if (!live.models || !frame) return;
    const canvas = frame.querySelector("canvas.ll-digit-live");
    const z = currentZ(frame);
    const pixels = live.models.decode(z);
    live.z = Array.from(z);
    window.LatentLab.paint(canvas, pixels);
    canvas.hidden = false;
    live.paints += 1;
    if (readToo) readSoon(pixels);
  });
}

// The RNN's reading (one recurrent step per row, the bars, the belief picture) right after the frame that
// shows the digit, so the picture never waits for it; a newer picture replaces one not read yet.
let toRead = null;
function readSoon(pixels) {
  if (toRead === null) setTimeout(() => { const latest = toRead; toRead = null; showReading(latest); }, 0);
  toRead = pixels;
}
window.llReader = (reader) => {  // the Reader choice changed: the frame names it until the server's next picture
  const frame = digitFrame();
  if (frame && typeof reader === "string") frame.dataset.reader = reader;
  sync();
};

// Hide our live copy of `block`'s content as soon as the server changes the original (gradio's own
// status markup around a pending event, elsewhere in the block, does not count).
function untilServerChanges(block, original, done) {
  const observer = new MutationObserver((changes) => {
    if (!changes.some((c) => original.contains(c.target) || [...c.removedNodes].includes(original))) return;
    observer.disconnect();
    done();
  });
  observer.observe(block, { subtree: true, childList: true, characterData: true, attributes: true });
}

function showReading(pixels) {
  const belief = live.models.readRows(pixels);
  if (!belief) return;  // no reader chosen
  const names = live.models.info.class_names.length ? live.models.info.class_names : belief[0].map((_, k) => `${k}`);
  showBars(belief[belief.length - 1], names);
  drawBelief(pixels, belief, names);
}

// The gr.Label's bars: a copy of the server's (same look) with the live values, the original hidden.
function showBars(probs, names) {
  const block = document.querySelector("#ll-probs");
  const original = block && G.labelBars(block);
  if (!G.labelHasBars(original)) return;
  let copy = G.labelLiveCopy(block);
  if (!copy) {
    copy = original.cloneNode(true);
    copy.classList.add("ll-live");
    original.before(copy);
    untilServerChanges(block, original, () => { copy.remove(); delete block.dataset.live; });
  }
  block.dataset.live = "1";
  const ranked = names.map((name, k) => [name, probs[k]]).sort((a, b) => b[1] - a[1]);
  G.setLabelTop(copy, ranked[0][0]);
  G.labelRows(copy).forEach((row, k) => {
    if (ranked[k]) G.setLabelRow(row, ...ranked[k]);
  });
}

// The row-by-row picture (render.readout_picture's layout), drawn on a canvas laid over the server's.
function drawBelief(pixels, belief, names) {
  const readout = document.querySelector("#ll-readout");
  const img = readout && G.imageIn(readout);
  if (!img) return;
  let canvas = img.parentElement.querySelector("canvas.ll-readout-live");
  if (!canvas) {
    canvas = document.createElement("canvas");
    canvas.className = "ll-readout-live";
    img.after(canvas);
    const parent = img.parentElement;
    const observer = new MutationObserver((changes) => {
      if (changes.some((c) => c.target !== canvas && !canvas.contains(c.target))) canvas.hidden = true;
    });
    observer.observe(parent, { subtree: true, childList: true, attributes: true, attributeFilter: ["src"] });
  }
  // render.readout_picture's layout and colours, from the server (ui/inpage.py sends READOUT_LAYOUT).
  const L = live.models.info.readout, SIDE = live.models.side;
  const ROW = L.row, CELL = L.cell, HEADER = L.header, DIGIT = SIDE * ROW, LEFT = DIGIT + L.gap;
  const rgb = (c) => `rgb(${c.join(",")})`;
  canvas.width = LEFT + names.length * CELL + L.right;
  canvas.height = HEADER + SIDE * ROW + L.bottom;
  Object.assign(canvas.style, { position: "absolute", left: `${img.offsetLeft}px`, top: `${img.offsetTop}px`,
    width: `${img.offsetWidth}px`, height: `${img.offsetHeight}px`, objectFit: "contain" });
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  for (let k = 0; k < SIDE * SIDE; k++) {
    const v = Math.round(Math.min(1, Math.max(0, pixels[k])) * 255);
    ctx.fillStyle = `rgb(${v},${v},${v})`;
    ctx.fillRect((k % SIDE) * ROW, HEADER + Math.floor(k / SIDE) * ROW, ROW, ROW);
  }
  ctx.font = `${L.label_font}px sans-serif`;
  ctx.textBaseline = "middle";
  names.forEach((name, c) => {  // class names written upwards from the same baseline as on the server's picture
    ctx.save();
    ctx.translate(LEFT + c * CELL + Math.floor(CELL / 2), HEADER - L.label_inset);
    ctx.rotate(-Math.PI / 2);
    ctx.fillStyle = "#000";
    ctx.fillText(name.slice(0, L.label_chars), 0, 0);
    ctx.restore();
  });
  const middle = Math.floor(ROW / 2);
  belief.forEach((probs, r) => {
    const y = HEADER + r * ROW;
    ctx.font = `${L.number_font}px sans-serif`;
    ctx.textAlign = "center";
    ctx.fillStyle = rgb(L.number_rgb);
    ctx.fillText(String(r + 1), DIGIT + Math.floor(L.gap / 2), y + middle);
    ctx.textAlign = "start";
    let best = 0;
    probs.forEach((p, c) => {
      if (p > probs[best]) best = c;
      // Truncated as Python's int() does on the server's picture.
      ctx.fillStyle = `rgb(${Math.floor(255 - L.shade[0] * p)},${Math.floor(255 - L.shade[1] * p)},255)`;
      ctx.fillRect(LEFT + c * CELL, y, CELL - 1, ROW - 1);
    });
    ctx.fillStyle = "#000";
    ctx.beginPath();  // PIL's ellipse covers the pixels from centre - dot to centre + dot, both included
    ctx.arc(LEFT + best * CELL + Math.floor(CELL / 2) - 0.5, y + middle - 0.5, L.dot + 0.5, 0, 2 * Math.PI);
    ctx.fill();
  });
  ctx.fillStyle = rgb(L.line_rgb);  // PIL's 2-pixel line at y covers rows y and y + 1
  ctx.fillRect(0, HEADER + SIDE * ROW - 1, canvas.width, 2);
  canvas.hidden = false;
}

// A slider moved (drag, touch, arrow key, a typed value): paint here, or ask the server once per frame.
let serverQueued = false;
document.addEventListener("input", (event) => {
  if (!inSliders(event.target) || !(G.isSliderRange(event.target) || G.isSliderBox(event.target))) return;
  live.touched = live.touched || event.isTrusted;  // a person moved a slider (not this script)
  if (live.models) {
    paintSoon(true);
  } else if (!serverQueued) {
    serverQueued = true;  // after Gradio has taken the new value, and at most once per frame
    requestAnimationFrame(() => { serverQueued = false; window.llTrigger("input"); });
  }
});

// Random sample, Reset, a class centroid and a map click, in the page: the sliders take the new code
// and the digit is painted at once. Random then lets go of a slider, so the server shows its full
// view of the page's code (its own Random handler serves pages without the models, and models with
// dimensions that have no slider); the other clicks still reach the server, which answers with the
// same code (the centroids and the map's points and plane come with the weights,
// ModelView.page_tensors) and its caption and link.
function gaussian() {  // Box-Muller: one draw from N(0, 1)
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}

// Put code z on the sliders, clipped and rounded as the server's answer will be (ModelView.z_to_slots);
// return the sliders' number boxes.
function setSliders(frame, z) {
  frame.dataset.z = Array.from(z).join(",");  // the code the page paints (currentZ reads it)
  const scale = 10 ** live.models.info.slider_decimals;
  const boxes = frame.dataset.order.split(",").map((d, slot) => {
    const slider = document.querySelector(`#ll-z${slot}`);
    const box = slider && G.sliderBox(slider);
    if (box) {
      G.typeInSliderBox(box, Math.round(clampTo(rangeOf(inSliders(box)), z[Number(d)]) * scale) / scale);
    }
    return box;
  });
  return boxes.filter(Boolean);
}

// The code a click asks for, or null when the server must answer (not one of ours).
function codeFor(target, event, frame) {
  const dims = frame.dataset.z.split(",").length;
  if (target.closest("#ll-random")) {  // a dimension without a slider is the server's to draw
    return dims === frame.dataset.order.split(",").length ? Float32Array.from({ length: dims }, gaussian) : null;
  }
  if (target.closest("#ll-reset")) return new Float32Array(dims);
  const centroid = target.closest("[id^=ll-centroid-]");
  if (centroid) return live.models.centroid(parseInt(centroid.id.replace("ll-centroid-", ""), 10));
  const holder = G.imageButton(target, "#ll-map");  // the picture's own button (not its icon buttons)
  const img = holder && G.imageIn(holder);
  const pixel = img && img.naturalWidth && G.imagePixel(img, event);  // as Gradio's select event has it
  return pixel ? live.models.codeAtMapPixel(pixel[0], pixel[1])[0] : null;
}

document.addEventListener("click", (event) => {
  const frame = digitFrame();
  if (!(event.target instanceof Element) || !live.models || !frame) return;
  const z = codeFor(event.target, event, frame);
  if (!z) return;
  live.target = Array.from(z);  // the code asked for (the sliders hold it rounded)
  const boxes = setSliders(frame, z);
  if (event.target.closest("#ll-random") && boxes.length) {
    G.withholdFromGradio(event);
    setTimeout(() => release(rangeOf(inSliders(boxes[0]))), 0);  // once Gradio has taken the values
  }
}, true);

// An opened link (?model=...&z=...): its code is painted as soon as the model is here, unless the
// server's answer to the page opening (page.py on_load) came first. That answer follows with the
// labels, readout, map and any warning about the link; a code the page cannot read is left to it.
const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;  // what Python's float() reads, bar inf/nan/_
function linkCode(text, dims, limit) {  // as models.parse_z (the box's own limit), then clipped as on_load does
  const parts = text.split(/[,;]/).filter((part) => part.trim() !== "");
  if (parts.length !== dims || !parts.every((part) => NUMBER.test(part))) return null;
  const values = parts.map(Number);
  return values.every((v) => Math.abs(v) <= limit) ? Float32Array.from(values) : null;
}

async function openLink() {
  const params = new URLSearchParams(window.location.search);
  const frame = digitFrame();
  if (!frame || live.linkOpened) return;  // once, as soon as the first digit is on the page
  live.linkOpened = true;
  if (!params.get("z") || !window.LatentLab || live.answered) return;
  const model = params.get("model") || frame.dataset.model;
  const models = await modelsFor(model, "", "");  // "": the model's own reader, as on_load chooses
  if (!models || live.answered || live.touched) return;  // the server, or the hand, came first
  const z = linkCode(params.get("z"), models.latentDim, models.info.link_limit);
  if (!z) return;
  const range = G.sliderRange(document.querySelector("#ll-z0"));
  z.forEach((v, d) => { z[d] = clampTo(range, v); });  // every dimension, as on_load clips them
  const { reader, version } = models.info;
  Object.assign(frame.dataset, { model, reader, version, order: models.info.order.join(",") });
  live.key = `${model}|${reader}|${version}`;
  live.loads.set(live.key, Promise.resolve(models));
  live.models = models;
  live.target = Array.from(z);
  setSliders(frame, z);
}

// The server replaced the digit (release, random, reset, a centroid, the map, a link, an upload, another
// model): follow its model and paint its code, read from the sliders it set in the same answer.
function watchDigit() {
  const box = document.querySelector("#ll-digit-box");
  if (!box) { setTimeout(watchDigit, 100); return; }
  new MutationObserver(() => { sync(); openLink(); }).observe(box, { subtree: true, childList: true });
  sync();
  openLink();
}
window.addEventListener("load", watchDigit);  // latent_lab.js is deferred: wait for it
if (document.readyState === "complete") watchDigit();

// ---------------------------------------------------------------- the encoder's bands on the sliders
// The panel "How the VAE sees this digit" (explain.py) lists, slider by slider, where q(z|x) of the digit
// on screen lies: mu - sigma, mu and mu + sigma as fractions of the slider's range (data-bands). Each
// slider's track shows that band (explore.css); a slider the model does not use shows none. The band
// belongs to the digit of the last release: it follows the panel, never the frames of a drag.
function showBands() {
  const list = document.querySelector("#ll-explain-dims [data-bands]");
  const bands = list ? list.dataset.bands.split(";").filter(Boolean).map((band) => band.split(",")) : [];
  document.querySelectorAll("#ll-sliders .ll-slider").forEach((slider) => {
    const range = G.sliderRange(slider);
    const band = bands[parseInt(slider.id.replace("ll-z", ""), 10)];
    if (!range) return;
    ["lo", "mu", "hi"].forEach((name, k) => {
      if (band) range.style.setProperty(`--ll-band-${name}`, band[k]);
      else range.style.removeProperty(`--ll-band-${name}`);
    });
  });
}

function watchBands() {
  const panel = document.querySelector("#ll-explain-dims");
  if (!panel) { setTimeout(watchBands, 100); return; }
  new MutationObserver(showBands).observe(panel, { subtree: true, childList: true, characterData: true });
  showBands();
}
watchBands();

// ---------------------------------------------------------------- text alternatives and the live region
// The digit, the row-by-row readout and the map say what they show, with the reader's verdict as the bars
// show it; the live region (#ll-announce) says a new verdict once the page settles (not at every frame of
// a drag), and an upload's result. Pictures' names go through G.describeImage (gr.Image has no alt).
const announced = { verdict: "", upload: "", first: true };
function verdict() {  // the reader's top class and its confidence as the bars show them, or null
  const block = document.querySelector("#ll-probs");
  const bars = block && (block.dataset.live ? G.labelLiveCopy(block) : G.labelBars(block));
  const top = bars && G.labelTop(bars);
  return top ? { label: top[0], confidence: top[1] } : null;
}
async function describe() {
  await L.ready;
  const top = verdict();
  const says = top ? say("explore.verdict", top) : "";
  const digitText = says ? say("explore.alt_digit_verdict", { says }) : say("explore.alt_digit");
  const frame = digitFrame();
  frame?.querySelectorAll("img.ll-digit").forEach((img) => { if (img.alt !== digitText) img.alt = digitText; });
  const canvas = frame?.querySelector("canvas.ll-digit-live");
  if (canvas && canvas.getAttribute("aria-label") !== digitText) {
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", digitText);
  }
  const readout = document.querySelector("#ll-readout");
  const rows = document.querySelector("#ll-rows-read input[type=range]")?.value;
  if (readout) {
    G.describeImage(readout, says ? say("explore.alt_readout", { rows, says }) : say("explore.alt_readout_none"));
  }
  const map = document.querySelector("#ll-map");
  if (map) G.describeImage(map, says ? say("explore.alt_map_verdict", { says }) : say("explore.alt_map"));
  const upload = document.querySelector("#ll-model-saw img")?.getAttribute("src") || "";
  const region = document.querySelector("#ll-announce");
  if (!region) return;
  if (upload && upload !== announced.upload) {
    announced.upload = upload;
    const notes = (document.querySelector("#ll-notes")?.textContent || "").trim();
    announced.verdict = says;
    const loaded = says ? say("explore.announce_upload_verdict", { says }) : say("explore.announce_upload");
    region.textContent = notes ? `${loaded} ${notes}` : loaded;
  } else if (says && says !== announced.verdict) {
    announced.verdict = says;
    if (announced.first) { announced.first = false; return; }  // the page's first digit: nothing new to say
    region.textContent = say("explore.announce_verdict", top);
  }
}
let describeTimer = null;
function describeSoon() {  // once the page has been still a moment
  clearTimeout(describeTimer);
  describeTimer = setTimeout(describe, 700);
}
function watchDescriptions() {
  const tab = document.querySelector("#ll-explore");
  if (!tab) { setTimeout(watchDescriptions, 100); return; }
  new MutationObserver(describeSoon).observe(tab, { subtree: true, childList: true, characterData: true,
    attributes: true, attributeFilter: ["src", "data-live"] });
  document.addEventListener("input", describeSoon);
  describeSoon();
}
watchDescriptions();
wholeFirstLink();
