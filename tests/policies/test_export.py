"""ONNX and TorchScript export of policies and reward nets."""

from __future__ import annotations

import pathlib
import re

import gymnasium as gym
import numpy as np
import onnx
import pytest
import torch as th
from stable_baselines3 import SAC

from imitation.policies import export
from imitation.policies.base import (
    FeedForward32Policy,
    MultiInputFeedForward32Policy,
    ZeroPolicy,
)
from imitation.rewards import reward_nets
from imitation.util import networks

DOC = pathlib.Path(__file__).parents[2] / "docs" / "formats.md"
BOX4 = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
DICT_OBS = gym.spaces.Dict(
    {
        "pos": gym.spaces.Box(-1.0, 1.0, (2,), np.float32),
        "mode": gym.spaces.Discrete(3),
    }
)


def _run(module, arrays):
    """The module's outputs, in evaluation mode, as the exported graph computes."""
    with networks.predicting(module):
        return module(*(th.as_tensor(a) for a in arrays)).numpy()


def _policy(obs_space, act_space):
    cls = (
        MultiInputFeedForward32Policy
        if isinstance(obs_space, gym.spaces.Dict)
        else FeedForward32Policy
    )
    th.manual_seed(0)
    return cls(obs_space, act_space, lambda _: 1e-3)


@pytest.mark.parametrize(
    ("obs_space", "act_space"),
    [
        (BOX4, gym.spaces.Discrete(3)),
        (BOX4, gym.spaces.Box(-0.5, 0.5, (2,), np.float32)),
        (DICT_OBS, gym.spaces.Discrete(2)),
    ],
    ids=["discrete", "box", "dict-obs"],
)
def test_policy_export_matches_predict(obs_space, act_space, tmp_path):
    policy = _policy(obs_space, act_space)
    path = tmp_path / "policy.onnx"
    module = export.export_onnx(policy, path)
    assert export.check_onnx(policy, path) <= 1e-5
    model = onnx.load(str(path))
    assert [i.name for i in model.graph.input] == export.input_names(module)
    # The exported module acts as policy.predict(deterministic=True) does.
    inputs = export.random_inputs(module, 32, seed=3)
    obs = inputs if isinstance(obs_space, gym.spaces.Dict) else inputs["obs"]
    if isinstance(obs, dict):
        obs = {k.removeprefix("obs."): v for k, v in obs.items()}
    expected, _ = policy.predict(obs, deterministic=True)
    got = _run(module, inputs.values())
    np.testing.assert_allclose(got, expected, atol=1e-6)
    if isinstance(act_space, gym.spaces.Discrete):
        assert got.dtype == np.int64 and got.shape == (32,)
    else:
        assert got.min() >= -0.5 and got.max() <= 0.5  # Clipped, as predict does.
        # A file that no longer matches the policy is caught.
        with th.no_grad():
            policy.action_net.weight.mul_(-1.0)
        with pytest.raises(export.ExportMismatchError, match="differs from PyTorch"):
            export.check_onnx(policy, path)


def test_squashed_sac_policy_is_unscaled(tmp_path):
    env = gym.make("Pendulum-v1")
    sac = SAC("MlpPolicy", env, policy_kwargs=dict(net_arch=[16]), seed=0)
    path = tmp_path / "sac.onnx"
    module = export.export_onnx(sac, path)
    assert export.check_onnx(sac, path) <= 1e-5
    obs = export.random_inputs(module, 16)["obs"]
    got = _run(module, [obs])
    np.testing.assert_allclose(got, sac.predict(obs, deterministic=True)[0], atol=1e-5)


def _transitions(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(n, 4)).astype(np.float32),
        rng.integers(0, 3, size=n),
        rng.normal(size=(n, 4)).astype(np.float32),
        rng.integers(0, 2, size=n).astype(bool),
    )


def test_normalized_shaped_reward_net_export(tmp_path):
    th.manual_seed(0)
    base = reward_nets.BasicShapedRewardNet(
        BOX4, gym.spaces.Discrete(3), normalize_input_layer=networks.RunningNorm
    )
    net = reward_nets.NormalizedRewardNet(base, networks.RunningNorm)
    for seed in range(3):  # Give the normalisers non-trivial statistics.
        net.predict_processed(*_transitions(seed=seed))
        with networks.training(base):
            base(*base.preprocess(*_transitions(seed=seed)))
    stats = {k: v.clone() for k, v in net.state_dict().items()}
    training = [m.training for m in net.modules()]
    path = tmp_path / "reward.onnx"
    module = export.export_onnx(net, path)
    assert export.check_onnx(net, path) <= 1e-5
    assert export.input_names(module) == ["state", "action", "next_state", "done"]
    # Exporting and checking leave the statistics and training modes alone.
    assert all(th.equal(v, stats[k]) for k, v in net.state_dict().items())
    assert [m.training for m in net.modules()] == training
    batch = _transitions(seed=7)
    got = _run(module, batch)
    expected = net.predict_processed(*batch, update_stats=False)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    # processed=False exports the reward before normalisation.
    raw = export.as_module(net, processed=False)
    got_raw = _run(raw, batch)
    np.testing.assert_allclose(got_raw, net.predict(*batch), atol=1e-5)


def test_dict_obs_reward_net_and_torchscript(tmp_path):
    net = reward_nets.BasicRewardNet(DICT_OBS, gym.spaces.Box(-1, 1, (2,)))
    path = tmp_path / "reward.onnx"
    module = export.export_onnx(net, path)
    assert export.input_names(module) == [
        "state.mode",
        "state.pos",
        "action",
        "next_state.mode",
        "next_state.pos",
        "done",
    ]
    assert export.check_onnx(net, path) <= 1e-5
    export.export_torchscript(net, tmp_path / "reward.pt")
    assert export.check_torchscript(net, tmp_path / "reward.pt") <= 1e-5


def test_policy_torchscript(tmp_path):
    policy = _policy(BOX4, gym.spaces.Discrete(3))
    export.export_torchscript(policy, tmp_path / "policy.pt")
    assert export.check_torchscript(policy, tmp_path / "policy.pt") == 0.0


class _CumMaxPotential(reward_nets.RewardNet):
    """A reward net using cummax, which has no ONNX translation."""

    def __init__(self) -> None:
        super().__init__(BOX4, gym.spaces.Discrete(3))
        self.mlp = th.nn.Linear(4, 4)

    def forward(self, state, action, next_state, done):
        return th.cummax(self.mlp(state), dim=1).values[:, -1]


def test_unsupported_op_names_op_module_and_fix(tmp_path):
    with pytest.raises(export.ExportError) as info:
        export.export_onnx(_CumMaxPotential(), tmp_path / "bad.onnx")
    message = str(info.value)
    assert "aten.cummax" in message
    assert "_CumMaxPotential" in message
    assert "export_torchscript" in message
    assert not (tmp_path / "bad.onnx").exists()
    # TorchScript covers it.
    export.export_torchscript(_CumMaxPotential(), tmp_path / "ok.pt")


def test_unexportable_models_are_refused_and_ensembles_graphed(tmp_path):
    with pytest.raises(export.ExportError, match="no graph to export"):
        export.export_onnx(
            ZeroPolicy(BOX4, gym.spaces.Discrete(2)), tmp_path / "z.onnx"
        )
    members = [
        reward_nets.BasicRewardNet(BOX4, gym.spaces.Discrete(3)) for _ in range(2)
    ]
    ensemble = reward_nets.RewardEnsemble(BOX4, gym.spaces.Discrete(3), members)
    wrapped = reward_nets.AddSTDRewardWrapper(ensemble, default_alpha=-0.5)
    batch = _transitions()
    module = export.as_module(wrapped)
    got = _run(module, batch)
    np.testing.assert_allclose(got, wrapped.predict_processed(*batch), atol=1e-5)
    with pytest.raises(TypeError, match="RewardNet"):
        export.export_onnx(th.nn.Linear(2, 2), tmp_path / "lin.onnx")  # type: ignore[arg-type]


def test_docs_python_block_runs(tmp_path, monkeypatch):
    """The export section's Python block of docs/formats.md, as written."""
    section = DOC.read_text().split("## ONNX and TorchScript export")[1]
    (block,) = re.findall(r"```python\n(.*?)```", section.split("\n## ")[0], re.DOTALL)
    monkeypatch.chdir(tmp_path)
    exec(compile(block, str(DOC), "exec"), {"__name__": "__doc_snippet__"})
    assert (tmp_path / "policy.onnx").is_file()
