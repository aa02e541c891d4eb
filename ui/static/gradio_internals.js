// Every piece of Gradio's own page (its markup and event handling) that the page scripts rely on, each
// behind one named function: ui/explore/explore.js and the Write tab's script use only these.
//
// Gradio offers no public API for any of it: gr.HTML's js_on_load gets its own element, `trigger` and
// `props`, and nothing of the other components. Each function says what it relies on, and
// tests/test_gradio_internals.py checks each on the real page, failing with a sentence that names the
// installed Gradio version: upgrading Gradio is one test run, not an audit. Served by the app
// (ui/gradio_internals.py, SCRIPT_URL) and loaded through gr.HTML's `head`, which Gradio runs before the
// component's js_on_load. The server side's counterpart is ui/gradio_internals.py.
"use strict";

window.llGradio = (() => {
  // ---------------------------------------------------------------- the page
  // Gradio's whole app sits in one element of class gradio-container (the presentation layout's class
  // goes on it; ui/static/gradio_internals.css styles it).
  const pageContainer = () => document.querySelector(".gradio-container");

  // ---------------------------------------------------------------- gr.Slider
  // A gr.Slider block holds an <input type=range> (its min and max are the slider's) and an
  // <input type=number> box, and its name in a [data-testid=block-info] element inside its <label>.
  const sliderRange = (slider) => slider.querySelector("input[type=range]");
  const sliderBox = (slider) => slider.querySelector("input[type=number]");
  const sliderName = (slider) => (slider.querySelector("[data-testid=block-info]") || {}).textContent || "";
  const isSliderRange = (input) => input instanceof HTMLInputElement && input.type === "range";
  const isSliderBox = (input) => input instanceof HTMLInputElement && input.type === "number";
  // The slider's name or label, where a click is one on the name (not on its inputs).
  const onSliderName = (target) => Boolean(target.closest("[data-testid=block-info], label")) && !target.closest("input");

  // Gradio's slider sends "release" on a pointerup on its range or its box (and on leaving the box):
  // there is no way to send it for arrow keys, Enter, or this page's own Random, but to dispatch one.
  function releaseSlider(input) {
    input.dispatchEvent(new PointerEvent("pointerup", { bubbles: true }));
  }

  // Put `value` in a slider's box as if typed: Gradio takes a box's value on its "input" event (and
  // sends the slider's input event; this page paints the digit itself).
  function typeInSliderBox(box, value) {
    box.value = String(value);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // Keep an event from Gradio's own listeners (on the element itself, so this must run from a
  // document listener in the capture phase): its box then does not take a half-typed value, and its
  // button does not send a click the page answers itself.
  function withholdFromGradio(event) {
    event.stopImmediatePropagation();
  }

  // ---------------------------------------------------------------- gr.Label
  // Its bars: a .container holding the top class in .output-class and one .confidence-set per class
  // (data-testid "<name>-confidence-set") with the name in <dt>, the percentage in <dd>, a <meter>.
  // The page's live copy of the bars is the same .container marked ll-live; labelBars is the original.
  const labelBars = (block) => block.querySelector(".container:not(.ll-live)");
  const labelLiveCopy = (block) => block.querySelector(".container.ll-live");
  const labelHasBars = (bars) => Boolean(bars && bars.querySelector(".confidence-set"));
  const labelRows = (bars) => [...bars.querySelectorAll(".confidence-set")];
  function setLabelTop(bars, name) {
    const top = bars.querySelector(".output-class");
    if (top) top.textContent = name;
  }
  function setLabelRow(row, name, p) {  // as Gradio draws a row: its name, rounded percent and bar
    row.setAttribute("data-testid", `${name}-confidence-set`);
    row.querySelector("dt").textContent = name;
    row.querySelector("dd").textContent = `${Math.round(p * 100)}%`;
    const meter = row.querySelector("meter");
    meter.value = p;
    meter.style.width = `${p * 100}%`;
  }

  // The top row's name and percentage as shown, e.g. ["3", "92%"]; null without bars.
  function labelTop(bars) {
    const row = labelHasBars(bars) && labelRows(bars)[0];
    return row ? [row.querySelector("dt").textContent.trim(), row.querySelector("dd").textContent.trim()] : null;
  }

  // ---------------------------------------------------------------- gr.Image, gr.Textbox
  const imageIn = (block) => block.querySelector("img");
  // A picture (interactive=False) sits in a <button> (.image-container > button) whose <img> has alt=""; the
  // button then has no name, and gr.Image has no alt option. Its name is the block's data-ll-alt where the
  // page describes what it shows (describeImage), else the block's label.
  const IMAGE_BUTTON = ".image-container > button";
  function nameImage(button) {
    const block = button.closest(".block");
    const label = block && block.querySelector("[data-testid=block-label]");
    const text = (block && block.dataset.llAlt) || (label ? label.textContent.trim() : "");
    if (text && button.getAttribute("aria-label") !== text) button.setAttribute("aria-label", text);
  }
  function describeImage(block, text) {  // say what the picture of `block` shows, now and after Gradio redraws it
    block.dataset.llAlt = text;
    block.querySelectorAll(IMAGE_BUTTON).forEach(nameImage);
  }
  // The picture's own button (a select event's target), not the icon buttons around it.
  const imageButton = (target, blockSelector) => target.closest(`${blockSelector} button`);
  // The picture's pixel under a click, as gr.Image computes it for a select event (the picture is
  // scaled to fit its box, never up, and centred); null outside the picture.
  function imagePixel(img, event) {
    const box = img.getBoundingClientRect();
    const scale = Math.min(box.width / img.naturalWidth, box.height / img.naturalHeight, 1);
    const left = (box.width - img.naturalWidth * scale) / 2, top = (box.height - img.naturalHeight * scale) / 2;
    const x = Math.round((event.clientX - box.left - left) / scale), y = Math.round((event.clientY - box.top - top) / scale);
    return x < 0 || x >= img.naturalWidth || y < 0 || y >= img.naturalHeight ? null : [x, y];
  }
  const textboxInput = (block) => block.querySelector("textarea, input");

  // ---------------------------------------------------------------- gr.Sketchpad
  // It starts with no tool chosen, showing "select the draw tool to start" in an .empty element, and
  // its toolbar has a button labelled "Brush". No parameter chooses a tool, so the brush is clicked. The label
  // is Gradio's i18n text image_editor.brush, which its zh-CN catalogue leaves in English: a page language
  // whose Gradio catalogue translates it needs its name here too.
  const sketchBrush = (pad) => pad.querySelector('button[aria-label="Brush"]');
  const sketchWaitsForTool = (pad) => Boolean(pad.querySelector(".empty"));
  function chooseSketchBrush(pad) {  // return whether it had to
    const brush = sketchBrush(pad);
    if (!brush || !sketchWaitsForTool(pad)) return false;
    brush.click();
    return true;
  }
  // Whenever the sketchpad `selector` waits for a tool, choose its brush: a cheap check twice a second
  // (a pad in a tab not shown yet, or cleared, waits again), set up once per page (window.llSketchBrush).
  function keepSketchBrush(selector) {
    if (window.llSketchBrush) return;
    window.llSketchBrush = setInterval(() => {
      const pad = document.querySelector(selector);
      if (pad) chooseSketchBrush(pad);
    }, 500);
  }

  // ---------------------------------------------------------------- the whole page's markup
  // An empty gr.Image or plot shows a <div class="empty" aria-label="Empty value"> with no role, where
  // aria-label is not allowed: it becomes an image of that name. gr.Label's class rows are buttons (below).
  function repairMarkup() {
    document.querySelectorAll(IMAGE_BUTTON).forEach(nameImage);
    document.querySelectorAll(".empty[aria-label]:not([role])").forEach((e) => e.setAttribute("role", "img"));
    // gr.Label draws each class as a <button> (for a select event the app never asks for): ten Tab stops
    // that do nothing. They stay readable, out of the Tab order; the block (which may scroll) is one stop.
    document.querySelectorAll("button.confidence-set:not([tabindex])").forEach((e) => {
      e.setAttribute("tabindex", "-1");
      const block = e.closest(".block");
      if (block && !block.hasAttribute("tabindex")) {
        block.setAttribute("tabindex", "0");
        block.setAttribute("role", "group");
        const label = block.querySelector("[data-testid=block-label]");
        if (label) block.setAttribute("aria-label", label.textContent.trim());
      }
    });
  }
  let repairQueued = false;
  function keepMarkupRepaired() {
    if (window.llMarkupRepair) return;
    window.llMarkupRepair = new MutationObserver(() => {
      if (repairQueued) return;
      repairQueued = true;
      requestAnimationFrame(() => { repairQueued = false; repairMarkup(); });
    });
    window.llMarkupRepair.observe(document.body, { subtree: true, childList: true });
    repairMarkup();
  }
  keepMarkupRepaired();

  // A gr.Dropdown (an <input role=combobox> in its .block) opens its list (ul.option-list, role listbox, in
  // the same .block) when the input gets the focus, and leaves it open over the page when Tab moves on:
  // the list is hidden while the focus is outside its block.
  function showDropdownList(block, shown) {
    const list = block && block.querySelector("ul.option-list[role=listbox]");
    if (list) list.style.display = shown ? "" : "none";
  }
  // Gradio draws the list a moment after the focus arrives, so a fast Tab can leave before it exists: the
  // list's state follows where the focus is now, again a frame and a little later.
  function settleDropdownList(block) {
    showDropdownList(block, block.contains(document.activeElement));
  }
  function settleSoon(block) {
    settleDropdownList(block);
    requestAnimationFrame(() => settleDropdownList(block));
    for (const ms of [150, 500]) setTimeout(() => settleDropdownList(block), ms);
  }
  document.addEventListener("focusout", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.getAttribute("role") !== "combobox") return;
    const block = input.closest(".block");
    if (!block || block.contains(event.relatedTarget)) return;
    showDropdownList(block, false);
    settleSoon(block);
  }, true);
  document.addEventListener("focusin", (event) => {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.getAttribute("role") === "combobox") {
      const block = input.closest(".block");
      if (block) requestAnimationFrame(() => settleDropdownList(block));
    }
  }, true);

  return { pageContainer, labelTop, describeImage, sliderRange, sliderBox, sliderName, isSliderRange, isSliderBox, onSliderName, releaseSlider,
    typeInSliderBox, withholdFromGradio, labelBars, labelLiveCopy, labelHasBars, labelRows, setLabelTop, setLabelRow, imageIn, imageButton,
    imagePixel, textboxInput, sketchBrush, sketchWaitsForTool, chooseSketchBrush, keepSketchBrush };
})();
