"""Matrix-product precision of training steps: choice, validation, scoping, and its real effect."""

import pytest
import torch

from genmodels import VAE, VAEConfig, precision, vae_step
from genmodels.train import TrainConfig, Trainer

needs_amx = pytest.mark.skipif(not precision.cpu_has_bf16_matrix_units(), reason="this CPU has no bf16 matrix units")


def test_auto_picks_bf16_only_where_the_cpu_multiplies_bf16_natively():
    expected = "bf16" if precision.cpu_has_bf16_matrix_units() else "fp32"
    assert precision.resolve("auto", torch.device("cpu")) == expected
    assert precision.resolve("fp32", torch.device("cpu")) == "fp32"
    assert precision.resolve("auto", torch.device("cuda")) == "fp32"  # a CPU setting; CUDA keeps float32


def test_impossible_choices_get_clear_errors():
    with pytest.raises(ValueError, match="matmul_precision must be one of"):
        TrainConfig(matmul_precision="fp8")
    with pytest.raises(ValueError, match="AMX"):
        precision.resolve("bf16", torch.device("cuda"))


def test_the_setting_is_restored_even_after_an_error():
    flag = torch.backends.mkldnn.matmul
    before = flag.fp32_precision
    with pytest.raises(RuntimeError):
        with precision.matmul_precision("bf16"):
            assert flag.fp32_precision == "bf16"
            raise RuntimeError("boom")
    assert flag.fp32_precision == before
    with precision.matmul_precision("fp32"):
        assert flag.fp32_precision == "ieee"
    assert flag.fp32_precision == before


@needs_amx
def test_bf16_products_change_the_gradients_only_slightly():
    """The setting really takes effect (gradients differ from float32's) and stays close (bf16 inputs,
    float32 accumulation)."""
    torch.manual_seed(0)
    model, x = VAE(), torch.rand(128, 1, 28, 28)

    def gradients(chosen: str) -> list[torch.Tensor]:
        torch.manual_seed(3)
        with precision.matmul_precision(chosen):
            vae_step.loss_and_gradients(model, x)
        return [p.grad.clone() for p in model.parameters()]

    exact, fast = gradients("fp32"), gradients("bf16")
    errors = [((f - e).norm() / e.norm()).item() for f, e in zip(fast, exact)]
    assert max(errors) < 0.1, errors  # minibatch noise in a gradient is far larger than this
    assert max(errors) > 1e-5


@needs_amx
def test_trainer_uses_bf16_for_steps_only(digits):
    trainer = Trainer(VAE(VAEConfig(hidden_dim=32)), TrainConfig(epochs=1, device="cpu"), digits)
    assert trainer.matmul_precision == "bf16"
    seen = []
    trainer.add_callback("on_step", lambda t, info: seen.append(torch.backends.mkldnn.matmul.fp32_precision))
    before = torch.backends.mkldnn.matmul.fp32_precision
    trainer.train_epoch(0, lambda: False)
    assert set(seen) == {before}  # callbacks (and validation after the epoch) run in the usual precision
    assert torch.backends.mkldnn.matmul.fp32_precision == before


def test_the_cli_passes_the_choice_on_and_records_what_was_used(tmp_path, digits):
    from genmodels.checkpoints import read_config
    from genmodels.train import build_parser, configs_from_args

    args = build_parser().parse_args(["vae", "--out", str(tmp_path), "--matmul-precision", "fp32"])
    assert configs_from_args(args)[1].matmul_precision == "fp32"
    trainer = Trainer(VAE(VAEConfig(hidden_dim=16)), TrainConfig(epochs=1, device="cpu"), digits, out=tmp_path)
    trainer.run()
    training = read_config(tmp_path)["training"]
    assert training["matmul_precision"] == "auto"
    assert training["matmul_precision_used"] == precision.resolve("auto", torch.device("cpu"))
