"""One definition of every training setting: the CLI, the API checks and the configs agree because they are built
from the same declarations (genmodels.settings); the Train form's own test is in the Train tab's tests."""

from dataclasses import replace

import pytest

from genmodels import AutoencoderConfig, settings
from genmodels.models import MODEL_TYPES
from genmodels.train import TrainConfig, build_parser, configs_from_args, main
from jobs.settings import JOB_NLL_SAMPLES, MODEL_KEYS, TRAIN_KEYS, configs_from_settings, form_fields


def public_numbers():
    """(model type, public key, Described) for every numeric setting the API accepts."""
    for model_type in MODEL_KEYS:
        for key, described in form_fields(model_type).items():
            if described.kind in ("int", "float"):
                yield model_type, key, described


@pytest.mark.parametrize("model_type", sorted(MODEL_TYPES))
def test_cli_defaults_are_the_config_defaults(model_type):
    args = build_parser().parse_args([model_type, "--out", "x"])
    model_config, train_config = configs_from_args(args)
    assert model_config == MODEL_TYPES[model_type].config_class()
    assert train_config == TrainConfig()


@pytest.mark.parametrize("model_type", sorted(MODEL_KEYS))
def test_api_defaults_are_the_config_defaults(model_type):
    _, model_config, train_config = configs_from_settings({"model": model_type}, max_epochs=1000)
    assert model_config == MODEL_TYPES[model_type].config_class()
    # One deliberate difference: a Train-tab run measures its NLL bound with fewer samples (jobs/settings.py).
    assert train_config == replace(TrainConfig(), nll_samples=JOB_NLL_SAMPLES)


@pytest.mark.parametrize("model_type, key, described", list(public_numbers()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_out_of_range_values_get_the_same_sentence_from_cli_and_api(model_type, key, described, tmp_path, capsys):
    spec = described.spec
    too_big = spec.high * 2 + 1 if described.kind == "float" else int(spec.high) * 2 + 1
    with pytest.raises(ValueError) as from_api:
        configs_from_settings({"model": model_type, key: too_big}, max_epochs=10**9)
    flag = spec.flag or "--" + described.name.replace("_", "-")
    assert main([model_type, "--out", str(tmp_path / "x"), flag, str(too_big)]) == 2
    from_cli = capsys.readouterr().err.strip()
    assert from_cli == f"error: {from_api.value}"
    assert str(from_api.value).startswith(f"{spec.label} must be between")


def test_every_public_key_names_a_declared_setting():
    for model_type, keys in MODEL_KEYS.items():
        declared = settings.specs(MODEL_TYPES[model_type].config_class)
        assert set(keys.values()) <= set(declared)
    assert set(TRAIN_KEYS) <= set(settings.specs(TrainConfig))


@pytest.mark.parametrize("value, message", [
    ("abc", "Learning rate must be a number"), (float("nan"), "Learning rate must be a number"),
    ([1e-3], "Learning rate must be a number"), (True, "Learning rate must be true or false|must be a number"),
    ("1e-3", None), (" 0.002 ", None),
])
def test_parse_reads_form_and_json_values(value, message):
    described = settings.specs(TrainConfig)["lr"]
    if message is None:
        assert settings.parse(described, value) == float(value)
    else:
        with pytest.raises(ValueError, match=message):
            settings.parse(described, value)


def test_the_autoencoder_trains_with_its_own_sizes_and_no_kl_settings():
    """Issue 25: the plain autoencoder in the Train form and /train: latent and hidden size, declared on its config,
    and neither beta nor the KL warm-up (it has no KL term); a VAE's keys sent with it are ignored."""
    fields = form_fields("ae")
    assert list(fields) == [*TRAIN_KEYS, "latent_dim", "hidden_size"]
    declared = settings.specs(AutoencoderConfig)
    assert fields["latent_dim"] == declared["latent_dim"] and fields["hidden_size"] == declared["hidden_size"]
    assert (fields["latent_dim"].default, fields["hidden_size"].default) == (20, 400)  # the VAE's: the two compare
    kind, model_config, _ = configs_from_settings({"model": "ae", "latent_dim": 8, "hidden_size": 64, "beta": 4.0,
                                                   "kl_warmup": 3}, max_epochs=10)
    assert kind == "ae" and model_config == AutoencoderConfig(latent_dim=8, hidden_size=64)
    with pytest.raises(ValueError, match="Latent size must be between 1 and 64, got 65"):
        configs_from_settings({"model": "ae", "latent_dim": 65}, max_epochs=10)
