"""jobs/messages.py: both ends of the two helper-process protocols read what the other writes."""

import json

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


def test_a_sentence_kept_by_a_job_is_shown_in_each_readers_language():
    """A job's message is written with no request (a worker, the supervisor): kept as a key and its parameters, and
    rendered when read; an older record's plain text stays as it is; what this app did not write is not shown."""
    import i18n
    from jobs import texts

    said = i18n.Text("jobs.error_then", error=i18n.Sentence("jobs.stopped_unexpectedly",
                                                             how=i18n.Text("jobs.exit.code", code=137)),
                     kept=i18n.Text("jobs.kept", epoch=2))
    kept = json.loads(json.dumps(texts.stored(said)))  # through a file or a pipe
    assert texts.shown(kept, "en") == ("The training process stopped unexpectedly: it exited with code 137. "
                                       "The last good checkpoint (epoch 2) is kept; resume to continue.")
    assert texts.shown(kept, "zh-CN") == ("训练进程意外停止：它以退出码 137 结束。"
                                          "已保留最后一个完好的检查点（第 2 轮），可以继续训练。")
    assert texts.shown("An old record's words.", "zh-CN") == "An old record's words."
    for foreign in ({"key": "no.such.key", "params": {}}, {"key": "jobs.kept", "params": {"epoch": [1] * 5}},
                    {"key": "jobs.kept", "params": {}}, ["jobs.kept"], 7):
        assert texts.shown(foreign) is None, foreign
    # The Ray driver's answers carry sentences the same way.
    with pytest.raises(i18n.Sentence) as raised:
        messages.reply_value(messages.read(messages.error(i18n.Sentence("jobs.ray.shutting_down"))))
    assert raised.value.render("zh-CN") == "这台服务器上的训练正在关闭；请稍后再试。"
