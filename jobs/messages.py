"""The two line protocols between the app and its helper processes, defined once for both ends.

Every message is one JSON object on one line. A line that is not one of these is skipped by its
reader (a stray print cannot break a protocol: both helpers send their stdout to stderr first).

Warm worker (jobs/pool.py starts `python -m jobs.worker --serve`):
    worker -> app   {"ready": pid}                       once, its imports and data sets loaded
    app -> worker   {"job_dir": "<runs>/<job id>"}       run that job
    worker -> app   {"done": "<runs>/<job id>", "code": 0}   it ended (the exit code of jobs.worker.run_job)

Ray driver (jobs/ray_process.py starts `python -m jobs.ray_backend --serve`):
    app -> driver   {"call": "start", "args": [...]}     run that RayExecutor method (RAY_CALLS)
    driver -> app   {"reply": value}  or  {"error": "one sentence for the user"}
"""

import json

import i18n

from . import texts

# The RayExecutor methods the app may call in the driver, besides "init_seconds" (an attribute).
RAY_CALLS = ("warm_up", "check_ready", "check_device", "start", "poll", "worker_pid", "stop", "kill", "close")


def _line(message: dict) -> str:
    # A sentence (an i18n.Text, an Ended's reason) travels as its key and parameters (jobs/texts.py).
    return json.dumps(message, default=texts.stored) + "\n"


def read(line) -> dict | None:
    """Return the message on one line, or None when the line is not a JSON object."""
    try:
        message = json.loads(line)
    except (TypeError, ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None


# -- warm worker ---------------------------------------------------------------------------
def ready(pid: int) -> str:
    """Return the line a warm worker sends once it is ready for jobs."""
    return _line({"ready": pid})


def run_job(job_dir) -> str:
    """Return the line that hands a warm worker the job in `job_dir`."""
    return _line({"job_dir": str(job_dir)})


def job_dir_of(message: dict | None) -> str:
    """Return the job folder a run_job message names; ValueError when it is not one."""
    job_dir = message.get("job_dir") if message else None
    if not isinstance(job_dir, str) or not job_dir:
        raise ValueError("not a job line")
    return job_dir


def job_done(job_dir, code: int) -> str:
    """Return the line a warm worker sends when the job in `job_dir` ended with exit `code`."""
    return _line({"done": str(job_dir), "code": code})


def is_job_done(message: dict | None) -> bool:
    """Return True for a job_done message (its exit code is message.get('code'), None when missing)."""
    return bool(message) and "done" in message


# -- Ray driver ------------------------------------------------------------------------------
def call(name: str, args) -> str:
    """Return the line that asks the Ray driver to run `name(*args)`."""
    return _line({"call": name, "args": list(args)})


def call_of(message: dict | None) -> tuple[str, list]:
    """Return (name, args) of a call message; ValueError with a sentence when it is not one."""
    name, args = (message or {}).get("call"), (message or {}).get("args")
    if not isinstance(name, str) or not isinstance(args, list):
        raise i18n.Sentence("jobs.ray.bad_call")
    if name != "init_seconds" and name not in RAY_CALLS:
        raise i18n.Sentence("jobs.ray.no_call", name=name[:40])
    return name, args


def reply(value) -> str:
    """Return the driver's answer to a call."""
    return _line({"reply": value})


def error(sentence) -> str:
    """Return the driver's answer to a call that failed, as one sentence for the user (a Sentence or Text is kept
    as its key and parameters, rendered in the language of whoever reads it)."""
    return _line({"error": texts.stored(sentence)})


def reply_value(message: dict):
    """Return the value of a driver's answer; ValueError with its sentence when the call failed."""
    if "error" in message:
        said = texts.restored(message["error"])
        if isinstance(said, i18n.Text):
            raise i18n.Sentence(said.key, **said.params)
        raise ValueError(said if isinstance(said, str) else "")
    return message.get("reply")
