"""A whole class trains at once: 30 students press Train within 20 s, while the explorer is timed.

    .venv/bin/python bench/class_train.py                      # 30 students, 5-epoch mnist-5k VAEs, the app's slots
    LATENT_LAB_RAY_ADDRESS=local .venv/bin/python bench/class_train.py     # the same on a local Ray cluster
    .venv/bin/python bench/class_train.py --max-jobs 3 --students 30
    .venv/bin/python bench/class_train.py --phases             # where a small job's seconds go
    .venv/bin/python bench/class_train.py --ray-cost           # memory and start-up of a local Ray cluster
    .venv/bin/python bench/class_train.py --split --max-jobs 2 # what slows the explorer: polling or training

Class run: starts `python app.py` in its own process (free port, temporary runs folder, the
environment's LATENT_LAB_* settings, LATENT_LAB_MAX_JOBS from --max-jobs), times the explorer's
server actions (/decode as on a slider's release, /sample as on Random; one probe client in a process
of its own, one call every --gap s) for --idle s, with every student's page open (their sessions
made), then lets --students HTTP clients press Train within --spread s,
each with its own owner token and its own beta (a 5-epoch mnist-5k VAE with the form's defaults,
through /train), each following its job through /job as often as the Train tab ticks (views.tick_seconds:
1 s while the job trains, 4 s while it waits; --poll N: every N s instead). The probe goes
on until the last job has finished. Prints the accepted count, the time from the first press to
the last finish, the explorer's p50/p95 idle and under the class with their ratio, and how well
the first estimate of each job's finish (eta_finish_s) matched.

--phases: runs one such job in a fresh interpreter with its phases timed (interpreter start and
imports, data loading, training steps, validation, latent analysis, picture grids, saving), then
the same job on a warm worker (jobs/pool.py) and in a new interpreter per job, side by side.

--split: the explorer timed for --idle s each idle, beside --students clients polling /job of
finished jobs every second (no training), beside --max-jobs jobs training (no polling), beside both,
and idle again; and the server's CPU time per /job call.

--ray-cost: the warm pool and a local Ray cluster side by side: start-up (ray.init), the first
and the following tiny jobs' submit-to-done, and the memory (PSS) of the processes each started.
"""

import argparse
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import class_sim  # noqa: E402  (the app in its own process, HTTP helpers)
import slider_latency  # noqa: E402  (percentiles)

from jobs import HostLimits, JobRunner  # noqa: E402
from ui.train.views import tick_seconds  # noqa: E402  (the Train tab's polling pace)

JOB = {"model": "vae", "dataset": "mnist-5k", "epochs": 5}  # the form's defaults otherwise (784-400-20)


def api(base: str, name: str, data: list, session: str):
    """Call /gradio_api/call/<name> in a session; return the output, or raise RuntimeError with the error text."""
    event_id = class_sim.post_json(f"{base}/gradio_api/call/{name}", {"data": data, "session_hash": session})["event_id"]
    stream = class_sim.http(f"{base}/gradio_api/call/{name}/{event_id}").decode()
    event = data_line = None
    for line in stream.splitlines():
        if line.startswith("event: "):
            event = line[len("event: "):]
        elif line.startswith("data: "):
            data_line = line[len("data: "):]
    if event != "complete":
        raise RuntimeError(f"/{name}: {event}: {data_line}"[:300])
    return json.loads(data_line)[0]


WARM_UP_CALLS = 10  # the probe's first calls (a fresh client, the server's first answers) are not timed


def probe_calls(base: str, gap_s: float, stop, ready, out) -> None:
    """Call the explorer's server actions one at a time, a pause between them, until `stop` is set; set
    `ready` after WARM_UP_CALLS; put the list of (Unix time of the call, milliseconds, action) on `out`,
    and the number of failed calls."""
    rng = random.Random(0)
    rows, errors = [], 0
    while not stop.wait(gap_s):
        if len(rows) + errors == WARM_UP_CALLS:
            ready.set()
        if rng.random() < 0.7:
            action, url = "/decode (release)", f"{base}/gradio_api/run/decode"
            body = {"data": [[round(rng.gauss(0, 1), 2) for _ in range(20)], "vae-mnist"], "session_hash": "probe"}
        else:
            action, url = "/sample (random)", f"{base}/gradio_api/run/sample"
            body = {"data": ["vae-mnist", -1], "session_hash": "probe"}
        called, start = time.time(), time.perf_counter()
        try:
            class_sim.post_json(url, body)
        except Exception:  # noqa: BLE001 -- counted and shown
            errors += 1
            continue
        rows.append((called, (time.perf_counter() - start) * 1000, action))
    out.put((rows, errors))


class Probe:
    """The explorer's server actions timed from a process of their own, so that the students' 30 client
    threads in this one (clients on other machines in a real class) do not hold up its clock."""

    def __init__(self, base: str, gap_s: float):
        context = multiprocessing.get_context("spawn")
        self._stop, self.ready, self._out = context.Event(), context.Event(), context.Queue()
        self.process = context.Process(target=probe_calls, args=(base, gap_s, self._stop, self.ready, self._out),
                                       daemon=True)
        self.phases: list[tuple[str, float]] = []  # (name, Unix time it began)
        self.times: dict[tuple[str, str], list[float]] = {}
        self.errors = 0

    def start(self, phase: str) -> None:
        self.phases.append((phase, time.time()))
        if not self.process.is_alive():
            self.process.start()

    def finish(self) -> None:
        """Stop the calls and sort their times by phase (and into 'all')."""
        self._stop.set()
        rows, self.errors = self._out.get()
        self.process.join()
        for called, ms, action in rows:
            phase = next((name for name, began in reversed(self.phases) if called >= began), None)
            if phase is not None:
                self.times.setdefault((phase, action), []).append(ms)
                self.times.setdefault((phase, "all"), []).append(ms)


def student_session(k: int) -> str:
    return f"class-train-{k}"


def open_pages(base: str, probe: Probe, students: int) -> None:
    """Start the probe's warm-up and open every student's page, as a class has it open before anyone
    presses Train: each session exists (gradio builds a session's state, tens of ms of the server's
    time, on its first call). Returns once the probe is warm."""
    probe.start("warm-up")
    for k in range(students):
        api(base, "jobs", [], student_session(k))
    probe.ready.wait(timeout=120)
    time.sleep(2.0)


def student(base: str, k: int, press_at: float, out: dict, lock: threading.Lock, beta: float, epochs: int,
            poll_s: float):
    """Press Train at `press_at` (perf_counter time), then follow the job through /job (every poll_s, or at the
    Train tab's pace when 0) until it ends."""
    session, token = student_session(k), f"class-train-student-{k:02d}-token"
    time.sleep(max(0.0, press_at - time.perf_counter()))
    pressed = time.time()
    try:
        job_id = api(base, "train", [dict(JOB, epochs=epochs, beta=beta, name=f"beta {beta:g}"), token], session)
    except RuntimeError as error:
        with lock:
            out[k] = {"pressed": pressed, "refused": str(error)}
        return
    first = None
    while True:
        view = api(base, "job", [job_id, token], session)
        if first is None:
            first = {"position": view["queue_position"], "eta_finish_s": view["eta_finish_s"], "at": time.time()}
        if view["status"] not in ("queued", "running"):
            break
        time.sleep(poll_s or tick_seconds(view["status"]))
    with lock:
        out[k] = {"pressed": pressed, "job": job_id, "status": view["status"], "finished": view["finished"],
                  "first": first, "error": view["error"]}


def class_run(args) -> int:
    os.environ["LATENT_LAB_MAX_JOBS"] = str(args.max_jobs)
    server = class_sim.Server()
    probe = Probe(server.url, args.gap)
    backend = f"Ray ({os.environ['LATENT_LAB_RAY_ADDRESS']})" if os.environ.get("LATENT_LAB_RAY_ADDRESS") else \
        "the local warm pool"
    try:
        open_pages(server.url, probe, args.students)
        probe.start("idle")
        time.sleep(args.idle)
        probe.start("class")
        rng = random.Random(1)
        start = time.perf_counter() + 0.5
        presses = sorted(rng.uniform(0, args.spread) for _ in range(args.students))
        results, lock = {}, threading.Lock()
        threads = [threading.Thread(target=student, args=(server.url, k, start + presses[k], results, lock,
                                                          round(0.5 + 0.1 * k, 2), args.epochs, args.poll),
                               daemon=True)
                   for k in range(args.students)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        probe.finish()
        rss_mb = server.memory_mb()[1]
    finally:
        server.stop()
    accepted = [r for r in results.values() if "job" in r]
    done = [r for r in accepted if r["status"] == "done"]
    first_press = min(r["pressed"] for r in results.values())
    last_press = max(r["pressed"] for r in results.values())
    last_finish = max((r["finished"] for r in accepted if r["finished"]), default=None)
    print(f"Class training: {args.students} students pressed Train within {last_press - first_press:.1f} s "
          f"({args.epochs}-epoch mnist-5k VAE, 784-400-20, each its own beta and owner token), {args.max_jobs} slots on "
          f"{backend}; `python app.py` on {os.cpu_count()} cores\n")
    print("| measure | value |")
    print("|---|---|")
    print(f"| accepted | {len(accepted)} of {args.students} |")
    print(f"| finished done | {len(done)} of {len(accepted)} |")
    if last_finish:
        print(f"| first press -> last finish | {last_finish - first_press:.0f} s |")
    errors = [r["first"]["eta_finish_s"] - (r["finished"] - r["first"]["at"]) for r in done
              if r["first"]["eta_finish_s"] is not None and r["finished"]]
    if errors:
        print(f"| first eta_finish_s minus the actual finish: median / worst | "
              f"{statistics.median(errors):+.0f} s / {max(errors, key=abs):+.0f} s |")
    print(f"| deepest queue position seen | {max((r['first']['position'] or 0) for r in accepted) if accepted else '-'} |")
    print(f"| server peak RSS | {rss_mb:.0f} MB |")
    print(f"| probe errors | {probe.errors} |")
    print("\n| explorer action | idle n | idle p50 | idle p95 | class n | class p50 | class p95 | p95 ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for action in ("/decode (release)", "/sample (random)", "all"):
        idle, busy = probe.times.get(("idle", action), []), probe.times.get(("class", action), [])
        if not idle or not busy:
            continue
        a, b = slider_latency.percentiles(idle), slider_latency.percentiles(busy)
        print(f"| {action} | {a['n']} | {a['p50']} ms | {a['p95']} ms | {b['n']} | {b['p50']} ms | {b['p95']} ms "
              f"| {b['p95'] / a['p95']:.2f}x |")
    for r in results.values():
        if "refused" in r:
            print(f"\nrefused: {r['refused']}")
            break
    failed = [r for r in accepted if r["status"] != "done"]
    if failed:
        print(f"\nnot done: {failed[0]['status']}: {failed[0]['error']}")
    return 0


# -- what slows the explorer under a class -------------------------------------------------------
def split(args) -> int:
    """Time the explorer idle, beside pollers alone, beside training alone, and beside both; and the
    server's CPU time per /job call."""
    os.environ["LATENT_LAB_MAX_JOBS"] = str(args.max_jobs)
    server = class_sim.Server()
    probe = Probe(server.url, args.gap)
    tokens = [f"class-train-split-{k:02d}-token" for k in range(max(1, args.max_jobs))]
    pollers = args.students

    def phase(name: str) -> None:
        probe.start(name)
        time.sleep(args.idle)

    def polled(job_ids: list[str], name: str) -> None:
        """Run `phase(name)` while `pollers` clients call /job on `job_ids` (finished jobs: their views
        change no more) every --poll s (1 s when 0)."""
        stop = threading.Event()

        def poll(k: int) -> None:
            time.sleep(k / pollers)  # spread over the second, as a class's pages are
            while not stop.is_set():
                api(server.url, "job", [job_ids[k % len(job_ids)], tokens[k % len(job_ids)]], student_session(k))
                stop.wait(args.poll or 1.0)

        threads = [threading.Thread(target=poll, args=(k,), daemon=True) for k in range(pollers)]
        for thread in threads:
            thread.start()
        phase(name)
        stop.set()
        for thread in threads:
            thread.join()

    def submit(epochs: int, batch_size: int) -> list[str]:
        return [api(server.url, "train", [dict(JOB, epochs=epochs, batch_size=batch_size, beta=1.0 + k), token],
                    "split") for k, token in enumerate(tokens[:args.max_jobs])]

    try:
        open_pages(server.url, probe, pollers)
        phase("idle")
        finished = submit(1, 128)
        while any(api(server.url, "job", [job_id, tokens[k]], "split")["status"] in ("queued", "running")
                  for k, job_id in enumerate(finished)):
            time.sleep(1.0)
        cpu_before = server.cpu_seconds()
        for _ in range(200):
            api(server.url, "job", [finished[0], tokens[0]], "split")
        job_cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / 200
        polled(finished, f"{pollers} pollers of finished jobs, no training")
        training = submit(100, 16)  # small batches: still training after both phases
        time.sleep(8.0)  # the workers start their jobs
        phase(f"{len(training)} job(s) training, no pollers")
        # The pollers still follow finished jobs, as most of a class follows jobs that wait: a running
        # job's /job carries all its steps, a load of its own.
        polled(finished, f"{len(training)} job(s) training and {pollers} pollers of finished jobs")
        for k, job_id in enumerate(training):
            api(server.url, "cancel", [job_id, tokens[k]], "split")
        phase("idle again")
        probe.finish()
    finally:
        server.stop()
    print(f"The explorer's server actions (/decode, /sample; one call every {args.gap} s, {args.idle:g} s a phase) "
          f"beside each load; {args.max_jobs} slot(s), pollers every {args.poll or 1.0:g} s; "
          f"`python app.py` on {os.cpu_count()} cores\n")
    print("| phase | n | p50 | p95 | mean |")
    print("|---|---|---|---|---|")
    for name, _ in probe.phases[1:]:
        times = probe.times.get((name, "all"), [])
        if times:
            figures = slider_latency.percentiles(times)
            print(f"| {name} | {figures['n']} | {figures['p50']} ms | {figures['p95']} ms | {figures['mean']} ms |")
    print(f"\nserver CPU time per /job call (a finished job, its owner's token, 200 calls): {job_cpu_ms:.1f} ms")
    return 0


# -- where a small job's seconds go ---------------------------------------------------------------
PHASES_CHILD = r"""
import sys, time, json
t_start = time.time()
import torch
import genmodels.train as train_module
from genmodels import latent
from jobs import worker
t_imports = time.time()
spent = {}
def timed(owner, name, label):
    original = getattr(owner, name)
    def wrapper(*a, **k):
        begin = time.perf_counter()
        try:
            return original(*a, **k)
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - begin
    setattr(owner, name, wrapper)
timed(worker, "load_dataset", "data loading")
timed(train_module.Trainer, "train_epoch", "training steps")
timed(train_module, "evaluate", "validation")
timed(latent, "analyze", "latent analysis")
timed(train_module.Trainer, "save", "saving (with the latent analysis)")
timed(worker.Reporter, "_save_grid", "picture grids")
try:  # the checkpoint's NLL record, measured after the last epoch where the trainer has it
    from genmodels import likelihood
    timed(likelihood, "measure", "NLL bound after the last epoch (genmodels/likelihood.py)")
except ImportError:
    pass
begin = time.perf_counter()
code = worker.run_job(sys.argv[1], None, 1, 10)
spent["run_job"] = time.perf_counter() - begin
print(json.dumps({"start": t_start, "imports": t_imports - t_start, "code": code, **spent}))
"""


def phases(args) -> int:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    runs = Path(tempfile.mkdtemp(prefix="class-train-phases-"))
    paper = JobRunner(runs / "a", HostLimits(max_concurrent=0), supervise=False)  # writes records, starts nothing
    rows = []
    for k in range(args.repeat):
        job_id = paper.submit_settings(dict(JOB, beta=1.0 + k), f"phases-{k}")
        launched = time.time()
        out = subprocess.run([sys.executable, "-c", PHASES_CHILD, str(runs / "a" / job_id)], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True).stdout
        ended = time.time()
        figures = json.loads(out.strip().splitlines()[-1])
        figures["interpreter start"] = figures.pop("start") - launched
        figures["total (process launch to exit)"] = ended - launched
        rows.append(figures)
    paper.close()
    for r in rows:
        r["the rest of the job (building, callbacks, files)"] = r["run_job"] - sum(
            r.get(k, 0.0) for k in ("data loading", "training steps", "validation", "picture grids",
                                     "saving (with the latent analysis)",
                                     "NLL bound after the last epoch (genmodels/likelihood.py)"))
    labels = ["interpreter start", "imports", "data loading", "training steps", "validation", "latent analysis",
              "saving (with the latent analysis)", "picture grids",
              "NLL bound after the last epoch (genmodels/likelihood.py)",
              "the rest of the job (building, callbacks, files)", "total (process launch to exit)"]
    print(f"Where the seconds of a 5-epoch mnist-5k VAE (784-400-20) go, in a fresh interpreter, 1 thread, nice 10 "
          f"(median of {args.repeat})\n")
    print("| phase | seconds |")
    print("|---|---|")
    for label in labels:
        print(f"| {label} | {statistics.median(r.get(label, 0.0) for r in rows):.2f} |")

    # The same job: a new interpreter per job (as the runner used to start them) vs a warm worker, alternating.
    cold, warm = [], []
    runner = JobRunner(runs / "b", HostLimits(max_concurrent=1), poll_s=0.05)
    paper = JobRunner(runs / "c", HostLimits(max_concurrent=0, jobs_per_owner=0), supervise=False)
    try:
        first = runner.submit_settings(JOB, "phases-warm-up")  # the worker's first job pays its imports
        runner.wait(first)
        for k in range(args.repeat):
            cold_job = paper.submit_settings(dict(JOB, beta=2.0 + k), "phases-cold")
            begin = time.perf_counter()
            subprocess.run([sys.executable, "-m", "jobs.worker", str(runs / "c" / cold_job), "--threads", "1",
                            "--nice", "10"], cwd=ROOT, env=env, check=True, capture_output=True)
            cold.append(time.perf_counter() - begin)
            begin = time.perf_counter()
            job_id = runner.submit_settings(dict(JOB, beta=2.0 + k), f"phases-warm-{k}")
            view = runner.wait(job_id)
            warm.append(time.perf_counter() - begin)
            assert view["status"] == "done", view
        worker_rss, workers = _descendants_rss_mb(os.getpid())
    finally:
        runner.close()
        paper.close()
    print(f"\n| the same job, submit to done (median of {args.repeat}) | seconds |")
    print("|---|---|")
    print(f"| a new interpreter per job (`python -m jobs.worker <job>`) | {statistics.median(cold):.2f} |")
    print(f"| a warm worker (jobs/pool.py) | {statistics.median(warm):.2f} |")
    print(f"| warm / new | {statistics.median(warm) / statistics.median(cold):.2f} |")
    print(f"\nthe warm pool's {workers} worker process(es) after these jobs: {worker_rss:.0f} MB PSS in all")
    return 0


# -- what the local Ray cluster costs --------------------------------------------------------------
def _descendants_rss_mb(root: int) -> tuple[float, int]:
    """Return (summed PSS in MB, count) of every process descended from `root` (not `root` itself).

    PSS, not RSS: the workers share torch's libraries, which RSS would count once per process."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier and pid not in found}
        found |= frontier
    total = 0
    for pid in found:
        try:
            rollup = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
            total += int(rollup["Pss"].split()[0])
        except (OSError, KeyError, ValueError):
            continue
    return total / 1024, len(found)


def ray_cost(args) -> int:
    tiny = dict(JOB, epochs=1, hidden_size=32, batch_size=256)
    rows = []
    for label, address in (("warm pool", ""), ("Ray, local", "local")):
        runs = Path(tempfile.mkdtemp(prefix="class-train-ray-"))
        begin = time.perf_counter()
        runner = JobRunner(runs, HostLimits(ray_address=address, max_concurrent=2), poll_s=0.05)
        up = time.perf_counter() - begin
        try:
            times = []
            for k in range(args.repeat + 1):
                begin = time.perf_counter()
                view = runner.wait(runner.submit_settings(dict(tiny, beta=1.0 + k), "ray-cost"))
                assert view["status"] == "done", view
                times.append(time.perf_counter() - begin)
            rss, count = _descendants_rss_mb(os.getpid())
            init = getattr(runner.executor, "init_seconds", None)  # asked of a Ray driver before it closes
        finally:
            runner.close()
        rows.append((label, up, init, times[0], statistics.median(times[1:]), rss, count))
    print("What each backend costs on this machine (1-epoch tiny VAE jobs, 2 slots)\n")
    print("| backend | runner up (s) | ray.init (s) | first job (s) | next jobs, median (s) | PSS of its processes | "
          "processes |")
    print("|---|---|---|---|---|---|---|")
    for label, up, init, first, rest, rss, count in rows:
        print(f"| {label} | {up:.1f} | {'-' if init is None else f'{init:.1f}'} | {first:.1f} | {rest:.1f} | "
              f"{rss:.0f} MB | {count} |")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--spread", type=float, default=20.0, help="seconds within which everyone presses Train")
    parser.add_argument("--max-jobs", type=int, default=HostLimits().max_concurrent,
                        help="LATENT_LAB_MAX_JOBS: jobs training at once (default: the app's)")
    parser.add_argument("--epochs", type=int, default=JOB["epochs"], help="epochs of each student's job")
    parser.add_argument("--poll", type=float, default=0.0,
                        help="seconds between a student's /job calls (0: the Train tab's pace, views.tick_seconds)")
    parser.add_argument("--idle", type=float, default=40.0, help="seconds the explorer is timed before the class")
    parser.add_argument("--gap", type=float, default=0.25, help="seconds between the probe's explorer calls")
    parser.add_argument("--phases", action="store_true", help="time the phases of one small job instead")
    parser.add_argument("--split", action="store_true",
                        help="time the explorer beside pollers alone, training alone and both (--idle s each)")
    parser.add_argument("--ray-cost", action="store_true", help="measure what the local Ray cluster costs instead")
    parser.add_argument("--repeat", type=int, default=3, help="--phases, --ray-cost: jobs per measurement")
    args = parser.parse_args()
    if args.ray_cost:
        return ray_cost(args)
    if args.split:
        return split(args)
    return phases(args) if args.phases else class_run(args)


if __name__ == "__main__":
    sys.exit(main())
