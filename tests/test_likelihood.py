"""The NLL stored with writer and VAE checkpoints: one measurement (genmodels.likelihood) for trainer, bench and Write tab."""

import json
import math
from pathlib import Path

import pytest
import torch

from genmodels import VAE, RowRNN, RowRNNConfig, RowWriter, RowWriterConfig, VAEConfig, likelihood
from genmodels.checkpoints import CONFIG_FILE, read_config
from genmodels.registry import CHECKPOINTS_DIR
from genmodels.train import TrainConfig, build_trainer

TINY_WRITER = RowWriterConfig(hidden_size=16, head_size=32, embed_dim=4)
TINY_VAE = VAEConfig(hidden_size=32)


def tiny(model_cls, config, seed=0):
    torch.manual_seed(seed)
    return model_cls(config).eval()


def test_binarized_validation_is_one_fixed_draw_of_the_validation_digits(digits):
    x = likelihood.binarized_validation(digits)
    assert x.shape == (500, 1, 28, 28) and ((x == 0) | (x == 1)).all()
    assert torch.equal(x, likelihood.binarized_validation(digits))
    ink, grey = x.mean().item(), (digits.val_x.float() / 255).mean().item()
    assert abs(ink - grey) < 0.01  # each pixel is on with probability equal to its grey level


def test_a_writer_is_measured_exactly_with_and_without_the_class(digits):
    writer = tiny(RowWriter, TINY_WRITER)
    record = likelihood.measure(writer, digits)
    x = likelihood.binarized_validation(digits)
    with torch.no_grad():
        assert record["nats"] == pytest.approx(-writer.log_prob(x).mean().item(), rel=1e-5)
        assert record["given_class"] == pytest.approx(-writer.log_prob(x, digits.val_y).mean().item(), rel=1e-5)
    assert record["bound"] == "exact" and "k" not in record
    assert {key: record[key] for key in ("dataset", "split", "digits", "binarize_seed")} == {
        "dataset": "mnist-5k", "split": "validation", "digits": 500, "binarize_seed": likelihood.BINARIZE_SEED}
    assert likelihood.stored({likelihood.NLL_KEY: record}) == record


def test_a_vae_bound_measured_in_pieces_is_the_bound_of_one_call(digits):
    vae = tiny(VAE, TINY_VAE)
    record = likelihood.measure(vae, digits, k=20)
    whole = -vae.iwae_bound(likelihood.binarized_validation(digits), k=20,
                            generator=torch.Generator().manual_seed(likelihood.NOISE_SEED)).mean().item()
    assert record["nats"] == pytest.approx(whole, rel=1e-5)
    assert record["bound"] == "iwae" and record["k"] == 20 and "given_class" not in record
    assert likelihood.same_digits(record, likelihood.measure(tiny(RowWriter, TINY_WRITER), digits))


def test_models_without_a_likelihood_of_binary_digits_are_not_measured(digits):
    assert likelihood.measure(tiny(RowRNN, RowRNNConfig(hidden_size=8)), digits) is None
    assert likelihood.measure(tiny(VAE, VAEConfig(hidden_size=8, likelihood="gaussian")), digits) is None


def test_a_stop_request_ends_the_measurement_between_pieces(digits):
    asked = []

    def stop_after_two():
        asked.append(1)
        return len(asked) > 2

    assert likelihood.measure(tiny(VAE, TINY_VAE), digits, should_stop=stop_after_two, k=5) is None
    assert len(asked) == 3  # two pieces measured, then it stopped


@pytest.mark.parametrize("broken", [
    None, "88", [], {}, {"nats": "88", "bound": "exact", "given_class": 80.0, "dataset": "mnist-5k", "digits": 500},
    {"nats": math.nan, "bound": "iwae", "k": 1000, "dataset": "mnist-5k", "digits": 500},
    {"nats": 97.0, "bound": "iwae", "dataset": "mnist-5k", "digits": 500},  # no k
    {"nats": 97.0, "bound": "iwae", "k": True, "dataset": "mnist-5k", "digits": 500},
    {"nats": 88.0, "bound": "exact", "dataset": "mnist-5k", "digits": 500},  # no given_class
    {"nats": 88.0, "given_class": 83.0, "bound": "guess", "dataset": "mnist-5k", "digits": 500},
    {"nats": -1.0, "given_class": 83.0, "bound": "exact", "dataset": "mnist-5k", "digits": 500},
    {"nats": 88.0, "given_class": 83.0, "bound": "exact", "dataset": ["x"], "digits": 500},
    {"nats": 88.0, "given_class": 83.0, "bound": "exact", "dataset": "mnist-5k", "digits": 0},
])
def test_a_malformed_record_reads_as_not_measured(broken):
    assert likelihood.stored({likelihood.NLL_KEY: broken}) is None


def test_storing_a_record_keeps_the_checkpoint_loadable(tmp_path, digits):
    folder = tmp_path / "writer"
    writer = tiny(RowWriter, TINY_WRITER)
    writer.save_pretrained(folder, metadata={"dataset": "mnist-5k"})
    record = likelihood.measure(writer, digits)
    likelihood.store(folder, record)
    config = read_config(folder)
    assert likelihood.stored(config) == record and config["dataset"] == "mnist-5k"
    again = RowWriter.from_pretrained(folder, device="cpu")  # the tensor digests still match
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(), writer.state_dict().values()))


def test_a_run_stores_the_measurement_of_its_best_model_after_the_last_epoch(digits, tmp_path):
    out = tmp_path / "run"
    trainer = build_trainer("writer", TINY_WRITER, TrainConfig(epochs=2, batch_size=500, device="cpu"), out=out,
                            data=digits)
    after_epoch = []
    trainer.add_callback("on_epoch_end", lambda t, m: after_epoch.append(likelihood.stored(read_config(out))))
    result = trainer.run()
    assert after_epoch[0] is None and after_epoch[1] == result.nll  # measured once, at the end
    assert result.nll == likelihood.measure(result.model, digits) | {"seconds": result.nll["seconds"]}
    # A resumed run measures its new best model again.
    more = build_trainer("writer", TINY_WRITER, TrainConfig(epochs=1, batch_size=500, lr=3e-3, device="cpu"),
                         out=out, resume=True, data=digits)
    resumed = more.run()
    assert resumed.best_epoch == 3 and likelihood.stored(read_config(out)) == resumed.nll
    assert resumed.nll["nats"] < result.nll["nats"]


def test_a_stop_during_the_measurement_saves_the_run_without_it(digits, tmp_path):
    out = tmp_path / "run"
    trainer = build_trainer("vae", TINY_VAE, TrainConfig(epochs=1, batch_size=4096, device="cpu"), out=out,
                            data=digits, save_training_state=False)
    # True once the last epoch has trained: the next question is the measurement's first.
    result = trainer.run(should_stop=lambda: trainer.start_epoch == trainer.total_epochs)
    assert result.stopped and result.nll is None
    config = read_config(out)
    assert config["epochs_trained"] == 1 and likelihood.NLL_KEY not in config


def test_rnn_runs_store_no_measurement(digits, tmp_path):
    trainer = build_trainer("rnn", RowRNNConfig(hidden_size=8), TrainConfig(epochs=1, batch_size=4096, device="cpu"),
                            out=tmp_path / "rnn", data=digits, save_training_state=False)
    assert trainer.run().nll is None and likelihood.NLL_KEY not in read_config(tmp_path / "rnn")


def test_the_shipped_writer_and_vae_carry_their_measurement_on_the_same_digits(digits):
    writer_config = read_config(CHECKPOINTS_DIR / "writer-mnist")
    writer, vae = likelihood.stored(writer_config), likelihood.stored(read_config(CHECKPOINTS_DIR / "vae-mnist"))
    assert writer is not None and vae is not None and likelihood.same_digits(writer, vae)
    assert vae["k"] == likelihood.IWAE_K and writer["nats"] < vae["nats"]
    # The writer's is quick to measure again: the stored record is what the measurement gives.
    again = likelihood.measure(RowWriter.from_pretrained(CHECKPOINTS_DIR / "writer-mnist", device="cpu"), digits)
    assert again["nats"] == pytest.approx(writer["nats"], rel=1e-6)
    assert again["given_class"] == pytest.approx(writer["given_class"], rel=1e-6)


def test_the_readme_quotes_the_stored_figures():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    writer = json.loads((CHECKPOINTS_DIR / "writer-mnist" / CONFIG_FILE).read_text())[likelihood.NLL_KEY]
    vae = json.loads((CHECKPOINTS_DIR / "vae-mnist" / CONFIG_FILE).read_text())[likelihood.NLL_KEY]
    for figure in (writer["nats"], writer["given_class"], vae["nats"]):
        assert f"{figure:.2f}" in readme

