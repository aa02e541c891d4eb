// The page's language: which one the visitor reads, the switch that changes it, and the catalogue's texts
// for the page scripts (the same files as the server's, i18n/<code>.json, served by ui/language.py).
//
// The language is, first, the link's ?lang=; else the visitor's last choice (localStorage); else the
// first of the browser's languages the app has; else English. This script runs first in the page
// (ui/language.py, speak_first) and tells Gradio, which takes its language from navigator.language
// once when it starts: Gradio's words and ours built into the page (gr.I18n) come in that language.
// The server answers in it too: every request this page makes to its own server says so in its
// Accept-Language header. A choice is kept, and a change loads the page again in the new language at
// the same view (the link, with its ?lang=, holds the view), so nothing stays in the old one.
//
//   await llLanguage.ready;  llLanguage.t("lesson.step_of", { n: 2, total: 10 })   // "Step 2 of 10"
//   llLanguage.current();    llLanguage.set("zh-CN");
"use strict";

window.llLanguage = window.llLanguage || (() => {
  const STORE = "ll-lang";
  const NAMES = window.llLanguages || { en: "English" }; // {code: the language's own name}, from the page's head
  const CODES = Object.keys(NAMES);
  const catalogues = {};

  // The catalogue language a tag names ("zh", "zh-Hans", "zh-cn" -> "zh-CN"), or null; as i18n.match.
  function match(tag) {
    const lower = String(tag || "").trim().toLowerCase();
    if (!lower) return null;
    return CODES.find((code) => code.toLowerCase() === lower)
      || CODES.find((code) => code.toLowerCase().split("-")[0] === lower.split("-")[0]) || null;
  }
  function stored() {
    try { return localStorage.getItem(STORE); } catch (error) { return null; } // storage may be off
  }
  function store(code) {
    try { localStorage.setItem(STORE, code); } catch (error) { /* kept for this page only */ }
  }
  function initial() {
    const asked = match(new URLSearchParams(window.location.search).get("lang"));
    if (asked) { store(asked); return asked; }
    return match(stored()) || (navigator.languages || [navigator.language]).map(match).find(Boolean) || "en";
  }
  let language = initial();
  // Gradio takes its language from navigator.language when it starts: it reads the chosen one.
  for (const name of ["language", "languages"]) {
    try {
      Object.defineProperty(navigator, name, { configurable: true, get: () => (name === "language" ? language : [language]) });
    } catch (error) { /* Gradio then starts in the browser's own language */ }
  }

  async function load(code) {
    if (!catalogues[code]) {
      catalogues[code] = fetch(`/latent-lab/i18n/${code}.json`).then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
    }
    return catalogues[code];
  }
  const texts = {}; // code -> the loaded catalogue
  async function loadInto(code) { texts[code] = await load(code); }

  // The text of `key` in the current language (English where it has none), {name} and {name:.Nf} filled
  // from `params`; {{ and }} are literal braces, as in Python's str.format.
  function t(key, params = {}) {
    const template = (texts[language] || {})[key] ?? (texts.en || {})[key] ?? key;
    return template.replace(/\{\{|\}\}|\{(\w+)(?::\.(\d)f)?\}/g, (whole, name, digits) => {
      if (whole === "{{") return "{";
      if (whole === "}}") return "}";
      const value = params[name];
      if (value === undefined) return whole;
      return digits !== undefined ? Number(value).toFixed(Number(digits)) : String(value);
    });
  }

  // Every request this page makes to its own server carries the language: Gradio's client looks up the
  // global fetch at each call, so its queue and API calls do too.
  const pageFetch = window.fetch.bind(window);
  window.fetch = (resource, init = {}) => {
    const url = new URL(resource instanceof Request ? resource.url : String(resource), window.location.href);
    if (url.origin !== window.location.origin) return pageFetch(resource, init);
    const headers = new Headers(init.headers || (resource instanceof Request ? resource.headers : undefined));
    headers.set("Accept-Language", language);
    return pageFetch(resource, { ...init, headers });
  };

  document.documentElement.lang = language;

  // Open the page again in language `code`, at the view its link holds now.
  function set(code) {
    const chosen = match(code);
    if (!chosen || chosen === language) return;
    store(chosen);
    const url = new URL(window.location.href);
    url.searchParams.set("lang", chosen);
    window.location.assign(url);
  }

  // The switch: a labelled <select> of each language under its own name, at the top of the page.
  let switchSelect = null;
  function addSwitch() {
    if (document.getElementById("ll-language")) return;
    const box = document.createElement("div");
    box.className = "ll-language-switch";
    const label = document.createElement("label");
    label.htmlFor = "ll-language";
    switchSelect = document.createElement("select");
    switchSelect.id = "ll-language";
    for (const code of CODES) {
      const option = document.createElement("option");
      option.value = code;
      option.lang = code;
      option.textContent = NAMES[code];
      switchSelect.append(option);
    }
    switchSelect.value = language;
    switchSelect.addEventListener("change", () => set(switchSelect.value));
    label.textContent = t("language.choose");
    box.append(label, switchSelect);
    const skip = document.querySelector(".ll-skip");
    if (skip) skip.after(box); else document.body.prepend(box);
  }

  // The page's title in its language. Gradio writes its own (launch's English one) when it starts, maybe
  // after this: the title is put back whenever it changes.
  function keepTitle() {
    const title = t("app.title");
    const put = () => { if (document.title !== title) document.title = title; };
    put();
    new MutationObserver(put).observe(document.head, { subtree: true, childList: true, characterData: true });
  }

  const ready = Promise.all([loadInto("en"), loadInto(language)]).then(() => {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", () => { addSwitch(); keepTitle(); });
    } else { addSwitch(); keepTitle(); }
  });

  return { ready, t, set, current: () => language, codes: CODES, names: NAMES, match };
})();
