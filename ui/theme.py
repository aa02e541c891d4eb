"""The page's Gradio theme: Gradio's default look with every text colour at a contrast of at least 4.5:1
(WCAG 2.2 AA) on its background.

Gradio's default theme writes help texts, info lines and its footer in neutral-400 (2.5:1 on white), and
white on orange-500 for primary buttons and orange-500 for the selected tab's name (2.8:1); the darker
shades below keep the same hues. Only public theme variables are set (gr.themes.Base.set); app.serve
passes THEME to launch.
"""

import gradio as gr

THEME = gr.themes.Default().set(
    body_text_color_subdued="*neutral_600",  # 7.6:1 on white
    body_text_color_subdued_dark="*neutral_300",
    color_accent="*primary_700",  # the selected tab's name and the accents: 5.2:1 on white
    button_primary_background_fill="*primary_700",  # white on it: 5.2:1
    button_primary_background_fill_dark="*primary_700",
    button_primary_background_fill_hover="*primary_800",
    button_primary_background_fill_hover_dark="*primary_800",
)
