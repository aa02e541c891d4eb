"""The page's skip link: the first Tab stop, it moves the keyboard's focus to the shown tab's main controls.

A plain link put first in the page's body by a script in the page's head (app.serve), not a Gradio
component: a component built before the title shifted the page's own, and the Write tab's first-sight
event stopped firing. Its words are the catalogue's "a11y.skip" in the page's language (llLanguage,
ui/static/language.js, which runs first); its look is in ui/explore/explore.css (.ll-skip).
"""

import json

# The main control of each tab, in tab order (Explore, Write, Train): the link focuses the first one shown.
MAIN_CONTROLS = "#ll-random, #ll-write-go, #train-model input:checked"
# Gradio may insert the head's scripts after the document has loaded: add the link now or once it has,
# in the page's language once its catalogue has arrived.
HEAD = f"""<script>
(() => {{
 const add = async () => {{
  await window.llLanguage.ready;
  const link = document.createElement("a");
  link.className = "ll-skip";
  link.href = "#ll-main";
  link.textContent = window.llLanguage.t("a11y.skip");
  link.addEventListener("click", (event) => {{
    event.preventDefault();
    const target = [...document.querySelectorAll({json.dumps(MAIN_CONTROLS)})].find((e) => e.offsetParent !== null);
    if (target) {{ target.focus(); target.scrollIntoView({{ block: "center" }}); }}
  }});
  document.body.prepend(link);
 }};
 if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", add); else add();
}})();
</script>"""
