"""How long jobs take: the measured pace of finished jobs with similar settings, and the queue's plan from it.

    paces = PaceBook()
    paces.learn(records)                       # every refresh: finished jobs become samples
    paces.estimate(record)                     # seconds the job's latest segment should take
    plan_queue(records, slots, paces, left)    # {job id: (queue position, start in s, finish in s)}

A job's time is its latest segment's wall time, from being handed to a worker to its end, so
start-up, data loading, validation and saving are all counted. Settings that change the pace are
matched as closely as the samples allow (the same model and training settings on the same data
set and number of slots, then the same model type, data set and slots, then the same model type
and data set); without a sample the prior below stands in.
"""

import json
import statistics

from .records import DONE, QUEUED, RUNNING

# Seconds per epoch of a default-size model on mnist-5k, and the fixed cost of a job on a warm
# worker (building, and the NLL bound measured after the last epoch): round figures from
# `bench/class_train.py` (BENCHMARKS.md), replaced by measurements once one job finished.
PRIOR_EPOCH_S = {("vae", "mnist-5k"): 0.6, ("rnn", "mnist-5k"): 2.0, ("writer", "mnist-5k"): 2.0,
                 ("ae", "mnist-5k"): 0.5}  # the autoencoder: the VAE's network less one head and the sampling, ~0.85x
PRIOR_LARGE_FACTOR = 12  # mnist and fashion-mnist train on 55,000 images, mnist-5k on 4,500
PRIOR_START_S = 2.0
# A running job past its estimate by more than this has an unknown remaining time (it may be loading,
# measuring its NLL bound, or slower than its peers): the jobs behind it get no start time, not a false one.
OVERDUE_S = 3.0
SAMPLES_KEPT = 300  # the newest finished jobs remembered (retention may delete their folders)
SAMPLES_USED = 9  # the newest matching samples whose median is the pace


def _settings_key(record: dict) -> str:
    train = {k: v for k, v in record["train_config"].items() if k not in ("epochs", "seed", "name")}
    return json.dumps([record["model_config"], train], sort_keys=True, default=str)


def _segment_epochs(record: dict) -> int:
    return max(1, record["segments"][-1]["epochs"])


class PaceBook:
    """Seconds per epoch of finished jobs, by how their settings compare with a job to estimate."""

    def __init__(self):
        self._samples: dict[str, dict] = {}  # job id + segment -> sample

    def learn(self, records) -> None:
        """Take every finished job of `records` ((folder, record) pairs) as a sample, once per segment."""
        for _, record in records:
            started, finished = record.get("started"), record.get("finished")
            if record["status"] != DONE or started is None or finished is None or finished <= started:
                continue
            key = f"{record['id']}/{len(record['segments'])}"
            if key in self._samples:
                continue
            self._samples[key] = {
                "model_type": record["model_type"], "dataset": record["train_config"]["dataset"],
                "slots": record.get("slots"), "settings": _settings_key(record), "finished": finished,
                "epoch_s": (finished - started) / _segment_epochs(record)}
        if len(self._samples) > SAMPLES_KEPT:
            newest = sorted(self._samples, key=lambda k: self._samples[k]["finished"])[-SAMPLES_KEPT:]
            self._samples = {k: self._samples[k] for k in newest}

    def epoch_seconds(self, record: dict, slots: int) -> float:
        """Return the expected seconds per epoch of the job's settings on `slots` slots."""
        model_type, dataset = record["model_type"], record["train_config"]["dataset"]
        settings = _settings_key(record)
        tiers = (lambda s: s["settings"] == settings and s["slots"] == slots,
                 lambda s: s["slots"] == slots,
                 lambda s: True)
        alike = [s for s in self._samples.values() if s["model_type"] == model_type and s["dataset"] == dataset]
        for matches in tiers:
            found = sorted((s for s in alike if matches(s)), key=lambda s: s["finished"])[-SAMPLES_USED:]
            if found:
                return statistics.median(s["epoch_s"] for s in found)
        prior = PRIOR_EPOCH_S.get((model_type, "mnist-5k"), max(PRIOR_EPOCH_S.values()))
        return prior * (1 if dataset == "mnist-5k" else PRIOR_LARGE_FACTOR) + PRIOR_START_S / _segment_epochs(record)

    def estimate(self, record: dict, slots: int) -> float:
        """Return the expected seconds of the job's latest segment, from start to end."""
        return self.epoch_seconds(record, slots) * _segment_epochs(record)


def plan_queue(records, slots: int, paces: PaceBook, now: float, left=None) -> dict[str, tuple]:
    """Return {job id: (queue position or None, seconds until it starts, seconds until it finishes)}.

    Running jobs finish after `left(record)` seconds when given (the worker's own figure), else
    their estimate less the time they have run, unknown (None) once that is OVERDUE_S past; queued
    jobs start, first come first served, on the first slot that frees up. Times are None when
    nothing can start (no slots) or no slot's time is known.
    """
    free = []
    plan = {}
    for _, record in records:
        if record["status"] != RUNNING:
            continue
        remaining = left(record) if left else None
        if remaining is None:
            remaining = paces.estimate(record, slots) - (now - (record.get("started") or now))
            remaining = max(1.0, remaining) if remaining > -OVERDUE_S else None
        free.append(remaining)
        plan[record["id"]] = (None, 0.0, remaining)
    known = sorted(t for t in free if t is not None)
    free = (known + [None] * (len(free) - len(known)))[:slots] + [0.0] * max(0, slots - len(free))
    queued = sorted((r["queued"], r["id"], r) for _, r in records if r["status"] == QUEUED)
    for position, (_, job_id, record) in enumerate(queued, start=1):
        if not any(t is not None for t in free):
            plan[job_id] = (position, None, None)
            continue
        start = min(t for t in free if t is not None)
        free.remove(start)
        finish = start + paces.estimate(record, slots)
        free.append(finish)
        plan[job_id] = (position, start, finish)
    return plan
