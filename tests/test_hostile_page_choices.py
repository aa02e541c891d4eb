"""Page events called as a hostile client would (gradio's queue, by fn_index): a dropdown or radio value outside
its choices (the Write tab's events given "vae-mnist" as the writer, the explorer's given an unknown model), and
None, lists, dicts, NaN or 200 kB of text for any input, answer one sentence naming the field; the log gets no
traceback and no echo of the value (ui/errors.py answer_refused_inputs, one place for every event)."""

import collections
import math

import httpx
import pytest
from hostile import ServedApp, ServerLog, call_event, error_sentence, leaks

from jobs import HostLimits
from ui.language import shown

BIG = "x" * 200_000
CHOICE_KINDS = {"dropdown", "radio"}
OUTSIDE = {"a VAE given to a writer field": "vae-mnist", "an unknown model": "no-such-model", "200 kB": BIG,
           "a list": ["vae-mnist", 1], "a dict": {"model": "vae"}, "NaN": math.nan}
ANY_INPUT = {"None": None, "a list": [1, "a"], "a dict": {"k": "v"}, "NaN": math.nan, "200 kB": BIG}


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    """The real app with training turned off (the sweep would otherwise start real jobs), over a few finished runs
    beyond the shipped models, so a list of models is longer than a sentence would hold."""
    from hostile import copy_shipped_run

    runs = tmp_path_factory.mktemp("choice-runs")
    for k in range(12):
        copy_shipped_run(runs, f"20260101-000000-{k:04x}")
    with ServedApp(runs, HostLimits(enabled=False)) as served:
        yield served.url


def page_events(url: str) -> list[tuple[int, list[dict]]]:
    """Return (fn_index, its input components' config) of every event of the page that has inputs."""
    config = httpx.get(f"{url}/config", timeout=60).json()
    components = {c["id"]: c for c in config["components"]}
    return [(index, [components[i] for i in dependency["inputs"]])
            for index, dependency in enumerate(config["dependencies"])
            if dependency["inputs"] and dependency.get("backend_fn", True)]


def defaults(inputs: list[dict]) -> list:
    return [c["props"].get("value") for c in inputs]


def assert_quiet(log: ServerLog, stderr: str) -> None:
    assert not log.tracebacks(), log.tracebacks()[:2]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert not any(len(r.getMessage()) > 2000 for r in log.records), "a large value was echoed into the log"
    assert "x" * 2000 not in stderr, "a large value was echoed on stderr"


@pytest.mark.parametrize("kind", list(OUTSIDE))
def test_a_choice_outside_its_list_gets_one_sentence_naming_the_field(live_app, kind, capfd):
    events = [(index, inputs, position) for index, inputs in page_events(live_app)
              for position, component in enumerate(inputs)
              if component["type"] in CHOICE_KINDS and not component["props"].get("allow_custom_value")]
    # A label is a text or, from the catalogue, a translation key: named as English reads it (ui.language.shown).
    named = {shown(c["props"].get("label") or "", "en") for _, inputs, position in events for c in [inputs[position]]}
    assert {"Writer (checkpoint)", "Model"} <= named, f"expected the Write tab's writer and a model field: {named}"
    refused = set()
    with ServerLog() as log:
        for fn_index, inputs, position in events:
            data = defaults(inputs)
            data[position] = OUTSIDE[kind]
            event, output = call_event(live_app, fn_index, data)
            label = shown(inputs[position]["props"].get("label") or "", "en")
            if event == "complete":
                continue  # an event that takes its values as they come (preprocess=False) and coped with this one
            message = error_sentence(event, output)
            refused.add(label)
            assert "Something went wrong" not in message, (fn_index, label, message)
            if "choices" in message and label:
                assert label[:60] in message, (fn_index, label, message)
            assert "x" * 100 not in message, f"a large value was echoed: {message[:200]}"
            assert not leaks(output), output
    assert "Writer (checkpoint)" in refused, "the Write tab's events took a value outside the writers"
    assert_quiet(log, capfd.readouterr().err)


# A NaN that reached a picture was a RuntimeWarning ("invalid value encountered in cast") and a black digit: as
# an error here, it fails the event, which the test sees.
@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_every_page_event_answers_hostile_values_without_a_traceback(live_app, capfd):
    # Every input of every event gets one hostile value, the kinds taken in turn per type of component, so each
    # kind meets each type (of five inputs or more); the whole cross product cost the suite two minutes more.
    kinds = list(ANY_INPUT.values())
    turns = collections.Counter()
    with ServerLog() as log:
        for fn_index, inputs in page_events(live_app):
            for position in range(len(inputs)):
                data = defaults(inputs)
                data[position] = kinds[turns[inputs[position]["type"]] % len(kinds)]
                turns[inputs[position]["type"]] += 1
                event, output = call_event(live_app, fn_index, data)
                assert event in ("complete", "error"), (fn_index, position, event, str(output)[:300])
                if event == "error":
                    message = error_sentence(event, output)
                    assert "Something went wrong" not in message, (fn_index, inputs[position]["type"], message)
                    assert "x" * 100 not in message, f"a large value was echoed: {message[:200]}"
                assert not leaks(output), output
    assert_quiet(log, capfd.readouterr().err)


def test_the_gradio_internals_the_answer_relies_on_are_as_they_were():
    import inspect

    import gradio as gr

    from ui.gradio_internals import GRADIO_VERSION

    preprocess = list(inspect.signature(gr.Blocks.preprocess_data).parameters)[:4]
    call = list(inspect.signature(gr.Blocks.call_function).parameters)[:7]
    assert preprocess == ["self", "block_fn", "inputs", "state"], f"gradio {GRADIO_VERSION}: {preprocess}"
    assert call == ["self", "block_fn", "processed_input", "iterator", "requests", "event_id", "event_data"], \
        f"gradio {GRADIO_VERSION}: {call}"
