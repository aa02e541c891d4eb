"""The Ray driver in a process of its own, so that a cluster going away cannot take the app with it.

Ray ends the process that drives a cluster whose head (GCS) stays unreachable for longer than
RAY_gcs_rpc_server_reconnect_timeout_s (60 s by default): it logs "The program will terminate" and
exits. Were the app that process, a remote cluster restarting would stop the explorer for the
whole class. So the app never imports Ray: RayProcess, the executor the runner gets, starts
`python -m jobs.ray_backend --serve` (as jobs/pool.py starts its warm workers) and sends it each
call as a JSON line. That child runs the RayExecutor and writes what the tasks stream back into
the job folders (the runs folder is on this machine; the cluster's workers share no disk with it).

When the child is gone (Ray ended it, or it crashed), every job it held ends interrupted and
resumable from its last saved epoch, with one sentence; Train and /train refuse new jobs with one
sentence until, RETRY_AFTER_S later, a fresh child connects again.
"""

import logging
import os
import queue
import subprocess
import sys
import threading
import time

import i18n

from . import messages, texts
from .executor import Ended, cluster_in_words, cluster_went_away
from .pool import PROJECT_DIR
from .records import INTERRUPTED, JobFolder

RETRY_AFTER_S = 30.0  # a lost driver is started again, and an unreachable cluster asked again, at most this often
CALL_TIMEOUT_S = 120.0  # the longest a call may take (connecting to a cluster, a forced cancel)
log = logging.getLogger("latent_lab.jobs")


class RayProcess:
    """An executor (jobs/executor.py) whose every call runs in the child process that drives Ray."""

    def __init__(self, address: str, slots: int = 2, threads: int = 1, nice: int = 10):
        self.address = address.strip()
        self.where = cluster_in_words(self.address)
        self._argv = [sys.executable, "-m", "jobs.ray_backend", "--serve", "--address", self.address,
                      "--slots", str(slots), "--threads", str(threads), "--nice", str(nice)]
        self._lock = threading.RLock()  # one call at a time on the pipe
        self._child: subprocess.Popen | None = None
        self._replies: queue.Queue = queue.Queue()
        self._jobs: set[str] = set()  # jobs started in the current child
        self._lost: dict[str, Ended] = {}  # jobs whose child is gone, until polled
        self._problem: i18n.Text | None = None
        self._lost_at = 0.0
        self._closed = False

    @property
    def pid(self) -> int | None:
        """The driver process's pid (None before it started or after it was lost)."""
        return self._child.pid if self._child is not None else None

    @property
    def init_seconds(self) -> float | None:
        """How long the driver's ray.init took (BENCHMARKS.md, "What the Ray backend costs"), None before it connected."""
        return self._call("init_seconds", start=False)

    # -- the child -------------------------------------------------------------------------
    def _start_child(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_DIR), env.get("PYTHONPATH")) if p)
        # stderr (Ray's warnings, tracebacks) goes to the server's own log; start_new_session: Ctrl-C
        # in the app's terminal is the app's.
        self._child = subprocess.Popen(self._argv + ["--parent-pid", str(os.getpid())], cwd=str(PROJECT_DIR),
                                       env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                       start_new_session=True)
        self._replies = queue.Queue()
        threading.Thread(target=self._read, args=(self._child, self._replies), name="ray-driver-replies",
                         daemon=True).start()
        self._problem = None

    @staticmethod
    def _read(child: subprocess.Popen, replies: queue.Queue) -> None:
        for line in child.stdout:
            message = messages.read(line)
            if message is not None:
                replies.put(message)
        replies.put(None)  # the child is gone

    def _driver_gone(self) -> None:
        """The child ended: its jobs end interrupted and new jobs are refused for a while (lock held)."""
        child = self._child
        try:
            child.kill()
            code = child.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            code = None
        log.warning("the Ray driver process ended (exit code %s); its %d job(s) are interrupted", code, len(self._jobs))
        sentence = cluster_went_away(self.address)
        self._lost.update({job_id: Ended(INTERRUPTED, sentence) for job_id in self._jobs})
        self._jobs.clear()
        self._child = None
        self._problem = i18n.Text("jobs.ray.stopped_answering", where=self.where)
        self._lost_at = time.monotonic()

    def _call(self, name: str, *args, start: bool = True):
        """Run executor.name(*args) in the child; its ValueError comes back as a ValueError with the same sentence."""
        with self._lock:
            if self._child is None:
                if not start or self._closed:
                    return None
                if self._problem and time.monotonic() - self._lost_at < RETRY_AFTER_S:
                    raise i18n.Sentence(self._problem.key, **self._problem.params)
                self._start_child()
            try:
                self._child.stdin.write(messages.call(name, args))
                self._child.stdin.flush()
                reply = self._replies.get(timeout=CALL_TIMEOUT_S)
            except (OSError, ValueError, queue.Empty):  # a closed pipe, or no answer in time
                reply = None
            if reply is None:
                self._driver_gone()
                raise i18n.Sentence(self._problem.key, **self._problem.params)
        return messages.reply_value(reply)

    # -- the executor interface (jobs/executor.py) -----------------------------------------
    def warm_up(self) -> None:
        """Start the driver and connect now (a local cluster starts while the app does)."""
        try:
            self._call("warm_up")
        except ValueError:
            pass  # said again, in one sentence, when someone presses Train

    def check_ready(self) -> None:
        if self._closed:
            raise i18n.Sentence("jobs.ray.shutting_down")
        self._call("check_ready")

    def check_device(self, device) -> str:
        return self._call("check_device", device)

    def start(self, folder: JobFolder, record: dict) -> dict:
        with self._lock:
            out = self._call("start", str(folder.path.parent), folder.job_id, record)
            self._jobs.add(folder.job_id)
        return out

    def knows(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._lost or job_id in self._jobs

    def poll(self, job_id: str) -> Ended | None:
        with self._lock:
            if job_id in self._lost:
                return self._lost.pop(job_id)
            try:
                ended = self._call("poll", job_id, start=False)
            except ValueError:  # the driver went away just now
                return self._lost.pop(job_id, None)
            if ended is None:
                return None
            self._jobs.discard(job_id)
            status, reason = ended
            return Ended(status, texts.restored(reason))

    def worker_pid(self, job_id: str, wait_s: float = 0.0) -> int | None:
        return self._call("worker_pid", job_id, wait_s, start=False)

    def stop(self, folder: JobFolder) -> None:
        try:
            self._call("stop", str(folder.path.parent), folder.job_id, start=False)
        except ValueError:
            pass  # the driver is gone: poll says how the job ended

    def kill(self, job_id: str) -> None:
        try:
            self._call("kill", job_id, start=False)
        except ValueError:
            pass

    def close(self, grace_s: float = 2.0) -> None:
        """Stop the jobs' tasks (or leave them to end with the driver) and the driver, with its local cluster."""
        with self._lock:
            self._closed = True
            child, self._child = self._child, None
            if child is None:
                return
            try:
                child.stdin.write(messages.call("close", [grace_s]))
                child.stdin.close()
                child.wait(timeout=grace_s + 30)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                child.kill()
                child.wait(timeout=10)
