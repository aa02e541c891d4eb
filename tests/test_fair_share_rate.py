"""Fair share: new owner tokens come in at a bounded rate for the whole server (not per address), while owners
who already have runs keep training; the fair-share limits are host settings (LATENT_LAB_* variables).

The flood is real: jobs under throwaway tokens over HTTP against the real app.
"""

import json
import secrets

import pytest

from hostile import ServedApp, ServerLog, api_call

from jobs import HostLimits

TINY = {"model": "vae", "dataset": "mnist-5k", "epochs": 1, "hidden_size": 32, "batch_size": 256}
STUDENT = "student-with-a-run-token"


def train(url: str, token: str) -> tuple[str, object]:
    return api_call(url, "train", json.dumps([TINY, token]))


@pytest.mark.slow
def test_a_flood_of_new_tokens_is_let_in_at_the_new_owner_rate_and_existing_owners_keep_training(tmp_path):
    limits = HostLimits(max_concurrent=1, max_queue=50, jobs_per_owner=0, max_runs=50,
                        new_owners_per_minute=0.5, new_owners_burst=3)
    with ServedApp(tmp_path / "runs", limits) as served, ServerLog() as log:
        event, answer = train(served.url, STUDENT)
        assert event == "complete", answer
        answers = [train(served.url, secrets.token_urlsafe(12)) for _ in range(6)]
        accepted = [data for event, data in answers if event == "complete"]
        refused = [data for event, data in answers if event != "complete"]
        assert len(accepted) == 2, f"the burst of 3 new owners (the student was one) let in {len(accepted)} more"
        assert len(refused) == 4
        for message in refused:
            assert "try again in about" in str(message) and "Traceback" not in str(message), message
        # The student already has a run: their next job is accepted whatever the flood took.
        event, answer = train(served.url, STUDENT)
        assert event == "complete", f"an owner with a run was refused: {answer}"
        assert len(served.lab.jobs.job_ids()) == 4  # the student's two and the two new owners let in
    assert not log.tracebacks(), log.tracebacks()


def test_the_new_owner_bucket_refills_at_its_rate_and_a_refused_job_gives_its_place_back():
    from jobs.retention import NewOwnerRate

    bucket = NewOwnerRate(per_minute=6, burst=2)
    bucket.take(0.0)
    bucket.take(0.0)
    with pytest.raises(ValueError, match="try again in about 10 seconds"):
        bucket.take(0.0)
    bucket.take(10.0)  # one new owner every 10 s
    bucket.give_back()  # that job was refused after all (the folder was full): its place comes back
    bucket.take(10.0)
    with pytest.raises(ValueError):
        bucket.take(10.0)
    unbounded = NewOwnerRate(per_minute=0, burst=1)
    for _ in range(1000):
        unbounded.take(0.0)


def test_the_fair_share_limits_are_host_settings(monkeypatch):
    import app

    monkeypatch.setenv("LATENT_LAB_TINY_RUN_S", "30")
    monkeypatch.setenv("LATENT_LAB_UNOPENED_GRACE_S", "120.5")
    monkeypatch.setenv("LATENT_LAB_NEW_OWNERS_PER_MINUTE", "2")
    monkeypatch.setenv("LATENT_LAB_NEW_OWNERS_BURST", "25")
    monkeypatch.setenv("LATENT_LAB_CLASS_CODE", "  owls-of-room-12  ")
    limits = app.limits_from_env()
    assert (limits.tiny_run_s, limits.unopened_grace_s, limits.new_owners_per_minute, limits.new_owners_burst) == \
        (30.0, 120.5, 2.0, 25)
    assert limits.class_code == "owls-of-room-12"
    assert "owls" not in repr(limits), "the class code must not show in a printed HostLimits"
    for bad in ("nan", "-5", "inf", "lots"):  # a mistyped setting keeps the default
        monkeypatch.setenv("LATENT_LAB_TINY_RUN_S", bad)
        assert app.limits_from_env().tiny_run_s == HostLimits().tiny_run_s


def test_the_default_rate_cannot_fill_the_folder_with_runs_too_young_to_make_room():
    limits = HostLimits()
    assert limits.new_owners_burst + limits.new_owners_per_minute * limits.unopened_grace_s / 60 < limits.max_runs
    assert limits.new_owners_burst >= 30, "a class starting at once must fit in the burst"
