"""The Ray executor: each training job is a Ray task on a cluster, sharing no disk with the app.

    LATENT_LAB_RAY_ADDRESS=local            # a small Ray cluster started for the app (trials, tests)
    LATENT_LAB_RAY_ADDRESS=10.0.0.5:6379    # an existing cluster's head node (or ray://host:10001)
    python -m jobs.ray_backend --serve --address local --parent-pid N   # the driver process (jobs/ray_process.py)

The RayExecutor runs in a driver process of its own, never in the app (jobs/ray_process.py says
why); serve() answers the app's calls there, one JSON line each.

The task gets the job's record (and, to resume, the previous checkpoint's files as bytes), runs
jobs.worker.run_job in a temporary folder of its own and streams that folder's changes back as
they happen (a Ray streaming generator: progress, metrics, log lines, picture grids, and the
checkpoint's files after every epoch, jobs/mirror.py); a thread of the app writes them into the
job's folder under the runs folder with the same atomic checkpoint code as a local job. The
project's code travels to the cluster with the job (runtime_env py_modules); the cluster's Python
needs the requirements (torch, mlxtend, safetensors). A job asking for CUDA asks Ray for a GPU.

Faults: a worker killed mid-epoch leaves the job interrupted with its last streamed epoch saved
(resumable); a cluster that cannot be reached or goes away refuses new jobs with one sentence
while the explorer goes on; cancel asks the task to stop within a step, a hard kill cancels it
by force.
"""

import argparse
import logging
import os
import queue
import re
import socket
import tempfile
import sys
import threading
import time
from pathlib import Path

import ray
from ray import exceptions as ray_errors

import i18n

from . import messages
from .executor import Ended, cluster_in_words, cluster_went_away
from .mirror import FolderMirror, apply_changes, checkpoint_files, write_checkpoint
from .ray_process import RETRY_AFTER_S  # an unreachable cluster is asked again as often as a lost driver restarts
from .records import FAILED, INTERRUPTED, JobFolder
from .settings import CUDA_DEVICE, check_device
from .worker import run_job

PACKAGE_DIRS = [str(Path(__file__).resolve().parent.parent / name) for name in ("genmodels", "jobs")]
LOCAL_OBJECT_STORE_BYTES = 80 * 1024 * 1024  # Ray's minimum is 75 MB; a job streams a few MB at a time
CONNECT_TIMEOUT_S = 5.0  # how long a head node may take to accept a TCP connection
log = logging.getLogger("latent_lab.jobs")

# Ray's errors when the worker process, its node or its memory is lost: the job, not its settings, was hit.
WORKER_LOST = (ray_errors.WorkerCrashedError, ray_errors.NodeDiedError, ray_errors.LocalRayletDiedError,
               ray_errors.OutOfMemoryError, ray_errors.ObjectLostError, ray_errors.OwnerDiedError)


def train_remotely(record: dict, checkpoint: dict, threads: int, nice: int):
    """Ray task body: run the job in a temporary folder; yield that folder's changes (jobs/mirror.py) as they happen.

    The first item names the worker ({'worker': {'pid', 'node'}}). Ray's cancel raises
    KeyboardInterrupt here; the training thread then stops within a step.
    """
    yield {"worker": {"pid": os.getpid(), "node": ray.util.get_node_ip_address()}}
    with tempfile.TemporaryDirectory(prefix="latent-lab-job-") as tmp:
        folder = JobFolder(tmp, record["id"])
        folder.save_record(record)
        if checkpoint:
            write_checkpoint(folder, checkpoint)
        mirror = FolderMirror(folder)
        changes: queue.Queue = queue.Queue()
        stop = threading.Event()

        def train():
            try:
                run_job(folder.path, None, threads, nice, stopped=stop.is_set,
                        on_report=lambda final: changes.put(mirror.changes()))
            finally:
                changes.put(None)

        thread = threading.Thread(target=train, name="latent-lab-training", daemon=True)
        thread.start()
        try:
            while True:
                try:  # with a timeout: Ray's cancel can only interrupt running Python code
                    item = changes.get(timeout=0.5)
                except queue.Empty:
                    continue
                if item is None:
                    break
                yield item
        finally:
            stop.set()
            thread.join()


_remote_task = ray.remote(num_returns="streaming", max_retries=0)(train_remotely)


def _reachable(address: str) -> str | None:
    """Return None when the address's host:port accepts a TCP connection, else the reason in a few words."""
    match = re.match(r"^(?:ray://)?\[?([^\]]+?)\]?:(\d+)$", address)
    if not match:
        return None  # an address form we do not parse (e.g. "auto"): let Ray judge
    try:
        socket.create_connection((match.group(1), int(match.group(2))), timeout=CONNECT_TIMEOUT_S).close()
        return None
    except OSError as error:
        return error.strerror or type(error).__name__


class _Task:
    """One job's Ray task and the app thread that writes its stream into the job folder."""

    def __init__(self, folder: JobFolder, stream):
        self.folder, self.stream = folder, stream
        self.ended: Ended | None = None
        self.worker_pid: int | None = None
        self.started_worker = threading.Event()
        self.thread: threading.Thread | None = None


class RayExecutor:
    """Runs jobs as Ray tasks (module docstring); at most `slots` at once, as the runner asks."""

    def __init__(self, address: str, slots: int = 2, threads: int = 1, nice: int = 10):
        self.address = address.strip()
        self.slots, self.threads, self.nice = slots, threads, nice
        self._tasks: dict[str, _Task] = {}
        self._lock = threading.RLock()
        self._problem: str | None = None
        self._connected = False  # this executor called ray.init (another one in the process may have too)
        self._closed = False
        self._tried = 0.0
        self._requests: queue.Queue = queue.Queue()
        self._driver: threading.Thread | None = None
        self.init_seconds: float | None = None  # how long ray.init took (BENCHMARKS.md: the Ray backend)

    # -- the connection --------------------------------------------------------------------
    @property
    def where(self) -> str:
        """The cluster in words, for sentences."""
        return cluster_in_words(self.address)

    def _init_kwargs(self) -> dict:
        kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING,
                      namespace="latent-lab", runtime_env={"py_modules": PACKAGE_DIRS})
        if self.address == "local":
            return dict(kwargs, num_cpus=self.slots, object_store_memory=LOCAL_OBJECT_STORE_BYTES)
        return dict(kwargs, address=self.address)

    def _connect(self) -> None:
        """Connect (or start the local cluster) once; on failure keep one sentence in _problem (driver thread)."""
        if self._connected and self._problem is None:
            return
        self._tried = time.monotonic()
        if self._connected:
            ray.shutdown()
            self._connected = False
        reason = _reachable(self.address) if self.address != "local" else None
        if reason is None:
            started = time.perf_counter()
            try:
                ray.init(**self._init_kwargs())
                self.init_seconds = time.perf_counter() - started
                self._connected, self._problem = True, None
                return
            except Exception as error:  # noqa: BLE001 -- any failure to connect is the same sentence
                log.warning("ray.init(%s) failed: %r", self.address, error)
                reason = type(error).__name__
        self._problem = i18n.Text("jobs.ray.unreachable", where=self.where, reason=reason)

    def _drive(self) -> None:
        """The thread that owns the Ray connection: a local cluster's processes end with the thread that started them."""
        while True:
            request = self._requests.get()
            if request is None:
                break
            self._connect()
            request.set()
        if self._connected:
            ray.shutdown()
            self._connected = False

    def _ask_connect(self) -> None:
        with self._lock:
            if self._closed:
                return
            if self._driver is None:
                self._driver = threading.Thread(target=self._drive, name="ray-driver", daemon=True)
                self._driver.start()
        done = threading.Event()
        self._requests.put(done)
        done.wait()

    def warm_up(self) -> None:
        """Connect now (the local cluster starts while the app does)."""
        self._ask_connect()

    def check_ready(self) -> None:
        """Raise a ValueError with a sentence when the cluster cannot take a job now (asks again every RETRY_AFTER_S)."""
        if self._closed:
            raise i18n.Sentence("jobs.ray.shutting_down")
        if self._problem is None and not self._connected or \
                self._problem and time.monotonic() - self._tried > RETRY_AFTER_S:
            self._ask_connect()
        if self._problem:
            raise i18n.Sentence(self._problem.key, **self._problem.params)

    def check_device(self, device) -> str:
        """Return the device name if the cluster can give it (CUDA: a GPU anywhere in the cluster); ValueError otherwise."""
        if not isinstance(device, str) or not CUDA_DEVICE.match(device.strip().lower()):
            return check_device(device)  # auto, cpu and malformed names: the usual rule and sentence
        self.check_ready()
        if ray.cluster_resources().get("GPU", 0) < 1:
            raise i18n.Sentence("jobs.ray.no_gpu", where=self.where)
        return device.strip().lower()

    # -- jobs ------------------------------------------------------------------------------
    def start(self, folder: JobFolder, record: dict) -> dict:
        """Send the job to the cluster as a task; return {} (no local process to record). ValueError if unreachable."""
        self.check_ready()
        device = str(record["train_config"].get("device") or "auto")
        options = {"num_cpus": 1, "num_gpus": 1 if device.startswith("cuda") else 0}
        resume = record["segments"][-1]["resume"]
        stream = _remote_task.options(**options).remote(record, checkpoint_files(folder) if resume else {},
                                                        self.threads, self.nice)
        task = _Task(folder, stream)
        task.thread = threading.Thread(target=self._follow, args=(task,), name=f"ray-job-{folder.job_id}", daemon=True)
        with self._lock:
            self._tasks[folder.job_id] = task
        task.thread.start()
        return {}

    def _follow(self, task: _Task) -> None:
        """Write the task's stream into the job folder until it ends; keep how it ended for poll."""
        try:
            for ref in task.stream:
                changes = ray.get(ref)
                if isinstance(changes, dict) and "worker" in changes:
                    task.worker_pid = changes["worker"].get("pid")
                    task.started_worker.set()
                    continue
                apply_changes(task.folder, changes)
            task.ended = Ended(FAILED, i18n.Text("jobs.ray.no_outcome"))
        except ray_errors.TaskCancelledError:
            task.ended = Ended(INTERRUPTED, i18n.Text("jobs.ray.task_stopped"))
        except WORKER_LOST:
            task.ended = Ended(INTERRUPTED, i18n.Text("jobs.ray.worker_lost"))
        except ray_errors.RuntimeEnvSetupError:
            log.exception("job %s: runtime environment", task.folder.job_id)
            task.ended = Ended(FAILED, i18n.Text("jobs.ray.env"))
        except ray_errors.RayTaskError as error:
            log.error("job %s failed on the cluster: %s", task.folder.job_id, error)
            task.ended = Ended(FAILED, i18n.Text("jobs.ray.task_error"))
        except (ray_errors.RaySystemError, ray_errors.RayError, ConnectionError) as error:
            log.warning("job %s: the cluster went away: %r", task.folder.job_id, error)
            self._problem = i18n.Text("jobs.ray.stopped_answering", where=self.where)
            task.ended = Ended(INTERRUPTED, cluster_went_away(self.address))
        except (OSError, ValueError) as error:  # the job folder could not take what came back
            log.exception("job %s: writing what the cluster sent", task.folder.job_id)
            task.ended = Ended(FAILED, i18n.Text("jobs.ray.save_failed", kind=type(error).__name__))
        finally:
            task.started_worker.set()

    def knows(self, job_id: str) -> bool:
        """True while this executor holds the job (running, or ended and not yet polled)."""
        with self._lock:
            return job_id in self._tasks

    def poll(self, job_id: str) -> Ended | None:
        """Return None while the job's task runs, else how it ended (once; then the executor forgets it)."""
        with self._lock:
            task = self._tasks.get(job_id)
            if task is None:
                return Ended(FAILED, i18n.Text("jobs.ray.unknown_task"))
            if task.thread.is_alive():
                return None
            del self._tasks[job_id]
            return task.ended

    def worker_pid(self, job_id: str, wait_s: float = 0.0) -> int | None:
        """Return the pid of the cluster worker running the job once it reported it (waits up to wait_s)."""
        with self._lock:
            task = self._tasks.get(job_id)
        if task is None:
            return None
        task.started_worker.wait(wait_s)
        return task.worker_pid

    def stop(self, folder: JobFolder) -> None:
        """Ask the job's task to stop within a step (Ray raises KeyboardInterrupt in it); its last epoch is kept."""
        with self._lock:
            task = self._tasks.get(folder.job_id)
        if task is not None:
            try:
                ray.cancel(task.stream, force=False)
            except Exception:  # noqa: BLE001 -- a cluster gone: the follower thread says so
                log.warning("job %s: cancel failed", folder.job_id, exc_info=True)

    def kill(self, job_id: str) -> None:
        """Cancel the job's task by force (its worker process is killed) and wait for the follower to finish."""
        with self._lock:
            task = self._tasks.get(job_id)
        if task is None:
            return
        try:
            ray.cancel(task.stream, force=True)
        except Exception:  # noqa: BLE001
            log.warning("job %s: forced cancel failed", job_id, exc_info=True)
        task.thread.join(timeout=30)

    def close(self, grace_s: float = 2.0) -> None:
        """Stop following jobs (their tasks end with this driver) and disconnect from, or stop, the cluster."""
        with self._lock:
            self._closed = True
            tasks = list(self._tasks.items())
        deadline = time.monotonic() + grace_s
        for job_id, task in tasks:
            task.thread.join(timeout=max(0.1, deadline - time.monotonic()))
            if task.thread.is_alive():
                self.kill(job_id)
        if self._driver is not None:
            self._requests.put(None)
            self._driver.join(timeout=30)


# -- the driver process ------------------------------------------------------------------------
def _call(executor: RayExecutor, name: str, args: list):
    """Run one call of the app (jobs/ray_process.py) on the executor, its arguments and result as JSON."""
    if name == "init_seconds":
        return executor.init_seconds
    if name in ("start", "stop"):  # (runs folder, job id, ...) travels as text: the job's folder
        args = [JobFolder(args[0], args[1]), *args[2:]]
    value = getattr(executor, name)(*args)
    return list(value) if isinstance(value, Ended) else value


def serve(address: str, slots: int, threads: int, nice: int, parent_pid: int | None) -> int:
    """Answer the app's calls read from stdin, one JSON line each, until stdin closes or the app is gone."""
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # a stray print (Ray's among them) must not break the protocol: stdout goes to the server's log
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    executor = RayExecutor(address, slots=slots, threads=threads, nice=nice)

    def watch_parent():  # the app killed hard: stop the jobs (and a local cluster) instead of lingering
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        try:
            executor.close(grace_s=1.0)
        finally:
            os._exit(0)

    if parent_pid is not None:
        threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    for line in sys.stdin:
        name = None
        try:
            name, args = messages.call_of(messages.read(line))
            reply = messages.reply(_call(executor, name, args))
        except ValueError as error:  # a sentence for the user
            reply = messages.error(error)
        except Exception as error:  # noqa: BLE001 -- logged here; the app gets a sentence
            log.exception("the Ray driver's call failed")
            reply = messages.error(i18n.Text("jobs.ray.unexpected", where=executor.where, kind=type(error).__name__))
        try:
            replies.write(reply)
        except BrokenPipeError:  # the app is gone: nobody to answer; stop its jobs as close would
            break
        if name == "close":
            return 0
    executor.close()
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.ray_backend", description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", required=True, help="answer the app's calls on stdin")
    parser.add_argument("--address", required=True, help="'local' or a Ray address")
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--nice", type=int, default=10)
    parser.add_argument("--parent-pid", type=int, default=None, help="stop when this process is gone")
    args = parser.parse_args(argv)
    return serve(args.address, args.slots, args.threads, args.nice, args.parent_pid)


if __name__ == "__main__":
    sys.exit(main())
