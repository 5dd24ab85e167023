"""Tests for imitation.algorithms.sqil."""

from __future__ import annotations

import json
import math
import zipfile

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3 import DQN, SAC
from stable_baselines3.common import logger as sb3_logger
from stable_baselines3.common.type_aliases import ReplayBufferSamples

from imitation.algorithms import sqil
from imitation.data import rollout, types
from imitation.testing.expert_trajectories import lazy_generate_expert_trajectories
from imitation.util.util import make_vec_env


@pytest.fixture(scope="module")
def cartpole_v1_demos(tmp_path_factory):
    return lazy_generate_expert_trajectories(
        tmp_path_factory.getbasetemp().parent / "imitation-expert-cache",
        "CartPole-v1",
        4,
        np.random.default_rng(0),
    )


@pytest.fixture
def cartpole(rng):
    venv = make_vec_env("CartPole-v1", rng=rng, n_envs=1)
    yield venv
    venv.close()


def _sqil(venv, demos, **rl_kwargs):
    kwargs = dict(learning_starts=100, buffer_size=5000, device="cpu", seed=0)
    kwargs.update(rl_kwargs)
    return sqil.SQIL(
        venv=venv, demonstrations=demos, policy="MlpPolicy", rl_kwargs=kwargs
    )


def test_batches_are_half_expert_half_agent(cartpole, cartpole_v1_demos):
    trainer = _sqil(cartpole, cartpole_v1_demos)
    trainer.train(total_timesteps=200)
    batch = trainer.rl_algo.replay_buffer.sample(64)
    assert batch.rewards.shape == (64, 1)
    assert batch.rewards[:32].sum() == 0 and batch.rewards[32:].sum() == 32
    expert_obs = np.concatenate([t.obs[:-1] for t in cartpole_v1_demos])
    sampled = batch.observations[32:].numpy()
    assert all((expert_obs == row).all(axis=1).any() for row in sampled)
    assert trainer.expert_buffer.size() == len(expert_obs)


def test_q_values_prefer_expert_actions(cartpole, cartpole_v1_demos):
    """After a short run, the Q-network ranks the expert's action first."""
    th.manual_seed(0)
    trainer = _sqil(
        cartpole,
        cartpole_v1_demos,
        learning_rate=1e-3,
        train_freq=1,
        gradient_steps=1,
        target_update_interval=250,
    )
    trajs = list(cartpole_v1_demos)
    obs = th.as_tensor(np.concatenate([t.obs[:-1] for t in trajs]))
    acts = np.concatenate([t.acts for t in trajs])

    def agreement():
        with th.no_grad():
            q = trainer.rl_algo.q_net(obs)
        return float((q.argmax(dim=1).numpy() == acts).mean())

    before = agreement()
    trainer.train(total_timesteps=6000)
    after = agreement()
    assert after > 0.85 and after > before + 0.2, (before, after)


def test_default_learner_learns_cartpole(cartpole_v1_demos):
    """SQIL's default (SoftDQN) balances CartPole after 5,000 steps.

    An untrained Q-network takes (nearly) the same action everywhere and drops
    the pole in about 10 steps; 150 over 10 episodes needs a policy that
    balances. In trials, seeds 0-3 scored 280-310 at 5,000 steps.
    """
    venv = make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=1)
    eval_venv = make_vec_env("CartPole-v1", rng=np.random.default_rng(99), n_envs=2)
    th.manual_seed(0)
    trainer = sqil.SQIL(
        venv=venv,
        demonstrations=cartpole_v1_demos,
        policy="MlpPolicy",
        rl_kwargs=dict(
            learning_rate=1e-3,
            target_update_interval=500,
            train_freq=4,
            batch_size=64,
            learning_starts=500,
            buffer_size=10_000,
            policy_kwargs=dict(net_arch=[64, 64]),
            device="cpu",
            seed=0,
        ),
    )

    def mean_return() -> float:
        trajs = rollout.generate_trajectories(
            trainer.policy,
            eval_venv,
            rollout.make_min_episodes(10),
            rng=np.random.default_rng(0),
            deterministic_policy=True,
        )
        return float(np.mean([t.rews.sum() for t in trajs[:10]]))

    before = mean_return()
    trainer.train(total_timesteps=5_000)
    after = mean_return()
    assert before < 50 and after >= 150, (before, after)
    venv.close()
    eval_venv.close()


def test_dict_observations(make_counting_venv, rng):
    venv = make_counting_venv([5], dict_obs=True)
    demos = rollout.generate_trajectories(
        None, venv, rollout.make_min_episodes(3), rng=rng
    )
    trainer = sqil.SQIL(
        venv=venv,
        demonstrations=demos,
        policy="MultiInputPolicy",
        rl_kwargs=dict(learning_starts=10, buffer_size=500, device="cpu"),
    )
    trainer.train(total_timesteps=50)
    batch = trainer.rl_algo.replay_buffer.sample(8)
    assert set(batch.observations) == {"t", "act"}
    assert batch.rewards[4:].sum() == 4


def test_sac_learner(rng):
    venv = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
    demos = rollout.generate_trajectories(
        None, venv, rollout.make_min_episodes(1), rng=rng
    )
    trainer = sqil.SQIL(
        venv=venv,
        demonstrations=demos,
        policy="MlpPolicy",
        rl_algo_class=SAC,
        rl_kwargs=dict(learning_starts=50, buffer_size=1000, device="cpu"),
    )
    trainer.train(total_timesteps=120)
    batch = trainer.rl_algo.replay_buffer.sample(16)
    # Expert actions are stored rescaled to [-1, 1], like SAC's own.
    assert batch.actions.abs().max() <= 1.0
    assert isinstance(trainer.rl_algo, SAC)


def test_bad_inputs(cartpole, cartpole_v1_demos, rng):
    pendulum = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
    with pytest.raises(ValueError, match="Discrete action space"):
        sqil.SQIL(venv=pendulum, demonstrations=cartpole_v1_demos, policy="MlpPolicy")
    with pytest.raises(ValueError, match="replay_buffer_class"):
        _sqil(cartpole, cartpole_v1_demos, replay_buffer_class=object)
    with pytest.raises(ValueError, match="replay_buffer_kwargs"):
        _sqil(cartpole, cartpole_v1_demos, replay_buffer_kwargs={})
    with pytest.raises(ValueError, match="empty"):
        _sqil(cartpole, [])
    flat = rollout.flatten_trajectories(cartpole_v1_demos)
    minimal = types.TransitionsMinimal(obs=flat.obs, acts=flat.acts, infos=flat.infos)
    with pytest.raises(ValueError, match=r"next observations and dones.*Minimal\)"):
        _sqil(cartpole, minimal)
    batches = [{"obs": flat.obs[:8], "acts": flat.acts[:8]}]
    with pytest.raises(ValueError, match=r"next observations and dones.*\(list\)"):
        _sqil(cartpole, batches)
    pendulum_demos = rollout.generate_trajectories(
        None, pendulum, rollout.make_min_episodes(1), rng=rng
    )
    with pytest.raises(ValueError, match="different environment"):
        sqil.SQIL(
            venv=make_vec_env("MountainCarContinuous-v0", rng=rng, n_envs=1),
            demonstrations=pendulum_demos,
            policy="MlpPolicy",
            rl_algo_class=SAC,
        )
    assert type(_sqil(cartpole, cartpole_v1_demos).rl_algo) is sqil.SoftDQN
    hard = sqil.SQIL(
        venv=cartpole,
        demonstrations=cartpole_v1_demos,
        policy="MlpPolicy",
        rl_algo_class=DQN,
    )
    assert type(hard.rl_algo) is DQN
    with pytest.raises(ValueError, match="ent_coef"):
        _sqil(cartpole, cartpole_v1_demos, ent_coef=-1.0)


def test_plain_env_and_missing_demonstrations_are_explained(cartpole_v1_demos):
    env = gym.make("CartPole-v1")
    with pytest.raises(TypeError, match=r"venv must be .*plain gym.Env.*DummyVecEnv"):
        _sqil(env, cartpole_v1_demos)
    venv = make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=1)
    accepted = r"Demonstrations must be a sequence of Trajectory.*Transitions"
    with pytest.raises(TypeError, match=f"{accepted}.*required here, but got None"):
        _sqil(venv, None)
    with pytest.raises(TypeError, match=f"{accepted}.*got int, which is not iterable"):
        _sqil(venv, 12)
    venv.close()


def test_soft_value_by_hand():
    q = th.tensor([[1.0, 2.0], [0.0, 0.0]])
    expected = [
        0.5 * math.log(math.exp(1.0 / 0.5) + math.exp(2.0 / 0.5)),
        0.5 * math.log(2.0),
    ]
    assert sqil.soft_value(q, 0.5).tolist() == pytest.approx(expected, rel=1e-6)
    three = th.tensor([3.0, -1.0, 0.5])
    by_hand = 2.0 * math.log(math.exp(1.5) + math.exp(-0.5) + math.exp(0.25))
    assert float(sqil.soft_value(three, 2.0)) == pytest.approx(by_hand, rel=1e-6)
    with pytest.raises(ValueError, match="ent_coef"):
        sqil.soft_value(q, -0.1)


def test_soft_value_tends_to_hard_max():
    q = th.randn(50, 3, generator=th.Generator().manual_seed(0), dtype=th.float64) * 10
    hard = q.max(dim=1).values
    assert th.equal(sqil.soft_value(q, 0.0), hard)
    gaps = []
    for ent_coef in (1.0, 0.1, 0.01, 0.001):
        gap = sqil.soft_value(q, ent_coef) - hard
        # max <= soft value <= max + ent_coef * log(n_actions)
        assert (gap >= -1e-9).all() and (gap <= ent_coef * math.log(3) + 1e-9).all()
        gaps.append(float(gap.max()))
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 1e-3


class _FixedBatchBuffer:
    """Stands in for the replay buffer: always returns the same batch."""

    def __init__(self, batch):
        self.batch = batch

    def sample(self, batch_size, env=None):
        return self.batch


@pytest.mark.parametrize("twin_q", [False, True])
@pytest.mark.parametrize("ent_coef", [0.0, 0.5, 2.0])
def test_soft_dqn_train_step_uses_soft_target(cartpole, ent_coef, twin_q):
    """The logged loss of one step equals the Huber loss to hand-made targets.

    With ``twin_q`` the target takes the minimum of the two target networks
    and both networks' losses are logged (their mean).
    """
    model = sqil.SoftDQN(
        "MlpPolicy",
        cartpole,
        ent_coef=ent_coef,
        twin_q=twin_q,
        learning_rate=0.0,
        gamma=0.9,
    )
    records = sb3_logger.Logger(folder=None, output_formats=[])
    model.set_logger(records)
    gen = th.Generator().manual_seed(0)
    obs, next_obs = th.randn(4, 4, generator=gen), th.randn(4, 4, generator=gen)
    batch = ReplayBufferSamples(
        observations=obs,
        actions=th.tensor([[0], [1], [1], [0]]),
        next_observations=next_obs,
        dones=th.tensor([[0.0], [0.0], [1.0], [0.0]]),
        rewards=th.tensor([[1.0], [0.0], [1.0], [0.0]]),
    )
    model.replay_buffer = _FixedBatchBuffer(batch)  # type: ignore[assignment]
    with th.no_grad():
        next_q = model.q_net_target(next_obs).tolist()
        qs = [model.q_net(obs).tolist()]
        if twin_q:
            next_q2 = model.q_net2_target(next_obs).tolist()
            next_q = [
                [min(a, b) for a, b in zip(r1, r2)] for r1, r2 in zip(next_q, next_q2)
            ]
            qs.append(model.q_net2(obs).tolist())
    losses = []
    for q in qs:
        for i in range(4):
            if ent_coef == 0:
                v = max(next_q[i])
            else:
                v = ent_coef * math.log(sum(math.exp(x / ent_coef) for x in next_q[i]))
            done = float(batch.dones[i, 0])
            target = float(batch.rewards[i, 0]) + 0.9 * (1 - done) * v
            err = abs(q[i][int(batch.actions[i, 0])] - target)
            losses.append(0.5 * err**2 if err < 1 else err - 0.5)  # Huber
    model.train(gradient_steps=1, batch_size=4)
    loss = records.name_to_value["train/loss"]
    assert loss == pytest.approx(float(np.mean(losses)), rel=1e-5)


def test_soft_dqn_actions(cartpole):
    """Greedy when deterministic; Boltzmann in Q / ent_coef when exploring."""
    model = sqil.SoftDQN("MlpPolicy", cartpole, ent_coef=1.0, seed=0)
    model.exploration_rate = 0.0
    last = model.q_net.q_net[-1]
    with th.no_grad():  # Q = (0, 1) in every state
        last.weight.zero_()
        last.bias.copy_(th.tensor([0.0, 1.0]))
    obs = np.zeros((4000, 4), dtype=np.float32)
    greedy, _ = model.predict(obs, deterministic=True)
    assert (greedy == 1).all()
    for ent_coef in (0.25, 1.0, 5.0):
        model.ent_coef = ent_coef
        acts, _ = model.predict(obs)
        assert acts.shape == (4000,)
        p_one = 1.0 / (1.0 + math.exp(-1.0 / ent_coef))
        assert float(acts.mean()) == pytest.approx(p_one, abs=0.03)
    model.exploration_rate = 1.0  # epsilon-random on top: uniform
    acts, _ = model.predict(obs)
    assert float(acts.mean()) == pytest.approx(0.5, abs=0.03)
    single, _ = model.predict(obs[0])
    assert single.shape == ()


def test_soft_dqn_save_load(cartpole, tmp_path):
    model = sqil.SoftDQN("MlpPolicy", cartpole, ent_coef=0.3, device="cpu")
    model.save(tmp_path / "soft")
    loaded = sqil.SoftDQN.load(tmp_path / "soft", device="cpu")
    assert isinstance(loaded, sqil.SoftDQN) and loaded.ent_coef == 0.3
    assert loaded.twin_q
    for name in ("q_net2", "q_net2_target"):
        saved, restored = getattr(model, name), getattr(loaded, name)
        for a, b in zip(saved.parameters(), restored.parameters()):
            assert th.equal(a, b)
    single = sqil.SoftDQN("MlpPolicy", cartpole, twin_q=False, device="cpu")
    single.save(tmp_path / "single")
    assert not sqil.SoftDQN.load(tmp_path / "single", device="cpu").twin_q
    obs = np.zeros((3, 4), dtype=np.float32)
    assert (
        loaded.predict(obs, deterministic=True)[0]
        == model.predict(obs, deterministic=True)[0]
    ).all()


def test_soft_dqn_from_before_twin_q_loads_with_one_network(cartpole, tmp_path):
    """A zip saved before ``twin_q`` existed (no flag, no second network)."""
    single = sqil.SoftDQN("MlpPolicy", cartpole, twin_q=False, device="cpu")
    single.save(tmp_path / "old.zip")
    with zipfile.ZipFile(tmp_path / "old.zip") as src:
        entries = {name: src.read(name) for name in src.namelist()}
    data = json.loads(entries["data"])
    del data["twin_q"]
    entries["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(tmp_path / "older.zip", "w") as dst:
        for name, content in entries.items():
            dst.writestr(name, content)
    loaded = sqil.SoftDQN.load(tmp_path / "older.zip", env=cartpole, device="cpu")
    assert not loaded.twin_q and not hasattr(loaded, "q_net2")
    obs = np.zeros((3, 4), dtype=np.float32)
    assert (
        loaded.predict(obs, deterministic=True)[0]
        == single.predict(obs, deterministic=True)[0]
    ).all()
    loaded.learn(64)  # and it trains on, with its one network


def test_soft_dqn_twin_networks_are_independent_and_follow_target_schedule(
    cartpole,
):
    """Two differently initialised Q-networks; both targets copied on schedule."""
    model = sqil.SoftDQN(
        "MlpPolicy",
        cartpole,
        learning_starts=0,
        train_freq=1,
        target_update_interval=50,
        batch_size=8,
        seed=0,
        device="cpu",
    )
    obs = th.zeros(1, 4)
    with th.no_grad():
        assert not th.equal(model.q_net(obs), model.q_net2(obs))
    model.learn(49)
    with th.no_grad():  # trained, not yet copied
        assert not th.equal(model.q_net2(obs), model.q_net2_target(obs))
        before = [model.q_net(obs), model.q_net2(obs)]
    # Step 50 copies both networks into their targets (then trains once more).
    model.learn(1, reset_num_timesteps=False)
    with th.no_grad():
        assert th.equal(model.q_net_target(obs), before[0])
        assert th.equal(model.q_net2_target(obs), before[1])
