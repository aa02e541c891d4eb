"""Background training jobs for the app: settings a visitor may choose, run records, the runner and its queue
estimates, retention and fair share (retention.py), the cached views of the runs folder (views.py), the
executors that run jobs (a warm local pool, or Ray) and the one definition of their messages (messages.py),
the worker.

Uses genmodels (the trainer) and never gradio; app.py builds one JobRunner over the runs folder.
"""

from .runner import HostLimits, JobRunner

__all__ = ["HostLimits", "JobRunner"]
