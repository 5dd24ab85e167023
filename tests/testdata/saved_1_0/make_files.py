"""Write the files in this folder: what imitation 1.0.0 saved, to test loading them.

Run from the repository root, with the library version the files should come
from: ``python tests/testdata/saved_1_0/make_files.py``. Each file holds small
nets with fixed weights; ``expected.json`` records what the loaded objects
compute on fixed inputs, which ``tests/test_saved_files.py`` compares against.
"""

from __future__ import annotations

import json
import pathlib
import tempfile

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common import vec_env
from torch import nn

from imitation.algorithms import bc, dagger
from imitation.algorithms.adversarial import gail
from imitation.policies import base as policy_base
from imitation.rewards import reward_nets
from imitation.util import networks, util

HERE = pathlib.Path(__file__).parent
OBS_SPACE = gym.spaces.Box(-1.0, 1.0, (4,), dtype=np.float32)
ACT_SPACE = gym.spaces.Discrete(2)
OBS = np.linspace(-0.9, 0.9, 12, dtype=np.float32).reshape(3, 4)
ACTS = np.array([0, 1, 1])
DONES = np.array([False, False, True])


def _policy() -> policy_base.FeedForward32Policy:
    """A policy naming imitation's classes, an activation and an optimiser."""
    policy = policy_base.FeedForward32Policy(
        OBS_SPACE,
        ACT_SPACE,
        lr_schedule=lambda _: 1e-3,
        activation_fn=nn.Tanh,
        optimizer_class=th.optim.AdamW,
        features_extractor_class=policy_base.NormalizeFeaturesExtractor,
        features_extractor_kwargs=dict(normalize_class=networks.RunningNorm),
    )
    with th.no_grad():
        for param in policy.parameters():
            param.normal_()  # weights far from SB3's initialisation
    policy.train()
    policy.features_extractor(th.as_tensor(OBS))  # running statistics move
    return policy.eval()


def _policy_outputs(policy: th.nn.Module) -> dict[str, list]:
    """Action probabilities and values on ``OBS``."""
    with th.no_grad():
        obs = th.as_tensor(OBS)
        dist = policy.get_distribution(obs)  # type: ignore[operator]
        values = policy.predict_values(obs)  # type: ignore[operator]
        return {
            "probs": dist.distribution.probs.tolist(),
            "values": values.flatten().tolist(),
        }


def _rewards(net: reward_nets.RewardNet) -> list[float]:
    return net.predict(OBS, ACTS, OBS[::-1].copy(), DONES).tolist()


def _normalized_net() -> reward_nets.RewardNet:
    net = reward_nets.NormalizedRewardNet(
        reward_nets.BasicShapedRewardNet(OBS_SPACE, ACT_SPACE),
        normalize_output_layer=networks.RunningNorm,
    )
    net.predict_processed(OBS, ACTS, OBS, DONES, update_stats=True)
    return net


def main() -> None:
    """Write the files and ``expected.json``."""
    th.manual_seed(0)
    expected: dict[str, object] = {}

    policy = _policy()
    util.save_policy(policy, HERE / "policy.pt")
    expected["policy.pt"] = _policy_outputs(policy)

    normalized = _normalized_net()
    th.save(normalized, HERE / "normalized_reward_net.pt")
    expected["normalized_reward_net.pt"] = _rewards(normalized)

    shaped = reward_nets.ShapedRewardNet(
        reward_nets.BasicRewardNet(OBS_SPACE, ACT_SPACE),
        reward_nets.ValuePotential.from_policy(policy, hwc_format=False),
        discount_factor=0.9,
    )
    th.save(shaped, HERE / "value_shaped_reward_net.pt")
    expected["value_shaped_reward_net.pt"] = _rewards(shaped)

    gail_net = gail.RewardNetFromDiscriminatorLogit(
        reward_nets.BasicRewardNet(OBS_SPACE, ACT_SPACE)
    )
    th.save(gail_net, HERE / "gail_reward_net.pt")
    expected["gail_reward_net.pt"] = _rewards(gail_net)

    venv = vec_env.DummyVecEnv([lambda: gym.make("CartPole-v1")])
    rng = np.random.default_rng(0)
    trainer = bc.BC(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        rng=rng,
        policy=_cartpole_policy(venv),
    )
    with tempfile.TemporaryDirectory() as scratch:
        dagger_trainer = dagger.DAggerTrainer(
            venv=venv,
            scratch_dir=scratch,
            rng=rng,
            beta_schedule=dagger.ExponentialBetaSchedule(0.5),
            bc_trainer=trainer,
        )
        dagger_trainer.round_num = 3
        checkpoint, _ = dagger_trainer.save_trainer()
        (HERE / "dagger_checkpoint.pt").write_bytes(checkpoint.read_bytes())
    expected["dagger_checkpoint.pt"] = {
        "round_num": 3,
        "beta": dagger_trainer.beta_schedule(3),
        "policy": _policy_outputs(dagger_trainer.policy),
    }
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


def _cartpole_policy(venv: vec_env.VecEnv) -> policy_base.FeedForward32Policy:
    policy = policy_base.FeedForward32Policy(
        venv.observation_space,
        venv.action_space,
        lr_schedule=lambda _: 1e-3,
    )
    with th.no_grad():
        for param in policy.parameters():
            param.normal_()
    return policy.eval()


if __name__ == "__main__":
    main()
