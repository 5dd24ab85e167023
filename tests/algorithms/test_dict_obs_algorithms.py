"""GAIL, AIRL, preference comparisons and density rewards on dict observations."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO

from imitation.algorithms import density as db
from imitation.algorithms import preference_comparisons as pc
from imitation.algorithms.adversarial.airl import AIRL
from imitation.algorithms.adversarial.gail import GAIL
from imitation.data import rollout, types
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.rewards import serialize
from imitation.rewards.reward_nets import BasicRewardNet, BasicShapedRewardNet
from imitation.testing.envs import DictObsWrapper, dict_obs_from_flat
from imitation.util import logger
from imitation.util.networks import RunningNorm
from imitation.util.util import make_vec_env


@pytest.fixture
def dict_venv(rng):
    """Four seals/CartPole-v0 envs with ``{"pos", "vel"}`` dict observations."""
    venv = make_vec_env(
        "seals:seals/CartPole-v0",
        rng=rng,
        n_envs=4,
        post_wrappers=[lambda env, _: RolloutInfoWrapper(DictObsWrapper(env))],
    )
    yield venv
    venv.close()


def _to_dict(trajs):
    return [
        dataclasses.replace(t, obs=types.DictObs(dict_obs_from_flat(t.obs)))
        for t in trajs
    ]


@pytest.fixture(scope="module")
def dict_expert_trajectories(expert_cache):
    from imitation.testing.expert_trajectories import (
        lazy_generate_expert_trajectories,
    )

    flat = lazy_generate_expert_trajectories(
        expert_cache, "seals/CartPole-v0", 50, np.random.default_rng(0)
    )
    return _to_dict(flat[:10])


def test_rollouts_record_dict_observations(dict_venv, rng):
    trajs = rollout.generate_trajectories(
        None, dict_venv, rollout.make_min_episodes(2), rng=rng
    )
    for traj in trajs:
        assert isinstance(traj.obs, types.DictObs)
        assert set(traj.obs.keys()) == {"pos", "vel"}
        assert len(traj.obs) == len(traj) + 1
    flat = rollout.flatten_trajectories(trajs)
    assert isinstance(flat.obs, types.DictObs)
    assert isinstance(flat.next_obs, types.DictObs)
    # next_obs is obs shifted by one within each episode.
    np.testing.assert_array_equal(
        flat.next_obs.get("pos")[: len(trajs[0]) - 1],
        flat.obs.get("pos")[1 : len(trajs[0])],
    )


@pytest.mark.parametrize(
    ("cls", "net_cls"), [(GAIL, BasicRewardNet), (AIRL, BasicShapedRewardNet)]
)
def test_adversarial_trains_on_dict_obs(
    cls, net_cls, dict_venv, dict_expert_trajectories, tmp_path
):
    learner = PPO(
        "MultiInputPolicy",
        dict_venv,
        n_steps=64,
        batch_size=64,
        n_epochs=1,
        device="cpu",
        seed=0,
    )
    net = net_cls(
        dict_venv.observation_space,
        dict_venv.action_space,
        normalize_input_layer=RunningNorm,
    )
    trainer = cls(
        demonstrations=dict_expert_trajectories,
        demo_batch_size=128,
        venv=dict_venv,
        gen_algo=learner,
        reward_net=net,
        custom_logger=logger.configure(format_strs=[]),
    )
    before = [p.detach().clone() for p in net.parameters()]
    trainer.train(2 * trainer.gen_train_timesteps)
    assert any(not th.equal(a, b) for a, b in zip(before, net.parameters()))
    # The learned reward saves and loads as a reward function for the dict env.
    th.save(trainer.reward_test, tmp_path / "reward.pt")
    reward_fn = serialize.load_reward(
        "RewardNet_unnormalized", tmp_path / "reward.pt", dict_venv
    )
    flat = rollout.flatten_trajectories(dict_expert_trajectories[:1])
    rews = reward_fn(flat.obs.unwrap(), flat.acts, flat.next_obs.unwrap(), flat.dones)
    assert rews.shape == (len(flat),) and np.isfinite(rews).all()


def test_preference_comparisons_on_dict_obs(dict_venv, rng, tmp_path):
    net = BasicRewardNet(
        dict_venv.observation_space,
        dict_venv.action_space,
        normalize_input_layer=RunningNorm,
    )
    agent = PPO(
        "MultiInputPolicy",
        dict_venv,
        n_steps=64,
        batch_size=64,
        n_epochs=1,
        device="cpu",
        seed=0,
    )
    generator = pc.AgentTrainer(
        algorithm=agent,
        reward_fn=net,
        venv=dict_venv,
        exploration_frac=0.25,
        rng=rng,
    )
    trainer = pc.PreferenceComparisons(
        generator,
        net,
        num_iterations=2,
        fragmenter=pc.RandomFragmenter(warning_threshold=0, rng=rng),
        preference_gatherer=pc.SyntheticGatherer(rng=rng),
        reward_trainer=pc.BasicRewardTrainer(
            preference_model=pc.PreferenceModel(net),
            loss=pc.CrossEntropyRewardLoss(),
            epochs=1,
            rng=rng,
        ),
        fragment_length=20,
        initial_epoch_multiplier=2,
        custom_logger=logger.configure(format_strs=[]),
    )
    result = trainer.train(total_timesteps=512, total_comparisons=20)
    assert np.isfinite(result["reward_loss"])
    dataset = trainer.dataset
    (frag, _), _ = dataset[0]
    assert isinstance(frag.obs, types.DictObs)
    assert len(frag.obs) == 21
    dataset.save(tmp_path / "prefs")
    loaded = pc.PreferenceDataset.load(tmp_path / "prefs")
    assert len(loaded) == len(dataset)
    np.testing.assert_array_equal(loaded.preferences, dataset.preferences)
    for i in range(len(dataset)):
        (a, b), _ = loaded[i]
        (a0, b0), _ = dataset[i]
        assert isinstance(a.obs, types.DictObs)
        # Infos are not saved.
        assert a == a0.without_infos() and b == b0.without_infos()


def test_fragmenter_cuts_dict_trajectories(dict_expert_trajectories, rng):
    with_rews = [
        types.TrajectoryWithRew(
            obs=t.obs, acts=t.acts, infos=t.infos, terminal=t.terminal, rews=t.rews
        )
        for t in dict_expert_trajectories
    ]
    pairs = pc.RandomFragmenter(rng=rng)(with_rews, fragment_length=15, num_pairs=4)
    assert len(pairs) == 4
    for pair in pairs:
        for frag in pair:
            assert isinstance(frag.obs, types.DictObs)
            assert len(frag) == 15 and len(frag.obs) == 16


@pytest.mark.parametrize("density_type", list(db.DensityType))
def test_density_ranks_expert_above_random_on_dict_obs(
    density_type, dict_venv, dict_expert_trajectories, rng
):
    random_trajs = rollout.generate_trajectories(
        None, dict_venv, rollout.make_min_episodes(10), rng=rng
    )
    flat_expert = rollout.flatten_trajectories(dict_expert_trajectories)
    for demos in (dict_expert_trajectories, flat_expert):
        algo = db.DensityAlgorithm(
            demonstrations=demos,
            venv=dict_venv,
            rng=rng,
            density_type=density_type,
        )
        algo.train(progress_bar=False)

        def mean_reward(trajs, algo=algo):
            flat = rollout.flatten_trajectories(trajs)
            return algo(flat.obs, flat.acts, flat.next_obs, flat.dones).mean()

        assert mean_reward(dict_expert_trajectories[:3]) > mean_reward(random_trajs)


def test_density_dict_features_equal_flat_features_in_sorted_order(
    dict_venv, dict_expert_trajectories, rng
):
    algo = db.DensityAlgorithm(
        demonstrations=dict_expert_trajectories, venv=dict_venv, rng=rng
    )
    flat = rollout.flatten_trajectories(dict_expert_trajectories)
    features = algo.transitions[None]
    expected_obs = np.concatenate([flat.obs.get("pos"), flat.obs.get("vel")], axis=1)
    np.testing.assert_allclose(features[:, :4], expected_obs)
    np.testing.assert_array_equal(features[:, 4:], np.eye(2)[flat.acts])


def test_density_rejects_demos_with_wrong_keys(
    dict_venv, dict_expert_trajectories, rng
):
    bad = [
        dataclasses.replace(
            t, obs=types.DictObs({"pos": t.obs.get("pos"), "spin": t.obs.get("vel")})
        )
        for t in dict_expert_trajectories
    ]
    with pytest.raises(ValueError, match="spin"):
        db.DensityAlgorithm(demonstrations=bad, venv=dict_venv, rng=rng)
    algo = db.DensityAlgorithm(
        demonstrations=dict_expert_trajectories, venv=dict_venv, rng=rng
    )
    algo.train(progress_bar=False)
    obs = dict_expert_trajectories[0].obs[:5].unwrap()
    acts = np.zeros(5, dtype=np.int64)
    wrong = {"pos": obs["pos"], "vel": np.zeros((5, 3), dtype=np.float32)}
    with pytest.raises(ValueError, match="'vel'"):
        algo(wrong, acts, obs, np.zeros(5, dtype=bool))


def test_adversarial_rejects_demos_with_wrong_keys_or_shapes(
    dict_venv, dict_expert_trajectories
):
    learner = PPO("MultiInputPolicy", dict_venv, n_steps=64, device="cpu")
    net = BasicRewardNet(dict_venv.observation_space, dict_venv.action_space)
    renamed = [
        dataclasses.replace(
            t, obs=types.DictObs({"pos": t.obs.get("pos"), "spin": t.obs.get("vel")})
        )
        for t in dict_expert_trajectories
    ]
    reshaped = [
        dataclasses.replace(
            t,
            obs=types.DictObs(
                {"pos": t.obs.get("pos"), "vel": t.obs.get("vel")[:, :1]}
            ),
        )
        for t in dict_expert_trajectories
    ]
    for demos, key in ((renamed, "spin"), (reshaped, "'vel'")):
        with pytest.raises(ValueError, match=key):
            GAIL(
                demonstrations=demos,
                demo_batch_size=64,
                venv=dict_venv,
                gen_algo=learner,
                reward_net=net,
                custom_logger=logger.configure(format_strs=[]),
            )
