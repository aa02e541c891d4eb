"""Ready-made class experiments: each fills the launch form with one lesson's settings (data, not code).

A teacher says "everyone, pick the β sweep" and each student's form gets the experiment's model
and settings; a setting that `varies` takes one of its values by the student's seed (drawn per page,
so a class spreads over them), and the run is named after what it tries, so the class's runs line
up in "Compare runs". Every key and value is a public setting of jobs.settings (the form's own).

    settings_for("beta_sweep", seed=17)   -> {"model": "vae", "beta": 4.0, ...}
    settings_for("vae_or_ae", seed=3)     -> {"model": "ae", ...}    (the model itself may be what varies)
"""

from dataclasses import dataclass, field

import i18n

from .views import model_label


@dataclass(frozen=True)
class Experiment:
    """One experiment: the model it trains, the settings it fixes, and at most one setting each student varies."""

    model: str  # the model it trains (the first of the class's, when the model is what varies)
    fixed: dict = field(default_factory=dict)  # public setting key -> value
    varies: tuple[str, tuple] | None = None  # (public setting key, the values the class spreads over)


EXPERIMENTS = {
    # β-VAE (Higgins et al., 2017): a larger β trades reconstruction for a smoother, more disentangled latent space.
    "beta_sweep": Experiment("vae", varies=("beta", (0.25, 0.5, 1.0, 2.0, 4.0, 8.0))),
    # Two latent dimensions: the explorer's map is then the latent space itself, with no projection.
    "latent_2d": Experiment("vae", fixed={"latent_dim": 2}),
    # The same reader with an Elman, a GRU and an LSTM cell.
    "rnn_cells": Experiment("rnn", varies=("cell", ("rnn", "gru", "lstm"))),
    # The same network and settings with and without the KL term (Kingma & Welling, 2013): a VAE or a plain
    # autoencoder by the student's seed; the class then compares their prior samples in "Compare runs".
    "vae_or_ae": Experiment("vae", fixed={"latent_dim": 20, "hidden_size": 400, "beta": 1.0, "kl_warmup": 0},
                            varies=("model", ("vae", "ae"))),
}


def experiment_choices() -> list[tuple[str, str]]:
    """Return the experiments as (name in the current language, key) choices."""
    return [(i18n.text(f"train.experiment.{key}"), key) for key in EXPERIMENTS]


def settings_for(key: str, seed: int) -> dict:
    """Return the public settings an experiment gives a student with `seed`: its model, fixed and varied
    settings, and a run name saying what it tries (in the current language); ValueError for an unknown key."""
    experiment = EXPERIMENTS.get(key) if isinstance(key, str) else None
    if experiment is None:
        raise i18n.Sentence("train.experiment.unknown")
    settings = {"model": experiment.model, **experiment.fixed}
    params = {}
    if experiment.varies is not None:
        setting, values = experiment.varies
        value = values[int(seed) % len(values)]
        settings[setting] = value
        params = {"value": model_label(value) if setting == "model" else value}
    settings["name"] = i18n.text(f"train.experiment.{key}.name", **params)
    return settings

