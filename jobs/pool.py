"""The local executor: a pool of warm worker processes, one job at a time each (the default backend).

    pool = WarmPool(size=2, threads=1, nice=10)
    pool.start(folder, record)     # hands the job to an idle worker; returns its pid and start time
    pool.poll(job_id)              # None while it runs, else Ended(status, reason)
    pool.stop(folder); pool.kill(job_id); pool.close()

Each worker is `python -m jobs.worker --serve` (low priority, one torch thread), started once: it
keeps torch imported and the class's data set loaded, so a short job does not pay for a new
interpreter. A job still runs outside the app's process: a crash, an out-of-memory kill or a
hard kill on cancel ends that worker, never the app; the worker is then replaced. The stop file
and the parent check (jobs/worker.py) work as with a process per job.
"""

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import i18n

from . import messages
from .executor import Ended, process_start_time
from .records import FAILED, JobFolder
from .settings import check_device

PROJECT_DIR = Path(__file__).resolve().parent.parent  # the worker runs `-m jobs.worker` from here
JOBS_PER_WORKER = 50  # a worker is replaced after this many jobs, so no slow leak can build up
log = logging.getLogger("latent_lab.jobs")


def describe_exit(code) -> i18n.Text:
    """Return how a process ended, as the end of a sentence ('it was killed by SIGKILL')."""
    if code is None:
        return i18n.Text("jobs.exit.gone")
    if code < 0:
        try:
            return i18n.Text("jobs.exit.signal", signal=signal.Signals(-code).name)
        except ValueError:
            return i18n.Text("jobs.exit.signal", signal=str(-code))
    return i18n.Text("jobs.exit.code", code=code)


class _Worker:
    """One warm worker process and what it is doing; its stdout is read by a thread of its own."""

    def __init__(self, threads: int, nice: int, on_exit):
        env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_DIR), env.get("PYTHONPATH")) if p)
        # stderr (tracebacks) goes to the server's own log; start_new_session: Ctrl-C in the app's
        # terminal is the app's, not the jobs'.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jobs.worker", "--serve", "--parent-pid", str(os.getpid()),
             "--threads", str(threads), "--nice", str(nice)],
            cwd=str(PROJECT_DIR), env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            start_new_session=True)
        self.pid = self.proc.pid
        self.started = process_start_time(self.pid)
        self.job_id: str | None = None
        self.jobs_done = 0
        self.ended: dict[str, Ended] = {}  # job id -> how it ended (read once by poll)
        self._lock = threading.Lock()
        self._on_exit = on_exit
        self.reader = threading.Thread(target=self._read, name=f"job-worker-{self.pid}", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            message = messages.read(line)
            if messages.is_job_done(message):
                with self._lock:
                    if self.job_id is not None:
                        self.ended[self.job_id] = Ended(FAILED, i18n.Text("jobs.stopped_unexpectedly",
                                                                          how=describe_exit(message.get("code"))))
                        self.job_id = None
                    self.jobs_done += 1
        code = self.proc.wait()
        with self._lock:
            if self.job_id is not None:
                self.ended[self.job_id] = Ended(FAILED, i18n.Text("jobs.stopped_unexpectedly", how=describe_exit(code)))
                self.job_id = None
        self._on_exit(self)

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.proc.poll() is None

    def give(self, folder: JobFolder) -> bool:
        """Send a job to this idle worker; return False when its pipe is closed (the worker died)."""
        with self._lock:
            self.job_id = folder.job_id
        try:
            self.proc.stdin.write(messages.run_job(folder.path))
            self.proc.stdin.flush()
            return True
        except (OSError, ValueError):
            with self._lock:
                self.job_id = None
            return False

    def retire(self) -> None:
        """Close stdin: the worker exits after its current job (if any)."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def kill(self) -> None:
        """SIGKILL the process (its job is marked by the reader thread once it is gone)."""
        try:
            self.proc.kill()
        except OSError:
            pass


class WarmPool:
    """At most `size` warm worker processes; each runs one job at a time (see the module docstring)."""

    def __init__(self, size: int, threads: int = 1, nice: int = 10):
        self.size, self.threads, self.nice = size, threads, nice
        self._workers: list[_Worker] = []
        self._lock = threading.RLock()
        self._closed = False

    def _spawn(self) -> _Worker:
        worker = _Worker(self.threads, self.nice, self._exited)
        self._workers.append(worker)
        return worker

    def _prune(self) -> None:
        """Forget dead workers whose job endings were all read (under the lock)."""
        self._workers = [w for w in self._workers if w.alive or w.ended]

    def _exited(self, worker: _Worker) -> None:
        """A worker's process ended (its job's ending is kept for poll): start a replacement if one is wanted."""
        with self._lock:
            self._prune()
            self.warm_up()  # the pool stays warm for the next job

    def warm_up(self) -> None:
        """Start workers until each running job has one and one more waits idle, at most `size` in all (each
        imports torch and loads the class's data set in the background). Not `size` at once: a worker holds
        about 700 MB, so a host that allows many jobs at once would otherwise fill its memory on the first job."""
        with self._lock:
            alive = [w for w in self._workers if w.alive]
            busy = sum(1 for w in alive if w.job_id is not None)
            for _ in range(max(0, min(self.size, busy + 1) - len(alive))):
                if self._closed:
                    break
                self._spawn()

    def check_ready(self) -> None:
        """Nothing to check: local processes can always be started."""

    check_device = staticmethod(check_device)  # jobs run on this machine: its devices count

    def _holding(self, job_id: str) -> _Worker | None:
        return next((w for w in self._workers if w.job_id == job_id or job_id in w.ended), None)

    def knows(self, job_id: str) -> bool:
        """True when this pool started the job and has not reported its end yet."""
        with self._lock:
            return self._holding(job_id) is not None

    def start(self, folder: JobFolder, record: dict) -> dict:
        """Hand the job to an idle worker; return {'pid', 'pid_started'} to record (ValueError when closed)."""
        with self._lock:
            if self._closed:
                raise i18n.Sentence("jobs.pool.shutting_down")
            for _ in range(self.size + 2):
                for worker in self._workers:
                    if worker.jobs_done >= JOBS_PER_WORKER and worker.job_id is None:
                        worker.retire()
                idle = next((w for w in self._workers if w.alive and w.job_id is None
                             and w.jobs_done < JOBS_PER_WORKER), None)
                if idle is None:
                    self._prune()
                    idle = self._spawn()
                if idle.give(folder):
                    # An app that never trains starts no worker; one that does keeps one spare warm.
                    self.warm_up()
                    return {"pid": idle.pid, "pid_started": idle.started}
        raise i18n.Sentence("jobs.pool.no_process")

    def poll(self, job_id: str) -> Ended | None:
        """Return None while the job runs, else how it ended (once; afterwards the pool forgets it)."""
        with self._lock:
            worker = self._holding(job_id)
        if worker is None:
            return Ended(FAILED, i18n.Text("jobs.stopped_unexpectedly", how=i18n.Text("jobs.exit.gone")))
        if worker.job_id == job_id and not worker.alive:
            worker.reader.join(timeout=5)  # it has just died: its reader is recording how
        with self._lock:
            if job_id in worker.ended:
                ended = worker.ended.pop(job_id)
                self._prune()
                return ended
            return None

    def stop(self, folder: JobFolder) -> None:
        """Ask the job to stop within a step (the worker checks its stop file), keeping its last saved epoch."""
        folder.stop_file.touch()

    def kill(self, job_id: str) -> None:
        """Kill the worker running the job (SIGKILL) and wait until it is gone; a fresh worker replaces it."""
        with self._lock:
            worker = self._holding(job_id)
        if worker is not None and worker.job_id == job_id:
            worker.kill()
            worker.reader.join(timeout=10)  # the reader records the job's ending once the process is gone

    def running_pids(self) -> list[int]:
        """Return the pids of the worker processes alive now."""
        with self._lock:
            return [w.pid for w in self._workers if w.alive]

    def close(self, grace_s: float = 2.0) -> None:
        """Stop the workers: idle ones exit at once, busy ones within grace_s (their jobs were asked to stop)."""
        with self._lock:
            self._closed = True
            workers = list(self._workers)
        for worker in workers:
            worker.retire()
        for worker in workers:
            try:
                worker.proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.proc.wait()
