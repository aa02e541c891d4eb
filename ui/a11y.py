"""The page's skip link: the first Tab stop, it moves the keyboard's focus to the shown tab's main controls.

Built by app.build_app before the title; its look is in ui/explore/explore.css (.ll-skip).
"""

import gradio as gr

# The main control of each tab, in tab order (Explore, Write, Train): the link focuses the first one shown.
MAIN_CONTROLS = "#ll-random, #ll-write-go, #train-model input:checked"
SKIP_LINK = '<a class="ll-skip" href="#ll-main">Skip to the main controls</a>'
SKIP_SCRIPT = f"""
element.querySelector("a.ll-skip").addEventListener("click", (event) => {{
  event.preventDefault();
  const target = [...document.querySelectorAll({MAIN_CONTROLS!r})].find((e) => e.offsetParent !== null);
  if (target) {{ target.focus(); target.scrollIntoView({{ block: "center" }}); }}
}});
"""


def build_skip_link() -> gr.HTML:
    """Return the skip link's component (to build first in the page's Blocks)."""
    return gr.HTML(SKIP_LINK, js_on_load=SKIP_SCRIPT, elem_id="ll-skip-box", padding=False, container=False)
