"""Every registered architecture: config validation, the forward contract, parameter counts."""

from __future__ import annotations

import pytest
import torch

import zoo
from zoo.testing import check_forward_contract


def test_forward_contract(arch: zoo.Architecture) -> None:
    check_forward_contract(arch)


def test_forward_contract_two_layers(arch: zoo.Architecture) -> None:
    check_forward_contract(arch, {"num_layers": 2, "hidden_size": 6, "input_size": 3})


def test_num_params_matches_the_built_model(arch: zoo.Architecture) -> None:
    for overrides in ({}, {"num_layers": 3, "hidden_size": 7, "output_size": 2}):
        config = arch.resolve(overrides)
        model = arch.build(**config)
        assert arch.count_params(config) == sum(p.numel() for p in model.parameters())


def test_defaults_are_the_users_example(arch: zoo.Architecture) -> None:
    assert {
        k: arch.defaults[k] for k in ("input_size", "hidden_size", "num_layers", "output_size")
    } == {
        "input_size": 10,
        "hidden_size": 20,
        "num_layers": 1,
        "output_size": 1,
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hidden": 3}, "Unknown config key 'hidden' for architecture"),
        ({"hidden_size": 0}, "must be a positive integer, got 0"),
        ({"hidden_size": 2.5}, "must be int, got 2.5"),
        ({"num_layers": True}, "must be int, got True"),
        ({"dropout": 1.0}, "must be in [0, 1)"),
        ({"dropout": "x"}, "must be float"),
    ],
)
def test_bad_config_is_a_clear_error(arch: zoo.Architecture, overrides: dict, message: str) -> None:
    with pytest.raises(zoo.ConfigError) as info:
        arch.resolve(overrides)
    assert message in str(info.value)


def test_int_dropout_is_accepted_as_float(arch: zoo.Architecture) -> None:
    assert arch.resolve({"dropout": 0})["dropout"] == 0.0


def test_bilstm_head_reads_the_backward_state_after_the_whole_sequence(
    plugins: zoo.Plugins,
) -> None:
    """The backward half of what the head reads must depend on the first time step."""
    arch = plugins.architectures["bilstm"]
    torch.manual_seed(0)
    model = arch.build(**arch.resolve()).eval()
    captured: list[torch.Tensor] = []
    model.head.register_forward_hook(lambda _m, args, _out: captured.append(args[0]))
    x = torch.randn(2, 12, 10)
    x2 = x.clone()
    x2[:, 0] += 1.0  # change only the first step
    with torch.no_grad():
        y1 = model(x)[0]
        y2 = model(x2)[0]
    hidden = model.rnn.hidden_size
    forward_half = slice(0, hidden)
    backward_half = slice(hidden, 2 * hidden)
    assert not torch.allclose(captured[0][:, backward_half], captured[1][:, backward_half])
    assert not torch.allclose(y1, y2)
    # hidden[:, -1]'s backward half has seen only the last step: it does not change.
    with torch.no_grad():
        h1, h2 = model(x)[1], model(x2)[1]
    assert torch.equal(h1[:, -1, backward_half], h2[:, -1, backward_half])
    assert not torch.equal(h1[:, -1, forward_half], h2[:, -1, forward_half])


def test_contract_check_names_a_violating_plugin(make_plugins) -> None:  # type: ignore[no-untyped-def]
    from zoo.nn._models import build_recurrent

    class Wrong(torch.nn.Module):
        def __init__(self, **config: int) -> None:
            super().__init__()
            self.inner = build_recurrent("rnn", False, **config)

        def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):  # type: ignore[no-untyped-def]
            y, hidden, h_n = self.inner(x, h0)
            return y, hidden[:, -1], h_n  # hidden must keep its seq axis

    class Plugin:
        @zoo.hookimpl
        def register_architectures(self, register) -> None:  # type: ignore[no-untyped-def]
            register(zoo.Architecture(name="wrong", build=Wrong, defaults=dict(plugins_defaults())))

    arch = make_plugins(Plugin()).architectures["wrong"]
    with pytest.raises(
        zoo.PluginError,
        match=r"Plugin 'test-plugin-0': forward of 'wrong' .* output 'hidden' has shape",
    ):
        check_forward_contract(arch)


def plugins_defaults() -> dict:
    return {"input_size": 3, "hidden_size": 4, "num_layers": 1, "output_size": 1}
