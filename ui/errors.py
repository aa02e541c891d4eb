"""Turning library errors into messages in the page."""

import functools
import logging

import gradio as gr

log = logging.getLogger("latent_lab.ui")


def user_errors(fn):
    """Wrap a handler so a ValueError reaches the page (or API client) as a short gr.Error, never a traceback.

    Any other exception is a bug: it is logged with its traceback for developers, and the user
    gets a one-line apology while the app keeps serving.
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except ValueError as error:
            raise gr.Error(str(error), print_exception=False) from None
        except Exception as error:
            log.exception("handler %s failed", fn.__name__)
            raise gr.Error(f"Something went wrong ({type(error).__name__}); please try again.",
                           print_exception=False) from None
    return wrapper
