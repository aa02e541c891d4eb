"""Write tab: the RowWriter writes digits row by row while the RNN reader reads along (or a row per Step,
showing the probabilities each row was drawn from and the log-likelihood so far), completes a digit you
draw, and stands side by side with the VAE (samples and negative log-likelihoods).

Gradio glue only: layout in layout.py, events in page.py, pictures in render.py, model work in
actions.py, the named endpoints /write, /write_step and /complete in api.py.
"""

from .api import wire_api
from .page import WritePage

__all__ = ["WritePage", "build_write_tab"]


def build_write_tab(registry) -> WritePage:
    """Build the Write tab inside the current Blocks, wire its events and its API; return the page."""
    page = WritePage(registry)
    page.wire()
    wire_api(registry)
    return page
