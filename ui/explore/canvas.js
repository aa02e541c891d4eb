// The drawing canvas: run by gr.HTML's js_on_load (with `element`, `trigger`, `props`).
//
// One black round brush on white paper, ready at once: no tools to pick, no layers, no zoom.
// While a digit is drawn its picture goes to the server as a PNG data URL (the component's value)
// at most every SEND_MS, and once more when the stroke ends; the server prepares it the way MNIST
// was made, and the RNN reads it live. The stroke is about 1/12 of the canvas wide: a digit drawn
// to fill most of the canvas ends up with MNIST's 2-3 pixel strokes once fitted into 20x20.

const SEND_MS = 250;
const canvas = element.querySelector("canvas.ll-canvas");
if (!canvas || canvas.dataset.ready) return;
canvas.dataset.ready = "1";
const ctx = canvas.getContext("2d");
// Its name and its button's word, in the page's language (ui/static/language.js).
window.llLanguage.ready.then(() => {
  canvas.setAttribute("aria-label", window.llLanguage.t("explore.canvas_name"));
  element.querySelector(".ll-canvas-clear").textContent = window.llLanguage.t("explore.canvas_clear");
});
const BRUSH = Math.round(canvas.width / 12);
let drawing = false, last = null, inked = false, timer = null, lastSent = 0;

function clearPaper() {
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  inked = false;
}

function send() {
  timer = null;
  lastSent = Date.now();
  props.value = inked ? canvas.toDataURL("image/png") : "";
  trigger("input");
}

function sendSoon() {  // throttle: one picture per SEND_MS while drawing
  if (timer === null) timer = setTimeout(send, Math.max(0, SEND_MS - (Date.now() - lastSent)));
}

function point(event) {
  const box = canvas.getBoundingClientRect();
  const x = (event.clientX - box.left) * canvas.width / box.width;
  return [x, (event.clientY - box.top) * canvas.height / box.height];
}

function stroke(to) {
  ctx.strokeStyle = "#000000";
  ctx.lineWidth = BRUSH;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.beginPath();
  ctx.moveTo(...(last || to));
  ctx.lineTo(...to);
  ctx.stroke();
  last = to;
  inked = true;
}

canvas.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  canvas.setPointerCapture(event.pointerId);
  drawing = true;
  last = null;
  stroke(point(event));
  sendSoon();
});
canvas.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  event.preventDefault();
  stroke(point(event));
  sendSoon();
});
const end = () => {
  if (!drawing) return;
  drawing = false;
  last = null;
  if (timer !== null) clearTimeout(timer);
  send();
};
canvas.addEventListener("pointerup", end);
canvas.addEventListener("pointercancel", end);

element.querySelector(".ll-canvas-clear").addEventListener("click", () => {
  clearPaper();
  send();
});

clearPaper();
