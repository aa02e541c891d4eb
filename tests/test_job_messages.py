"""jobs/messages.py: both ends of the two helper-process protocols read what the other writes."""

import pytest

from jobs import messages


def test_the_warm_worker_protocol_round_trips():
    assert messages.read(messages.ready(42)) == {"ready": 42}
    assert messages.job_dir_of(messages.read(messages.run_job("/runs/20250101-000000-0001"))) == \
        "/runs/20250101-000000-0001"
    done = messages.read(messages.job_done("/runs/20250101-000000-0001", 3))
    assert messages.is_job_done(done) and done["code"] == 3
    assert not messages.is_job_done(messages.read(messages.ready(42)))


def test_the_ray_driver_protocol_round_trips_and_refuses_unknown_calls():
    assert messages.call_of(messages.read(messages.call("poll", ("20250101-000000-0001",)))) == \
        ("poll", ["20250101-000000-0001"])
    assert messages.reply_value(messages.read(messages.reply([1, "x"]))) == [1, "x"]
    with pytest.raises(ValueError, match="no cluster"):
        messages.reply_value(messages.read(messages.error("There is no cluster.")))
    with pytest.raises(ValueError, match="has no call"):
        messages.call_of(messages.read(messages.call("__import__", [])))


@pytest.mark.parametrize("line", ["", "not json", "[1, 2]", '"text"', "{" * 100_000])
def test_a_line_that_is_not_a_message_is_skipped(line):
    assert messages.read(line) is None
    with pytest.raises(ValueError):
        messages.job_dir_of(messages.read(line))
    with pytest.raises(ValueError):
        messages.call_of(messages.read(line))
