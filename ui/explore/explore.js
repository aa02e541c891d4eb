// The Explore tab's page script: run once by gr.HTML's js_on_load (with `element`, `trigger`, `props`).
//
// It only adds what Gradio's own components do not do, all in the browser:
//  - arrow keys on a slider and Enter in its number box count as "released", so the RNN readout,
//    the map and the link follow (Gradio sends "release" only for the mouse and on leaving the box);
//  - a typed value beyond the slider's range is clamped before Gradio sees it, with a short note, and a box
//    being retyped (empty, or a lone minus sign) is not sent at all;
//  - the address bar and the link box always hold the link to the digit on screen;
//  - the presentation layout (a class on the page's container), by button, by ?present=1, Esc leaves;
//  - clicking a slider's name asks the server for a preview of that dimension (a "select" event).

const KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End"]);
const LIMIT = 3;

window.llTrigger = trigger;  // the newest mount of this component sends the events
if (window.llExploreReady) return;
window.llExploreReady = true;

const inSliders = (node) => node instanceof Element && node.closest("#ll-sliders .ll-slider");
const release = (input) => input.dispatchEvent(new PointerEvent("pointerup", { bubbles: true }));

document.addEventListener("keyup", (event) => {
  const input = event.target;
  if (inSliders(input) && input.type === "range" && KEYS.has(event.key)) release(input);
}, true);

document.addEventListener("keydown", (event) => {
  const input = event.target;
  if (inSliders(input) && input.type === "number" && event.key === "Enter") release(input);
  if (event.key === "Escape") setPresenting(false);
}, true);

// Capture phase: this runs before Gradio reads the box, so the slider only ever sees a number in range.
document.addEventListener("input", (event) => {
  const input = event.target;
  if (!inSliders(input) || input.type !== "number") return;
  const value = parseFloat(input.value);
  if (!Number.isFinite(value)) {  // an empty box or a lone "-" while typing: not a value yet
    event.stopImmediatePropagation();
    return;
  }
  const note = document.querySelector("#ll-slider-note");
  if (Math.abs(value) > LIMIT) {
    const clamped = Math.sign(value) * LIMIT;
    input.value = String(clamped);
    const name = (inSliders(input).querySelector("[data-testid=block-info]") || {}).textContent || "A slider";
    if (note) note.textContent = `${name.split(" ")[0]} goes from −${LIMIT} to ${LIMIT}: ${value} became ${clamped}.`;
  } else if (note) {
    note.textContent = "";
  }
}, true);

// Leaving a box that holds no number puts the slider's value back in it.
document.addEventListener("focusout", (event) => {
  const input = event.target;
  if (!inSliders(input) || input.type !== "number" || Number.isFinite(parseFloat(input.value))) return;
  const range = inSliders(input).querySelector("input[type=range]");
  if (range) input.value = range.value;
}, true);

// The server puts "?model=...&z=..." into the link box; show it whole and mirror it in the address bar.
window.llLink = (query) => {
  if (typeof query !== "string" || !query.startsWith("?")) return query;
  const params = new URLSearchParams(query);
  if (document.querySelector(".gradio-container.ll-present")) params.set("present", "1");
  const search = params.toString().replace(/%2C/g, ",");
  const url = window.location.origin + window.location.pathname + (search ? "?" + search : "");
  try { window.history.replaceState(null, "", url); } catch (e) { /* a sandboxed frame */ }
  return url;
};

window.llCopyLink = () => {
  const box = document.querySelector("#ll-link textarea, #ll-link input");
  const url = box ? box.value : window.location.href;
  try { navigator.clipboard.writeText(url).catch(() => {}); } catch (e) { /* no clipboard here */ }
};

function setPresenting(on) {
  const container = document.querySelector(".gradio-container");
  if (!container) return;
  container.classList.toggle("ll-present", on);
  const url = new URL(window.location.href);
  if (on) url.searchParams.set("present", "1"); else url.searchParams.delete("present");
  try { window.history.replaceState(null, "", url.toString().replace(/%2C/g, ",")); } catch (e) { /* sandboxed */ }
}
window.llTogglePresenting = () => {
  setPresenting(!document.querySelector(".gradio-container.ll-present"));
};
if (new URLSearchParams(window.location.search).get("present") === "1") setPresenting(true);

document.addEventListener("click", (event) => {
  const slider = inSliders(event.target);
  if (!slider || !event.target.closest("[data-testid=block-info], label")) return;
  if (event.target.closest("input")) return;
  const slot = parseInt((slider.id || "").replace("ll-z", ""), 10);
  if (Number.isInteger(slot)) window.llTrigger("select", { index: slot, value: slot });
});
