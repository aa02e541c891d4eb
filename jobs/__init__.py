"""Background training jobs for the app: settings a visitor may choose, run records, the runner and its queue
estimates, the executors that run jobs (a warm local pool, or Ray), the worker.

Uses genmodels (the trainer) and never gradio; app.py builds one JobRunner over the runs folder.
"""

from .runner import HostLimits, JobRunner

__all__ = ["HostLimits", "JobRunner"]
