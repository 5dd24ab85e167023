"""BC and DAgger on a Dict observation space, with their default policy.

The env is seals/CartPole-v0 behind ``DictObsWrapper`` (``{"pos", "vel"}``);
expert demonstrations are the bundled expert's flat ones converted to dicts.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
import torch.utils.data as th_data
from gymnasium import spaces
from stable_baselines3.common import policies, torch_layers

from imitation.algorithms import base, bc, dagger
from imitation.data import rollout, serialize, types
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.policies.base import (
    FeedForward32Policy,
    MultiInputFeedForward32Policy,
    feed_forward_32_policy_class,
)
from imitation.policies.exploration_wrapper import ExplorationWrapper
from imitation.policies.serialize import load_policy
from imitation.testing.dict_obs import (
    FlatPolicyOnDictObs,
    dict_trajectories_from_flat,
    flat_obs_from_dict,
)
from imitation.testing.envs import DictObsWrapper, dict_obs_from_flat
from imitation.util import logger, util
from imitation.util.util import make_vec_env

ENV = "seals:seals/CartPole-v0"


def _quiet():
    return logger.configure(format_strs=[])


@pytest.fixture
def dict_venv(rng):
    venv = make_vec_env(
        ENV,
        rng=rng,
        n_envs=4,
        post_wrappers=[lambda env, _: RolloutInfoWrapper(DictObsWrapper(env))],
    )
    yield venv
    venv.close()


@pytest.fixture
def flat_venv(rng):
    venv = make_vec_env(ENV, rng=rng, n_envs=4)
    yield venv
    venv.close()


@pytest.fixture
def dict_expert(flat_venv, dict_venv):
    flat_expert = load_policy("bundled", flat_venv, env_name="seals/CartPole-v0")
    return FlatPolicyOnDictObs(flat_expert, dict_venv.observation_space)


@pytest.fixture
def dict_demos(cartpole_expert_trajectories):
    """10 expert episodes in the dict env's form."""
    return dict_trajectories_from_flat(cartpole_expert_trajectories[:10])


def _bc(venv, rng, **kwargs):
    return bc.BC(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        rng=rng,
        custom_logger=_quiet(),
        **kwargs,
    )


def _mean_return(policy, venv, n=20, seed=1):
    trajs = rollout.generate_trajectories(
        policy, venv, rollout.make_min_episodes(n), rng=np.random.default_rng(seed)
    )
    return float(np.mean([t.rews.sum() for t in trajs[:n]]))


def _obs_batch(demos, n=64):
    obs = rollout.flatten_trajectories(demos).obs[:n]
    return {k: th.as_tensor(v) for k, v in obs.items()}


def test_default_policy_class(dict_venv, flat_venv, rng):
    assert feed_forward_32_policy_class(dict_venv.observation_space) is (
        MultiInputFeedForward32Policy
    )
    assert feed_forward_32_policy_class(flat_venv.observation_space) is (
        FeedForward32Policy
    )
    policy = _bc(dict_venv, rng).policy
    assert type(policy) is MultiInputFeedForward32Policy
    assert isinstance(policy.features_extractor, torch_layers.CombinedExtractor)
    assert policy.net_arch == [32, 32]
    assert type(_bc(flat_venv, rng).policy) is FeedForward32Policy


def test_bc_learns_dict_cartpole(dict_venv, dict_demos, rng):
    """BC on 10 dict-form expert episodes: about the expert's return (500)."""
    th.manual_seed(0)
    trainer = _bc(dict_venv, rng, demonstrations=dict_demos)
    random_return = _mean_return(None, dict_venv)
    assert random_return < 100
    assert _mean_return(trainer.policy, dict_venv) < 250
    trainer.train(n_epochs=4, progress_bar=False)
    assert _mean_return(trainer.policy, dict_venv) >= 400


@pytest.mark.parametrize(
    "form", ["trajectories", "transitions", "batches", "dataloader"]
)
def test_bc_demonstration_forms(form, dict_venv, dict_demos, rng):
    flat = rollout.flatten_trajectories(dict_demos[:2])
    demos = {
        "trajectories": dict_demos[:2],
        "transitions": flat,
        "batches": [
            {"obs": flat.obs[i : i + 32].unwrap(), "acts": flat.acts[i : i + 32]}
            for i in range(0, 960, 32)
        ],
        "dataloader": base.make_data_loader(flat, 32, data_loader_kwargs={}),
    }[form]
    trainer = _bc(dict_venv, rng, demonstrations=demos)
    trainer.train(n_batches=5, progress_bar=False)


def test_bc_custom_policy_kept(dict_venv, dict_demos, rng):
    policy = policies.MultiInputActorCriticPolicy(
        dict_venv.observation_space,
        dict_venv.action_space,
        lambda _: 1e-3,
        net_arch=[8],
    )
    trainer = _bc(dict_venv, rng, policy=policy, demonstrations=dict_demos[:1])
    assert trainer.policy is policy
    trainer.train(n_batches=3, progress_bar=False)


def test_bc_save_load_round_trip(dict_venv, dict_demos, rng, tmp_path):
    trainer = _bc(dict_venv, rng, demonstrations=dict_demos[:2])
    trainer.train(n_batches=10, progress_bar=False)
    util.save_policy(trainer.policy, tmp_path / "policy.pt")
    loaded = bc.reconstruct_policy(str(tmp_path / "policy.pt"), device="cpu")
    assert type(loaded) is MultiInputFeedForward32Policy
    assert loaded.observation_space == dict_venv.observation_space
    obs = _obs_batch(dict_demos)
    with th.no_grad():
        expected = trainer.policy.get_distribution(obs).distribution.logits
        got = loaded.get_distribution(obs).distribution.logits
    th.testing.assert_close(got, expected)


def _with_obs(demos: types.TransitionsMinimal, obs) -> types.TransitionsMinimal:
    return types.TransitionsMinimal(obs=obs, acts=demos.acts, infos=demos.infos)


def _bad_observations(obs: types.DictObs) -> dict[str, tuple[dict, str]]:
    pos, vel = obs.get("pos"), obs.get("vel")
    return {
        "missing": ({"pos": pos}, "lack the key.*'vel'"),
        "extra": ({"pos": pos, "vel": vel, "acc": vel}, "key.*'acc'"),
        "renamed": ({"pos": pos, "velocity": vel}, "'vel'.*'velocity'"),
        "shape": ({"pos": pos, "vel": vel[:, :1]}, "key 'vel' have shape \\(1,\\)"),
    }


@pytest.mark.parametrize("kind", ["missing", "extra", "renamed", "shape"])
@pytest.mark.parametrize("form", ["transitions", "batches"])
def test_bad_keys_named(kind, form, dict_venv, dict_demos, rng):
    flat = rollout.flatten_trajectories(dict_demos[:1])
    bad_obs, match = _bad_observations(flat.obs)[kind]
    if form == "transitions":
        with pytest.raises(ValueError, match=match):
            _bc(dict_venv, rng, demonstrations=_with_obs(flat, types.DictObs(bad_obs)))
    else:
        trainer = _bc(
            dict_venv, rng, demonstrations=[{"obs": bad_obs, "acts": flat.acts}]
        )
        with pytest.raises(ValueError, match=match):
            trainer.train(n_batches=1, progress_bar=False)


def test_flat_demos_for_dict_space(dict_venv, cartpole_expert_trajectories, rng):
    with pytest.raises(ValueError, match="one is a dict"):
        _bc(dict_venv, rng, demonstrations=cartpole_expert_trajectories[:1])


def test_flat_policy_on_dict_obs(flat_venv, dict_venv, cartpole_expert_trajectories):
    flat_expert = load_policy("bundled", flat_venv, env_name="seals/CartPole-v0")
    adapter = FlatPolicyOnDictObs(flat_expert, dict_venv.observation_space)
    flat_obs = cartpole_expert_trajectories[0].obs.astype(np.float32)
    dict_obs = dict_obs_from_flat(flat_obs)
    np.testing.assert_array_equal(flat_obs_from_dict(dict_obs), flat_obs)
    expected, _ = flat_expert.predict(flat_obs, deterministic=True)
    got, _ = adapter.predict(dict_obs, deterministic=True)
    np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="keys"):
        FlatPolicyOnDictObs(flat_expert, spaces.Dict({"pos": spaces.Box(0, 1, (4,))}))


def test_dagger_learns_and_resumes(dict_venv, dict_expert, rng, tmp_path):
    """DAgger on the dict env: >= 400 within 4,000 steps, then resume from disk."""
    th.manual_seed(0)
    trainer = dagger.SimpleDAggerTrainer(
        venv=dict_venv,
        scratch_dir=tmp_path,
        expert_policy=dict_expert,
        bc_trainer=_bc(dict_venv, rng),
        rng=rng,
        custom_logger=_quiet(),
    )
    trainer.train(4000, bc_train_kwargs={"progress_bar": False})
    assert trainer.total_timesteps >= 4000
    assert _mean_return(trainer.policy, dict_venv) >= 400

    # The saved demonstrations keep their dict observations.
    saved = serialize.load(next((tmp_path / "demos" / "round-000").glob("*.npz")))
    assert isinstance(saved[0].obs, types.DictObs)
    assert set(saved[0].obs.keys()) == {"pos", "vel"}

    resumed = dagger.reconstruct_trainer(
        tmp_path, dict_venv, custom_logger=_quiet(), device="cpu", rng=rng
    )
    assert resumed.round_num == trainer.round_num
    assert type(resumed.policy) is MultiInputFeedForward32Policy
    obs = {k: th.as_tensor(v) for k, v in saved[0].obs[:64].items()}
    with th.no_grad():
        th.testing.assert_close(
            resumed.policy.get_distribution(obs).distribution.logits,
            trainer.policy.get_distribution(obs).distribution.logits,
        )
    collector = resumed.create_trajectory_collector()
    rollout.generate_trajectories(
        dict_expert, collector, rollout.make_min_episodes(4), rng=rng
    )
    round_num = resumed.extend_and_update(
        {"n_batches": 5, "progress_bar": False, "log_rollouts_venv": None}
    )
    assert round_num == trainer.round_num + 1


def test_dagger_expert_trajs_checked(dict_venv, dict_expert, dict_demos, rng, tmp_path):
    bad = [
        types.Trajectory(
            obs=types.DictObs({"pos": t.obs.get("pos")}),
            acts=t.acts,
            infos=None,
            terminal=t.terminal,
        )
        for t in dict_demos[:1]
    ]
    with pytest.raises(ValueError, match="'vel'"):
        dagger.SimpleDAggerTrainer(
            venv=dict_venv,
            scratch_dir=tmp_path,
            expert_policy=dict_expert,
            bc_trainer=_bc(dict_venv, rng),
            rng=rng,
            expert_trajs=bad,
            custom_logger=_quiet(),
        )
    assert not list(tmp_path.rglob("*.npz"))
    # Good dict-form expert trajectories are accepted and saved for round 0.
    trainer = dagger.SimpleDAggerTrainer(
        venv=dict_venv,
        scratch_dir=tmp_path,
        expert_policy=dict_expert,
        bc_trainer=_bc(dict_venv, rng),
        rng=rng,
        expert_trajs=dict_demos[:2],
        custom_logger=_quiet(),
    )
    assert len(list(tmp_path.rglob("*.npz"))) == 2
    trainer.extend_and_update({"n_batches": 3, "progress_bar": False})


@pytest.mark.parametrize("use_policy", [True, False])
def test_exploration_wrapper(use_policy, dict_venv, rng):
    policy = _bc(dict_venv, rng).policy if use_policy else None
    wrapper = ExplorationWrapper(
        policy, dict_venv, random_prob=0.5, switch_prob=0.5, rng=rng
    )
    trajs = rollout.generate_trajectories(
        wrapper, dict_venv, rollout.make_min_episodes(2), rng=rng
    )
    assert isinstance(trajs[0].obs, types.DictObs)


def test_data_loader_batches_are_dicts(dict_demos):
    flat = rollout.flatten_trajectories(dict_demos[:1])
    for loader in (
        base.make_data_loader(flat, 16, rng=np.random.default_rng(0)),
        base.make_data_loader(flat, 16, data_loader_kwargs={}),
    ):
        batch = next(iter(loader))
        assert set(batch["obs"]) == {"pos", "vel"}
        assert all(v.shape == (16, 2) for v in batch["obs"].values())
    assert isinstance(
        base.make_data_loader(flat, 16, data_loader_kwargs={}), th_data.DataLoader
    )


@pytest.mark.parametrize("kind", ["callable", "sb3-sampled"])
def test_dagger_any_expert_on_dict_observations(
    dict_venv, dict_expert, rng, tmp_path, kind
):
    """A callable and a sampled SB3 expert both label dict observations."""
    from stable_baselines3 import PPO

    if kind == "callable":

        def expert(obs, state, episode_start):
            return dict_expert.predict(obs, state, episode_start, deterministic=True)

        deterministic = True
    else:
        expert = PPO("MultiInputPolicy", dict_venv, seed=0, device="cpu").policy
        deterministic = False
    trainer = dagger.SimpleDAggerTrainer(
        venv=dict_venv,
        scratch_dir=tmp_path,
        expert_policy=expert,
        bc_trainer=_bc(dict_venv, rng),
        rng=rng,
        custom_logger=_quiet(),
        deterministic_expert=deterministic,
    )
    trainer.train(
        100,
        rollout_round_min_episodes=1,
        rollout_round_min_timesteps=100,
        bc_train_kwargs={"n_batches": 1, "log_rollouts_venv": None},
        progress_bar=False,
    )
    demos = [
        traj
        for path in sorted((tmp_path / "demos" / "round-000").iterdir())
        for traj in serialize.load(path)
    ]
    flat = rollout.flatten_trajectories(demos)
    assert isinstance(flat.obs, types.DictObs) and len(flat.acts) >= 100
    most_likely, _ = dict_expert.predict(flat.obs.unwrap(), deterministic=True)
    if kind == "callable":
        np.testing.assert_array_equal(flat.acts, most_likely)
    else:
        assert 0 < np.mean(flat.acts) < 1  # Sampled: both actions appear.
