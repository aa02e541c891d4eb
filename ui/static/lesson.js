// The lesson engine, the glossary and the teacher's view, in the page (served by ui/lesson.py).
//
// The lessons come from GET /latent-lab/lessons (the lesson files, each text per language, and the
// glossary's term ids); its own words and the glossary's are the catalogue's ("lesson.*",
// "glossary.<term>.term" and ".text"), through llLanguage (ui/static/language.js), in the page's one
// language: a change of language loads the page again. It lives outside Gradio's markup (before <gradio-app>,
// or fixed to the window), and reads the app only by observing it: the tab buttons, the sliders,
// the reader's verdict, elements by their id. A step's state is a link in the shareable link's form
// (?tab=...&model=...&z=...&panel=...): the code goes onto the sliders as typed values and is
// released, as the explorer's Random does; another model is opened as its link.
// Progress lives in localStorage ("ll-lesson"); the teacher's key only in sessionStorage.
"use strict";

(() => {
  if (window.llLessons) return;
  const STORE = "ll-lesson", KEY = "ll-teacher", FOLLOW = "ll-follow", SEEN = "ll-teacher-seen";
  const NAVIGATED = "ll-lesson-navigated";
  const TABS = ["explore", "write", "train"];
  const TICK_MS = 400;

  // The key never stays in the address bar (nor, through it, in any link this page shares).
  const opened = new URL(window.location.href);
  if (opened.searchParams.has("teacher")) {
    try { sessionStorage.setItem(KEY, opened.searchParams.get("teacher")); } catch (e) { /* no storage */ }
    opened.searchParams.delete("teacher");
    try { window.history.replaceState(null, "", opened.toString().replace(/%2C/g, ",")); } catch (e) { /* sandboxed */ }
  }
  const read = (store, key, fallback) => { try { return JSON.parse(store.getItem(key)) ?? fallback; } catch (e) { return fallback; } };
  const write = (store, key, value) => { try { store.setItem(key, JSON.stringify(value)); } catch (e) { /* full or blocked */ } };

  const S = { data: null, lesson: null, progress: read(localStorage, STORE, {}), base: null, used: {}, signatures: {},
    announced: false, ready: false };
  window.llLessons = S;  // for tests, and S.openGlossary(termId) for any text of the app that names a term

  // ---------------------------------------------------------------- words
  const L = window.llLanguage;
  const lang = () => L.current();
  // A lesson's text in the page's language, English where the lesson has none in it.
  const pick = (texts) => (texts && (texts[lang()] || texts.en)) || "";
  const t = (key, vars = {}) => L.t(`lesson.${key}`, vars);
  const termName = (id) => L.t(`glossary.${id}.term`);
  const termText = (id) => L.t(`glossary.${id}.text`);

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs).forEach(([name, value]) => {
      if (name === "onclick") node.addEventListener("click", value);
      else if (name === "text") node.textContent = value;
      else if (value !== null && value !== undefined) node.setAttribute(name, value);
    });
    children.flat(Infinity).forEach((child) => node.append(child));
    return node;
  }
  const button = (text, onclick, attrs = {}) => el("button", { type: "button", onclick, text, ...attrs });

  // ---------------------------------------------------------------- terms, wherever the words appear
  // A text's [[term]] or [[term|shown words]] (a lesson's body, or any catalogue text the app shows: the lesson
  // format's markup) becomes a button marked data-term; every element marked data-term (made so, or written so
  // in the app's HTML) opens the glossary at its term, by click, Enter or Space, and carries the term's
  // sentence as its tooltip and accessible description.
  const TERM_MARK = /\[\[([^\]|]*)(?:\|([^\]]*))?\]\]/g;
  const knownTerm = (id) => Boolean(S.data && S.data.glossary.includes(id));
  // Idempotent, and it sets only what differs: Gradio may morph an HTML block's new value into the old elements,
  // dropping what this added (the observer below sees that and calls it again).
  function describeTerm(node) {
    const id = node.dataset.term;
    if (!knownTerm(id)) return;
    const text = termText(id);
    if (node.getAttribute("title") !== text) node.setAttribute("title", text);
    if (node.matches("button")) return;
    if (!node.matches("a[href], input, select, textarea") && node.getAttribute("tabindex") !== "0") node.setAttribute("tabindex", "0");
    if (node.getAttribute("role") !== "button") node.setAttribute("role", "button");
  }
  // Inside a button or a label a term is its words only: a button in either would steal its click.
  function withTerms(text, { plain = false } = {}) {
    const parts = [];
    let last = 0;
    text.replace(TERM_MARK, (match, id, shown, at) => {
      parts.push(text.slice(last, at));
      const words = shown || (knownTerm(id) ? termName(id) : id);
      if (plain) parts.push(words);
      else {
        const link = el("button", { type: "button", class: "ll-term", "data-term": id, text: words });
        describeTerm(link);
        parts.push(link);
      }
      last = at + match.length;
      return match;
    });
    parts.push(text.slice(last));
    return parts;
  }
  const SKIP = "script, style, textarea, input, select, option, [contenteditable]";
  function markTerms(root) {
    if (root.nodeType === Node.TEXT_NODE) {
      const parent = root.parentElement;
      if (!parent || !root.data.includes("[[") || parent.closest(SKIP)) return;
      TERM_MARK.lastIndex = 0;
      if (!TERM_MARK.test(root.data)) return;
      root.replaceWith(...withTerms(root.data, { plain: Boolean(parent.closest("button, label")) }));
      return;
    }
    if (!(root instanceof Element)) return;
    if (root.textContent.includes("[[")) {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      const found = [];
      while (walker.nextNode()) if (walker.currentNode.data.includes("[[")) found.push(walker.currentNode);
      found.forEach(markTerms);
    }
    if (S.data) {
      if (root.matches("[data-term]")) describeTerm(root);
      root.querySelectorAll("[data-term]").forEach(describeTerm);
    }
  }
  // A mutation observer's callback runs before the page is painted again: the markup is never seen.
  new MutationObserver((records) => records.forEach((record) => {
    if (record.type === "characterData") markTerms(record.target);
    else if (record.type === "attributes") { if (S.data && record.target.matches("[data-term]")) describeTerm(record.target); }
    else record.addedNodes.forEach(markTerms);
  })).observe(document.documentElement, { childList: true, subtree: true, characterData: true, attributes: true,
    attributeFilter: ["data-term", "title", "tabindex", "role"] });
  if (document.body) markTerms(document.body);
  const termOf = (event) => event.target instanceof Element && event.target.closest("[data-term]");
  document.addEventListener("click", (event) => {
    const node = termOf(event);
    if (!node || !knownTerm(node.dataset.term)) return;
    event.preventDefault();
    openGlossary(node.dataset.term);
  });
  document.addEventListener("keydown", (event) => {  // a button does this itself; an element marked so does not
    const node = termOf(event);
    if (!node || node.matches("button") || !(event.key === "Enter" || event.key === " ") || !knownTerm(node.dataset.term)) return;
    event.preventDefault();
    openGlossary(node.dataset.term);
  });

  // ---------------------------------------------------------------- the app, observed
  const G = () => window.llGradio;
  const frame = () => document.querySelector("#ll-digit-box .ll-digit-frame");
  const tabButton = (id) => document.querySelector(`button[role=tab][data-tab-id="${id}"]`);
  function activeTab() {
    return TABS.find((id) => { const b = tabButton(id); return b && b.getAttribute("aria-selected") === "true"; }) || "";
  }
  function sliderValues() {  // dimension -> value, as the sliders show it
    const f = frame(), values = {};
    if (!f || !G()) return values;
    f.dataset.order.split(",").forEach((d, slot) => {
      const slider = document.querySelector(`#ll-z${slot}`);
      const box = slider && G().sliderBox(slider);
      const value = box ? parseFloat(box.value) : NaN;
      if (Number.isFinite(value)) values[d] = value;
    });
    return values;
  }
  function verdict() {  // the reader's class, as its live copy or the server's label shows it
    const block = document.querySelector("#ll-probs");
    if (!block) return "";
    const shown = block.dataset.live ? block.querySelector(".container.ll-live .output-class")
      : block.querySelector(".container:not(.ll-live) .output-class");
    return shown ? shown.textContent.trim() : "";
  }
  function signature(id) {  // what an element shows: its words and its pictures
    const node = document.getElementById(id);
    if (!node) return "";
    return node.textContent.trim() + [...node.querySelectorAll("img")].map((img) => img.getAttribute("src")).join("|");
  }
  const presenting = () => Boolean(document.querySelector(".gradio-container.ll-present"));
  const until = (test, ms = 90000) => new Promise((resolve) => {
    const start = Date.now();
    const tick = () => (test() || Date.now() - start > ms ? resolve(test()) : setTimeout(tick, 100));
    tick();
  });

  // Clicks, and changes of a value, inside an element with an id count as its use (window, capture: before
  // any page script withholds the event from Gradio).
  ["click", "change"].forEach((type) => window.addEventListener(type, (event) => {
    if (!(event.target instanceof Element)) return;
    if (type === "change" && event.target.matches("button")) return;
    for (let node = event.target.closest("[id]"); node; node = node.parentElement && node.parentElement.closest("[id]")) {
      S.used[node.id] = (S.used[node.id] || 0) + 1;
    }
  }, true));

  // Each check of ui/lesson.py's CHECKS, evaluated against the page now.
  const checks = {
    slider_moved: (c) => {
      const now = sliderValues();
      return Object.entries(now).some(([d, v]) => (c.dim === undefined || Number(d) === c.dim)
        && S.base && d in S.base && Math.abs(v - S.base[d]) >= c.by - 1e-9);
    },
    reader_says: (c) => verdict() === c.class,
    used: (c) => (S.used[c.target] || 0) >= (c.times || 1),
    changed: (c) => { const now = signature(c.target); return now !== "" && now !== S.signatures[c.target]; },
    tab_is: (c) => activeTab() === c.tab,
  };

  // ---------------------------------------------------------------- applying a link
  function parseLink(link) {
    const params = new URLSearchParams(link.startsWith("?") ? link.slice(1) : "");
    const z = params.get("z");
    return { tab: params.get("tab"), model: params.get("model"), panel: params.get("panel"),
      z: z ? z.split(/[,;]/).filter((p) => p.trim() !== "").map(Number) : null };
  }

  async function applyLink(link) {
    const state = parseLink(link || "");
    if (state.tab && TABS.includes(state.tab)) {
      await until(() => tabButton(state.tab), 60000);
      const b = tabButton(state.tab);
      if (b && activeTab() !== state.tab) b.click();
    }
    if (state.model || state.z) {
      // The explorer's first answer (the opened link) must be on the page before its code is changed.
      await until(() => frame() && window.llLive && window.llLive.answered, 90000);
      const f = frame();
      if (!f) return;
      const model = state.model || f.dataset.model;
      const dims = f.dataset.z.split(",").length;
      const z = state.z || new Array(dims).fill(0);
      const order = f.dataset.order.split(",").map(Number);
      if (model !== f.dataset.model || z.length !== dims || order.length !== dims) {
        const params = new URLSearchParams({ model });
        if (state.z) params.set("z", state.z.join(","));
        if (presenting()) params.set("present", "1");
        const language = new URLSearchParams(window.location.search).get("lang");
        if (language) params.set("lang", language);  // the link keeps the page's language
        const target = `?${params.toString().replace(/%2C/g, ",")}`;
        if (sessionStorage.getItem(NAVIGATED) !== target) {  // once: a model the server refuses does not loop
          sessionStorage.setItem(NAVIGATED, target);
          window.location.assign(window.location.pathname + target);
        }
        return;
      }
      let last = null;
      order.forEach((d, slot) => {
        const slider = document.querySelector(`#ll-z${slot}`);
        const box = slider && G().sliderBox(slider);
        if (box) { G().typeInSliderBox(box, z[d]); last = G().sliderRange(slider); }
      });
      if (last) setTimeout(() => G().releaseSlider(last), 0);  // once Gradio has taken the values
    }
    if (state.panel) {
      await until(() => document.getElementById(state.panel), 30000);
      const panel = document.getElementById(state.panel);
      if (panel && !presenting()) showAboveDock(panel);
    }
  }

  // The dock is fixed to the window's bottom; the step's panel goes to the window's top, and the dock does not cover
  // it: where the dock reaches over the panel it gets shorter (its text scrolls inside it, lesson.css), as long as its
  // title, task and buttons keep their room. The page's end gets room for the dock, so a panel near it reaches the top.
  const DOCK_GAP_PX = 8;
  function showAboveDock(panel) {
    const dock = document.getElementById("ll-lesson-dock");
    const box = panel.getBoundingClientRect();
    const at = dock && dock.getBoundingClientRect();
    if (at && box.right > at.left && box.left < at.right) {
      const body = dock.querySelector(".ll-lesson-body");
      const least = at.height - body.getBoundingClientRect().height + parseFloat(getComputedStyle(body).minHeight);
      const room = at.bottom - box.height - DOCK_GAP_PX;  // the dock's height that leaves the panel uncovered
      if (room < at.height && room >= least) { S.dockLimit = room; fitDock(dock); }
    }
    panel.scrollIntoView({ block: "start", behavior: "smooth" });
  }
  function fitDock(dock) {
    if (S.dockLimit) dock.style.setProperty("--ll-dock-limit", `${S.dockLimit}px`);
    document.body.style.paddingBottom = presenting() ? "" : `${dock.getBoundingClientRect().height}px`;
  }

  // ---------------------------------------------------------------- the lesson
  const save = () => write(localStorage, STORE, S.progress);
  const lessonName = () => S.progress.lesson && S.data.lessons[S.progress.lesson] ? S.progress.lesson
    : Object.keys(S.data.lessons)[0];

  async function openStep(index, { apply = true } = {}) {
    const lesson = S.data.lessons[lessonName()];
    if (!lesson) return;
    S.lesson = lesson;
    index = Math.max(0, Math.min(lesson.steps.length - 1, index));
    Object.assign(S.progress, { lesson: lesson.name, step: index, open: true, started: true });
    S.progress.done = S.progress.done || {};
    save();
    const step = lesson.steps[index];
    // Until the step's state is applied and its starting point noted, its check is not evaluated.
    Object.assign(S, { used: {}, announced: false, base: null, signatures: {}, ready: false, dockLimit: null });
    renderDock();
    if (apply && step.state) await applyLink(step.state);
    if (S.progress.step !== index) return;  // moved on meanwhile
    S.base = sliderValues();
    if (step.check && step.check.target) S.signatures[step.check.target] = signature(step.check.target);
    S.ready = true;
    renderDock();
  }

  function closeLesson() {
    S.progress.open = false;
    save();
    renderDock();
    renderStart();
  }

  function stepDone() {
    const step = S.lesson && S.lesson.steps[S.progress.step];
    if (!step || !step.check) return false;
    const key = `${S.lesson.name}:${S.progress.step}`;
    if (S.progress.done[key]) return true;
    if (!S.ready) return false;
    const check = checks[step.check.type];
    if (!check || !check(step.check)) return false;
    S.progress.done[key] = true;
    save();
    return true;
  }

  function renderDock() {
    let dock = document.getElementById("ll-lesson-dock");
    if (!S.progress.open || !S.lesson) {
      if (dock) dock.remove();
      document.body.style.paddingBottom = "";
      renderPill();
      return;
    }
    const pill = document.getElementById("ll-lesson-pill");
    if (pill) pill.remove();
    const index = S.progress.step, steps = S.lesson.steps, step = steps[index];
    const last = index === steps.length - 1;
    const status = el("p", { class: "ll-lesson-status", role: "status", "aria-live": "polite", id: "ll-lesson-status" });
    const fresh = el("section", { id: "ll-lesson-dock", class: "ll-lesson", role: "region", "aria-label": pick(S.lesson.title), lang: lang() },
      el("div", { class: "ll-lesson-head" },
        el("span", { class: "ll-lesson-count", text: t("step_of", { n: index + 1, total: steps.length }) }),
        el("progress", { max: steps.length, value: index + 1, "aria-hidden": "true" }),
        button("×", closeLesson, { id: "ll-lesson-x", class: "ll-lesson-x", "aria-label": t("hide"), title: t("hide") })),
      el("h2", { text: pick(step.title), id: "ll-lesson-title" }),
      el("p", { class: "ll-lesson-body" }, withTerms(pick(step.body))),
      el("p", { class: "ll-lesson-task" }, el("strong", { text: `${t("your_task")}: ` }), pick(step.task)),
      el("div", { class: "ll-lesson-foot" },
        el("div", { class: "ll-lesson-buttons" },
          button(t("back"), () => openStep(index - 1), { id: "ll-lesson-back", disabled: index === 0 ? "" : null }),
          button(last ? t("finish") : t("next"), () => (last ? finish() : openStep(index + 1)), { id: "ll-lesson-next", class: "ll-primary" }),
          button(t("glossary"), () => openGlossary(), { id: "ll-lesson-glossary" })),
        status));
    const focused = dock && dock.contains(document.activeElement) ? document.activeElement.id : null;
    if (dock) dock.replaceWith(fresh); else document.body.append(fresh);
    if (focused && document.getElementById(focused) && !document.getElementById(focused).disabled) document.getElementById(focused).focus();
    dock = fresh;
    fitDock(dock);
    if (!step.check) status.textContent = t("no_check");
    else if (stepDone()) { status.textContent = `✓ ${t("done")}`; S.announced = true; }
    const start = document.getElementById("ll-lesson-start");
    if (start) start.remove();
  }

  function finish() {
    S.progress.open = false;
    S.progress.finished = true;
    save();
    renderDock();
    renderStart(t("finished"));
  }

  // Once the lesson was started or the card put off: a small button in the corner brings it back.
  function renderPill() {
    if (!(S.progress.started || S.progress.dismissed) || S.progress.open || document.getElementById("ll-lesson-pill")) return;
    const total = (S.data.lessons[lessonName()] || { steps: [] }).steps.length;
    const words = S.progress.started ? `${t("show")} · ${t("step_of", { n: (S.progress.step || 0) + 1, total })}` : t("start_here");
    document.body.append(button(words, () => openStep(S.progress.step || 0), { id: "ll-lesson-pill", class: "ll-lesson-pill" }));
  }

  // Every few tenths of a second while a step with a check is open: is it done? "Done!" is said once.
  setInterval(() => {
    if (!S.data || !S.progress.open || !S.lesson || S.announced) return;
    if (stepDone()) {
      S.announced = true;
      const status = document.getElementById("ll-lesson-status");
      if (status) status.textContent = `✓ ${t("done")}`;
    }
  }, TICK_MS);

  // ---------------------------------------------------------------- "Start here", before the app
  function renderStart(message) {
    const old = document.getElementById("ll-lesson-start");
    if (old) old.remove();
    if (S.progress.open) return;
    const lesson = S.data.lessons[lessonName()];
    if (!lesson) return;
    if (S.progress.dismissed && !message) { renderPill(); return; }
    const resume = S.progress.started && !S.progress.finished;
    const card = el("section", { id: "ll-lesson-start", class: "ll-lesson-start", role: "region", "aria-labelledby": "ll-start-title", lang: lang() },
      el("h2", { id: "ll-start-title", text: t("start_here") }),
      el("p", {}, message || t("new_here"), message ? null : el("span", { class: "ll-start-more", text: pick(lesson.summary) })),
      el("div", { class: "ll-lesson-buttons" },
        button(resume ? t("resume") : t("start"), () => openStep(resume ? S.progress.step || 0 : 0), { id: "ll-lesson-go", class: "ll-primary" }),
        button(t("glossary"), () => openGlossary(), { id: "ll-start-glossary" }),
        button(t("not_now"), () => { S.progress.dismissed = true; save(); renderStart(); }, { id: "ll-lesson-later" })));
    const app = document.querySelector("gradio-app");
    if (app) app.before(card); else document.body.prepend(card);
  }

  // ---------------------------------------------------------------- the glossary: one page, a dialog
  function openGlossary(termId) {
    let dialog = document.getElementById("ll-glossary");
    if (!dialog) {
      const terms = S.data.glossary.map((id) => [id, termName(id)]).sort((a, b) => a[1].localeCompare(b[1], lang()));
      dialog = el("dialog", { id: "ll-glossary", class: "ll-glossary", "aria-labelledby": "ll-glossary-title", lang: lang() },
        el("div", { class: "ll-glossary-head" },
          el("h2", { id: "ll-glossary-title", text: t("glossary_title") }),
          button(t("close"), () => dialog.close(), { id: "ll-glossary-close" })),
        el("dl", {}, terms.map(([id, name]) => [
          el("dt", { id: `ll-term-${id}`, tabindex: "-1", text: name }),
          el("dd", { text: termText(id) })])));
      document.body.append(dialog);
    }
    if (!dialog.open) dialog.showModal();
    dialog.querySelectorAll(".ll-term-shown").forEach((node) => node.classList.remove("ll-term-shown"));
    const target = termId && document.getElementById(`ll-term-${termId}`);
    if (target) {
      target.classList.add("ll-term-shown");
      // After the dialog's own focusing (its first button), the reader lands on the word asked for.
      requestAnimationFrame(() => { target.scrollIntoView({ block: "center" }); target.focus(); });
    }
  }
  S.openGlossary = openGlossary;
  // Esc closes the glossary only (the explorer's own Esc would also leave presentation mode).
  window.addEventListener("keydown", (event) => {
    const dialog = document.getElementById("ll-glossary");
    if (event.key === "Escape" && dialog && dialog.open) {
      event.stopImmediatePropagation();
      event.preventDefault();
      dialog.close();
    }
  }, true);

  // ---------------------------------------------------------------- the teacher's view
  const teacherKey = () => { try { return sessionStorage.getItem(KEY); } catch (e) { return null; } };
  const T = { role: teacherKey() ? "teacher" : "student", error: "", sent: false, serial: Number(sessionStorage.getItem(SEEN) || 0),
    pending: null, poll: 4 };
  S.teacher = T;

  async function post(url, body) {
    const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.error || `${response.status}`);
    return answer;
  }

  function currentLink() {  // what this page shows, in a step's link form
    const params = new URLSearchParams(window.location.search), out = new URLSearchParams();
    const tab = activeTab();
    if (tab) out.set("tab", tab);
    ["model", "z"].forEach((key) => { if (params.get(key)) out.set(key, params.get(key)); });
    const f = frame();
    if (!out.get("model") && f) out.set("model", f.dataset.model);
    return `?${out.toString().replace(/%2C/g, ",")}`;
  }

  async function sendView() {
    const view = { key: teacherKey(), link: currentLink(), lesson: null, step: null };
    if (S.progress.open && S.lesson) Object.assign(view, { lesson: S.lesson.name, step: S.progress.step });
    try {
      await post("/latent-lab/teacher/view", view);
      T.error = "";
      T.sent = true;
    } catch (error) {
      T.error = error.message;
    }
    renderTeacher();
  }

  async function follow(view) {
    T.pending = null;
    try { sessionStorage.setItem(FOLLOW, "1"); } catch (e) { /* no storage */ }
    renderTeacher();
    if (view.lesson && S.data.lessons[view.lesson]) {
      S.progress.lesson = view.lesson;
      await openStep(view.step || 0, { apply: false });
    }
    await applyLink(view.link);
  }
  const following = () => sessionStorage.getItem(FOLLOW) === "1";

  async function poll() {
    try {
      const response = await fetch(`/latent-lab/teacher/view?since=${T.serial}`, { cache: "no-store" });
      const answer = await response.json();
      if (!answer.enabled) return;  // no teacher on this server: nothing to ask for again
      T.poll = answer.poll_s || T.poll;
      if (answer.view && answer.serial !== T.serial) {
        T.serial = answer.serial;
        sessionStorage.setItem(SEEN, String(T.serial));
        if (following()) follow(answer.view); else { T.pending = answer.view; renderTeacher(); }
      }
    } catch (e) { /* the server is away for a moment: ask again later */ }
    setTimeout(poll, T.poll * 1000);
  }

  function renderTeacher() {
    const old = document.getElementById("ll-teacher");
    if (old && old.contains(document.activeElement)) old.dataset.refocus = document.activeElement.id;
    const refocus = old && old.dataset.refocus;
    let bar = null;
    if (T.role === "teacher") {
      bar = el("div", { id: "ll-teacher", class: "ll-teacher", role: "region", "aria-label": t("teacher_mode"), lang: lang() },
        el("strong", { text: t("teacher_mode") }),
        T.error ? null : button(t("send_view"), sendView, { id: "ll-teacher-send", class: "ll-primary" }),
        el("span", { role: T.error ? "alert" : "status", id: "ll-teacher-note", text: T.error || (T.sent ? t("sent") : "") }));
    } else if (T.pending) {
      const view = T.pending;
      bar = el("div", { id: "ll-teacher", class: "ll-teacher", role: "region", "aria-label": t("teacher_shared"), lang: lang() },
        el("span", { role: "status", text: t("teacher_shared") }),
        button(t("follow"), () => follow(view), { id: "ll-teacher-follow", class: "ll-primary" }),
        button(t("dismiss"), () => { T.pending = null; renderTeacher(); }, { id: "ll-teacher-dismiss" }));
    } else if (following() && T.serial) {
      bar = el("div", { id: "ll-teacher", class: "ll-teacher", role: "region", "aria-label": t("following"), lang: lang() },
        el("span", { role: "status", text: t("following") }),
        button(t("leave"), () => { sessionStorage.removeItem(FOLLOW); renderTeacher(); }, { id: "ll-teacher-leave" }));
    }
    if (old) old.remove();
    if (!bar) return;
    document.body.append(bar);
    const again = refocus && document.getElementById(refocus);
    if (again) again.focus();
  }

  // ---------------------------------------------------------------- start
  async function start() {
    try {
      const response = await fetch("/latent-lab/lessons");
      S.data = await response.json();
      await L.ready;
    } catch (e) {
      return;  // no lessons: the app works as before
    }
    markTerms(document.body);  // the terms on the page before the glossary was known get their sentence
    if (!S.data.lessons || !Object.keys(S.data.lessons).length) return;
    renderStart();
    // A reload keeps the step; a student following the teacher keeps the teacher's view instead of the step's.
    if (S.progress.open) openStep(S.progress.step || 0, { apply: !following() });
    const key = teacherKey();
    if (key) {
      try { await post("/latent-lab/teacher/check", { key }); } catch (error) { T.error = error.message; }
      renderTeacher();
    } else {
      poll();
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
