"""The Train tab, jobs/ and the genmodels files they use look texts up by computed keys (a setting, a status, a class,
an experiment): every such key is in the catalogue. (Literals and spelled-out keys: tests/test_no_literal_words.py.)"""

import pytest

import i18n
from genmodels.data import DATASETS
from genmodels.settings import specs
from genmodels.train import MODEL_TYPES, TrainConfig
from jobs.records import ACTIVE, FINISHED
from jobs.settings import MODEL_KEYS, form_fields
from ui.train.experiments import EXPERIMENTS


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
        assert f"train.model_name.{model_type}" in english
        for figure in MODEL_TYPES[model_type].validation_figures:  # a job's headline figure and the comparison's columns
            assert f"train.figure.{figure.key}" in english
