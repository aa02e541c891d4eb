"""Issue 26 for the Train tab, jobs/ and the genmodels files they use: no user-visible literal bypasses the catalogue,
and every text they look up by a computed key (a setting, a status, a class, an experiment) is in it."""

import ast
from pathlib import Path

import pytest

import i18n
from genmodels.data import DATASETS
from genmodels.settings import specs
from genmodels.train import MODEL_TYPES, TrainConfig
from jobs.records import ACTIVE, FINISHED
from jobs.settings import MODEL_KEYS, form_fields
from ui.train.experiments import EXPERIMENTS

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted([*ROOT.glob("jobs/*.py"), *ROOT.glob("ui/train/*.py"),
                *(ROOT / "genmodels" / f"{name}.py" for name in ("train", "settings", "checkpoints", "registry", "data",
                                                               "trainable", "augment", "files"))])
# Errors that never reach a person: a helper's protocol line and a cluster's checkpoint copy, each caught
# and replaced by a sentence of the catalogue where it could surface.
INTERNAL = {("jobs/messages.py", "not a job line"), ("jobs/mirror.py", "a checkpoint without config.json"),
            ("jobs/mirror.py", "a checkpoint file with an unexpected name"),
            ("jobs/mirror.py", "a checkpoint far larger than any this app writes")}
# Keyword arguments of Gradio components that a visitor reads.
SHOWN = {"label", "info", "placeholder"}
SHOWN_FIRST = {"Markdown", "Button", "Info", "Warning", "Accordion", "Tab"}  # whose first argument is read


def literal(node) -> str | None:
    """Return the text of a string literal or an f-string (its constant parts), None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return None


def literals_shown(path: Path) -> list[str]:
    """Return the sentences `path` shows a person without the catalogue: raised as errors, or given to Gradio."""
    relative = path.relative_to(ROOT).as_posix()
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name in ("ValueError", "RefusedFile", "Sentence") and node.args:
            text = literal(node.args[0])
            keyed = text in i18n.catalogue(i18n.DEFAULT)  # a RefusedFile is a Sentence: its first argument a key
            if name != "Sentence" and text is not None and not keyed and (relative, text) not in INTERNAL:
                found.append(f"{relative}:{node.lineno} {name}({text[:50]!r})")
        if name in SHOWN_FIRST and node.args and literal(node.args[0]):
            found.append(f"{relative}:{node.lineno} {name}({literal(node.args[0])[:50]!r})")
        for keyword in node.keywords:
            if keyword.arg in SHOWN and literal(keyword.value):
                found.append(f"{relative}:{node.lineno} {keyword.arg}={literal(keyword.value)[:50]!r}")
    return found


def test_no_sentence_bypasses_the_catalogue():
    found = [hit for path in FILES for hit in literals_shown(path)]
    assert found == [], "\n".join(found)


def test_every_sentence_key_in_these_files_is_in_the_catalogue():
    """A key spelled out (i18n.text("train.x"), Sentence("jobs.y"), Text(...), words(...)) exists in English."""
    english = i18n.catalogue("en")
    missing = []
    for path in FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args:
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                key = node.args[0].value if isinstance(node.args[0], ast.Constant) else None
                if name in ("text", "Sentence", "Text", "words", "TrainingDiverged", "RefusedFile") \
                        and isinstance(key, str) and "." in key and key not in english:
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {key}")
    assert missing == [], missing


def test_every_setting_the_form_shows_has_its_label_and_help_in_both_languages():
    for config_class in [TrainConfig, *(model.config_class for model in MODEL_TYPES.values())]:
        for described in specs(config_class).values():
            assert described.label_key and described.help_key, (config_class.__name__, described.name)
            for language in i18n.LANGUAGES:
                assert i18n.text(described.label_key, language) and i18n.text(described.help_key, language)
    for model_type in MODEL_KEYS:
        for described in form_fields(model_type).values():
            assert str(described.label_text) == described.spec.label  # English as declared
            with i18n.speaking("zh-CN"):
                assert str(described.label_text) != described.spec.label or described.spec.label == "Beta"


@pytest.mark.parametrize("name", list(DATASETS))
def test_every_class_of_every_data_set_has_a_name_in_each_language(name):
    info = DATASETS[name]
    for index, declared in enumerate(info.class_names):
        assert info.class_label(index, "en") == declared
        assert info.class_label(index, "zh-CN")


def test_computed_keys_exist():
    """Keys built from a status, an experiment or a model type are in the catalogue."""
    english = i18n.catalogue("en")
    for status in (*ACTIVE, *FINISHED):
        assert f"jobs.status.{status}" in english and f"train.status.{status}" in english
    for key, experiment in EXPERIMENTS.items():
        assert f"train.experiment.{key}" in english and f"train.experiment.{key}.name" in english
    for model_type in MODEL_KEYS:
        assert f"train.axis.{model_type}" in english and f"train.note.{model_type}" in english
