"""Tests for imitation.algorithms.bc."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch as th
import torch.utils.data as th_data
from stable_baselines3.common.policies import ActorCriticPolicy

from imitation.algorithms import base, bc
from imitation.data import rollout, types
from imitation.util import logger, safe_pickle, util
from imitation.util.util import make_vec_env


def _quiet_logger(tmp_path=None):
    return logger.configure(tmp_path, format_strs=["csv"] if tmp_path else [])


def _mean_return(policy, venv, n, seed):
    trajs = rollout.generate_trajectories(
        policy, venv, rollout.make_min_episodes(n), rng=np.random.default_rng(seed)
    )
    return float(np.mean([t.rews.sum() for t in trajs[:n]]))


@pytest.fixture
def cartpole(rng):
    venv = make_vec_env("seals:seals/CartPole-v0", rng=rng, n_envs=4)
    yield venv
    venv.close()


def _bc(venv, rng, **kwargs):
    return bc.BC(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        rng=rng,
        custom_logger=_quiet_logger(),
        **kwargs,
    )


def test_bc_learns_cartpole(cartpole, cartpole_expert_trajectories, rng):
    """BC on 50 expert episodes reaches >= 0.9 normalised score."""
    trainer = _bc(cartpole, rng, demonstrations=cartpole_expert_trajectories)
    random_return = _mean_return(None, cartpole, 20, seed=1)
    untrained = _mean_return(trainer.policy, cartpole, 20, seed=1)
    expert_return = float(np.mean([t.rews.sum() for t in cartpole_expert_trajectories]))
    trainer.train(n_epochs=4, progress_bar=False)
    score = _mean_return(trainer.policy, cartpole, 20, seed=1)
    normalized = (score - random_return) / (expert_return - random_return)
    assert untrained < 0.5 * expert_return
    assert normalized >= 0.9, (score, random_return, expert_return)


def test_weight_decay_refused(cartpole, rng):
    with pytest.raises(ValueError, match="l2_weight"):
        _bc(cartpole, rng, optimizer_kwargs={"weight_decay": 1e-3})


def test_batch_not_multiple_of_minibatch(cartpole, rng):
    with pytest.raises(ValueError, match="multiple of minibatch_size"):
        _bc(cartpole, rng, batch_size=30, minibatch_size=8)


def test_empty_demonstrations(cartpole, rng):
    with pytest.raises(ValueError, match="empty"):
        _bc(cartpole, rng, demonstrations=[])


def test_demonstrations_from_other_env(cartpole, rng):
    pendulum = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
    demos = rollout.generate_trajectories(
        None, pendulum, rollout.make_min_episodes(1), rng=rng
    )
    with pytest.raises(ValueError, match="different environment"):
        _bc(cartpole, rng, demonstrations=demos)


def test_policy_space_mismatch(cartpole, rng):
    pendulum = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
    policy = ActorCriticPolicy(
        pendulum.observation_space, pendulum.action_space, lambda _: 1e-3
    )
    with pytest.raises(ValueError, match="observation space"):
        _bc(cartpole, rng, policy=policy)


def test_train_arguments(cartpole, cartpole_expert_trajectories, rng):
    trainer = _bc(cartpole, rng, demonstrations=cartpole_expert_trajectories[:2])
    with pytest.raises(ValueError, match="exactly one"):
        trainer.train(progress_bar=False)
    with pytest.raises(ValueError, match="exactly one"):
        trainer.train(n_epochs=1, n_batches=1, progress_bar=False)
    no_demos = _bc(cartpole, rng)
    with pytest.raises(ValueError, match="set_demonstrations"):
        no_demos.train(n_batches=1, progress_bar=False)


def test_callbacks_and_counts(cartpole, cartpole_expert_trajectories, rng):
    demos = cartpole_expert_trajectories[:2]  # 1000 transitions = 31 batches of 32
    trainer = _bc(cartpole, rng, demonstrations=demos)
    counts = {"epoch": 0, "batch": 0}

    def on_epoch_end():
        counts["epoch"] += 1

    def on_batch_end():
        counts["batch"] += 1

    trainer.train(
        n_epochs=3,
        on_epoch_end=on_epoch_end,
        on_batch_end=on_batch_end,
        progress_bar=False,
    )
    assert counts == {"epoch": 3, "batch": 3 * (1000 // 32)}
    counts.update(epoch=0, batch=0)
    trainer.train(n_batches=5, on_batch_end=on_batch_end, progress_bar=False)
    assert counts["batch"] == 5


def test_minibatch_accumulation_matches_full_batch(
    cartpole, cartpole_expert_trajectories
):
    def train(minibatch_size):
        th.manual_seed(0)
        trainer = _bc(
            cartpole,
            np.random.default_rng(0),
            demonstrations=cartpole_expert_trajectories[:2],
            batch_size=32,
            minibatch_size=minibatch_size,
        )
        trainer.train(n_batches=3, progress_bar=False)
        return th.cat([p.detach().flatten() for p in trainer.policy.parameters()])

    th.testing.assert_close(train(8), train(32), rtol=1e-4, atol=1e-5)


def test_logged_metrics(tmp_path, cartpole, cartpole_expert_trajectories, rng):
    custom = logger.configure(tmp_path, format_strs=["csv"])
    trainer = bc.BC(
        observation_space=cartpole.observation_space,
        action_space=cartpole.action_space,
        rng=rng,
        demonstrations=cartpole_expert_trajectories[:2],
        custom_logger=custom,
    )
    trainer.train(
        n_batches=4,
        log_interval=2,
        log_rollouts_venv=cartpole,
        log_rollouts_n_episodes=2,
        progress_bar=False,
    )
    custom.close()
    header = (tmp_path / "progress.csv").read_text().splitlines()[0].split(",")
    for name in (
        "neglogp",
        "entropy",
        "ent_loss",
        "prob_true_act",
        "l2_norm",
        "l2_loss",
        "loss",
    ):
        assert f"bc/{name}" in header
    assert "rollout/return_mean" in header


@pytest.mark.parametrize(
    "form", ["trajectories", "transitions", "batches", "dataloader"]
)
def test_demonstration_forms(form, cartpole, cartpole_expert_trajectories, rng):
    trajs = list(cartpole_expert_trajectories[:2])
    flat = rollout.flatten_trajectories(trajs)
    demos = {
        "trajectories": trajs,
        "transitions": flat,
        "batches": [
            {"obs": flat.obs[i : i + 32], "acts": flat.acts[i : i + 32]}
            for i in range(0, 960, 32)
        ],
        "dataloader": base.make_data_loader(flat, 32, data_loader_kwargs={}),
    }[form]
    trainer = _bc(cartpole, rng, demonstrations=demos)
    trainer.train(n_batches=5, progress_bar=False)


def test_dict_observations(make_counting_venv, rng):
    venv = make_counting_venv([5, 5], dict_obs=True)
    demos = rollout.generate_trajectories(
        None, venv, rollout.make_min_episodes(20), rng=rng
    )
    policy = ActorCriticPolicy(
        venv.observation_space,
        venv.action_space,
        lambda _: 1e-3,
        features_extractor_class=__import__(
            "stable_baselines3"
        ).common.torch_layers.CombinedExtractor,
    )
    trainer = _bc(venv, rng, policy=policy, demonstrations=demos, batch_size=16)
    trainer.train(n_epochs=2, progress_bar=False)


@pytest.mark.parametrize(
    "action_space",
    [gym.spaces.MultiDiscrete([3, 4]), gym.spaces.Box(-1, 1, shape=(2,))],
)
def test_other_action_spaces(action_space, rng):
    obs_space = gym.spaces.Box(-1, 1, shape=(3,))
    n = 64
    acts = np.stack([action_space.sample() for _ in range(n)])
    demos = types.TransitionsMinimal(
        obs=rng.uniform(-1, 1, size=(n, 3)).astype(np.float32),
        acts=acts,
        infos=np.array([{}] * n),
    )
    trainer = bc.BC(
        observation_space=obs_space,
        action_space=action_space,
        rng=rng,
        demonstrations=demos,
        custom_logger=_quiet_logger(),
    )
    before = trainer.loss_calculator(
        trainer.policy, th.as_tensor(demos.obs), th.as_tensor(acts)
    ).loss
    trainer.train(n_epochs=30, progress_bar=False)
    after = trainer.loss_calculator(
        trainer.policy, th.as_tensor(demos.obs), th.as_tensor(acts)
    ).loss
    assert after < before


def test_reconstruct_policy_round_trip(tmp_path, cartpole, rng):
    trainer = _bc(cartpole, rng)
    path = tmp_path / "policy.pt"
    util.save_policy(trainer.policy, path)
    loaded = bc.reconstruct_policy(str(path))
    for (k1, v1), (k2, v2) in zip(
        trainer.policy.state_dict().items(), loaded.state_dict().items()
    ):
        assert k1 == k2 and th.equal(v1, v2)
    obs = np.zeros((3, 4), dtype=np.float32)
    np.testing.assert_array_equal(
        trainer.policy.predict(obs, deterministic=True)[0],
        loaded.predict(obs, deterministic=True)[0],
    )


def test_reconstruct_policy_refuses_code(tmp_path):
    import os

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "evil.pt"
    th.save({"policy_class": Evil(), "data": {}, "state_dict": {}}, path)
    with pytest.raises(safe_pickle.UnsafePickleError):
        bc.reconstruct_policy(str(path))


def test_make_data_loader_batches(rng):
    n = 100
    trans = types.TransitionsMinimal(
        obs=np.arange(n, dtype=np.float32)[:, None],
        acts=np.arange(n),
        infos=np.array([{}] * n),
    )
    loader = base.make_data_loader(trans, 32, rng=rng)
    batches = list(loader)
    assert len(batches) == 3
    seen = np.concatenate([b["acts"].numpy() for b in batches])
    assert len(set(seen.tolist())) == 96
    second = np.concatenate([b["acts"].numpy() for b in loader])
    assert not np.array_equal(seen, second)  # reshuffled each pass
    with pytest.raises(ValueError, match="at least batch_size"):
        base.make_data_loader(trans[:10], 32)
    assert isinstance(
        base.make_data_loader(trans, 8, data_loader_kwargs={}), th_data.DataLoader
    )


@pytest.mark.parametrize(
    "obs_space",
    [gym.spaces.Discrete(5), gym.spaces.MultiDiscrete([3, 4])],
)
def test_discrete_observation_spaces(obs_space, rng):
    """BC learns act = f(obs) on discrete observations (one-hot encoded by SB3)."""
    n = 256
    obs = np.stack([obs_space.sample() for _ in range(n)])
    acts = (np.atleast_2d(obs.T).T.sum(axis=1) % 2).astype(np.int64)
    demos = types.TransitionsMinimal(obs=obs, acts=acts, infos=np.array([{}] * n))
    trainer = bc.BC(
        observation_space=obs_space,
        action_space=gym.spaces.Discrete(2),
        rng=rng,
        demonstrations=demos,
        custom_logger=_quiet_logger(),
    )
    trainer.train(n_epochs=40, progress_bar=False)
    predicted, _ = trainer.policy.predict(obs, deterministic=True)
    assert np.mean(predicted == acts) > 0.95


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"batch_size": "32"}, TypeError),
        ({"batch_size": 32.0}, TypeError),
        ({"batch_size": 0}, ValueError),
        ({"batch_size": -8}, ValueError),
        ({"minibatch_size": "8"}, TypeError),
        ({"minibatch_size": 0}, ValueError),
    ],
)
def test_batch_sizes_must_be_positive_ints(kwargs, error, cartpole, rng):
    (name,) = kwargs
    with pytest.raises(error, match=f"{name} must be a positive int"):
        _bc(cartpole, rng, **kwargs)


def test_train_counts_must_be_positive_ints(
    cartpole, cartpole_expert_trajectories, rng
):
    trainer = _bc(cartpole, rng, demonstrations=cartpole_expert_trajectories[:2])
    with pytest.raises(TypeError, match="n_epochs must be a positive int"):
        trainer.train(n_epochs=1.5, progress_bar=False)
    with pytest.raises(ValueError, match="n_batches must be a positive int"):
        trainer.train(n_batches=0, progress_bar=False)
    with pytest.raises(ValueError, match="log_interval must be a positive int"):
        trainer.train(n_batches=1, log_interval=0, progress_bar=False)


def test_log_rollouts_venv_must_be_vec_env(cartpole, cartpole_expert_trajectories, rng):
    trainer = _bc(cartpole, rng, demonstrations=cartpole_expert_trajectories[:2])
    env = gym.make("seals:seals/CartPole-v0")
    with pytest.raises(TypeError, match=r"log_rollouts_venv .*plain gym.Env.*wrap"):
        trainer.train(n_batches=1, log_rollouts_venv=env, progress_bar=False)


@pytest.mark.parametrize(
    "bad_rng", [0, None, np.random.RandomState(0)], ids=["int", "None", "RandomState"]
)
def test_rng_must_be_generator(bad_rng, cartpole, cartpole_expert_trajectories):
    match = r"rng must be a numpy Generator, e\.g\. np\.random\.default_rng\(seed\)"
    with pytest.raises(TypeError, match=match):
        _bc(cartpole, bad_rng)
    trans = rollout.flatten_trajectories(cartpole_expert_trajectories[:1])
    with pytest.raises(TypeError, match=match):
        base.make_data_loader(trans, 8, rng=bad_rng or 1)


_ACCEPTED = r"sequence of Trajectory.*Transitions.*iterable of batches.*DataLoader"


@pytest.mark.parametrize(
    ("demonstrations", "hint"),
    [
        (5, "got int, which is not iterable"),
        (3.5, "got float, which is not iterable"),
        ("demos/cartpole", "path 'demos/cartpole': load it first"),
        ({"obs": np.zeros((4, 4)), "acts": np.zeros(4)}, r"single batch.*\[batch\]"),
        ([1, 2, 3], "first element has type int"),
    ],
    ids=["int", "float", "path", "one batch", "ints"],
)
def test_demonstrations_of_wrong_type(demonstrations, hint, cartpole, rng):
    with pytest.raises(TypeError, match=f"{_ACCEPTED}.*{hint}"):
        _bc(cartpole, rng, demonstrations=demonstrations)
    with pytest.raises(TypeError, match=f"{_ACCEPTED}.*{hint}"):
        base.make_data_loader(demonstrations, 8)


def test_missing_demonstrations(cartpole, rng):
    trainer = _bc(cartpole, rng)  # Demonstrations are optional here...
    with pytest.raises(TypeError, match=f"{_ACCEPTED}.*required here, but got None"):
        trainer.set_demonstrations(None)  # ...but not here.


# The parts of BC's training loop.


def _batches(*sizes):
    return [{"obs": np.zeros((n, 2)), "acts": np.zeros(n)} for n in sizes]


@pytest.mark.parametrize(
    ("n_epochs", "n_batches", "n_yielded", "epochs_ended"),
    [(2, None, 6, [0, 1]), (None, 4, 4, [0]), (None, 3, 3, []), (None, 7, 7, [0, 1])],
)
def test_batch_iterator_counts(n_epochs, n_batches, n_yielded, epochs_ended):
    loader = _batches(1, 2, 3)
    ended = []
    it = bc.BatchIteratorWithEpochEndCallback(loader, n_epochs, n_batches, ended.append)
    got = list(it)
    assert len(got) == n_yielded
    assert [len(b["obs"]) for b in got] == ([1, 2, 3] * 3)[:n_yielded]
    assert ended == epochs_ended
    ended.clear()
    assert len(list(it)) == n_yielded  # Iterating again starts over.


@pytest.mark.parametrize(
    ("n_epochs", "n_batches", "error", "match"),
    [
        (None, None, ValueError, "exactly one"),
        (1, 1, ValueError, "exactly one"),
        (0, None, ValueError, "n_epochs must be a positive int"),
        (None, "2", TypeError, "n_batches must be a positive int"),
    ],
)
def test_batch_iterator_validates(n_epochs, n_batches, error, match):
    with pytest.raises(error, match=match):
        bc.BatchIteratorWithEpochEndCallback(_batches(1), n_epochs, n_batches, None)


def test_batch_iterator_empty_or_exhausted_loader():
    with pytest.raises(ValueError, match="no batches in epoch 0"):
        list(bc.BatchIteratorWithEpochEndCallback([], 1, None, None))
    one_shot = iter(_batches(2, 2))
    it = bc.BatchIteratorWithEpochEndCallback(one_shot, 2, None, None)
    with pytest.raises(ValueError, match="no batches in epoch 1"):
        list(it)


def test_enumerate_batches():
    batches = _batches(2, 3, 1)
    got = list(bc.enumerate_batches(batches))
    assert [stats for stats, _ in got] == [(0, 2, 2), (1, 3, 5), (2, 1, 6)]
    assert all(a is b for (_, a), b in zip(got, batches))
    dict_batch = {"obs": {"a": th.zeros(4, 1), "b": th.zeros(4, 2)}, "acts": None}
    assert next(bc.enumerate_batches([dict_batch]))[0] == (0, 4, 4)


def test_rollout_stats_computer(cartpole, rng):
    policy = bc.BC(
        observation_space=cartpole.observation_space,
        action_space=cartpole.action_space,
        rng=rng,
        custom_logger=_quiet_logger(),
    ).policy
    assert bc.RolloutStatsComputer(None, 5)(policy, rng) == {}
    assert bc.RolloutStatsComputer(cartpole, 0)(policy, rng) == {}
    policy.set_training_mode(True)
    stats = bc.RolloutStatsComputer(cartpole, 3)(policy, rng)
    assert stats["n_traj"] >= 3
    assert stats["len_mean"] == 500 and "return_mean" in stats  # Fixed horizon.
    assert policy.training  # Restored after the rollouts.


class _RecordingLogger:
    def __init__(self):
        self.rows, self.current = [], {}

    def record(self, key, value):
        self.current[key] = value

    def dump(self, step):
        self.rows.append((step, self.current))
        self.current = {}


def _metrics(entropy):
    t = th.tensor
    return bc.BCTrainingMetrics(
        neglogp=t(1.0),
        entropy=entropy,
        ent_loss=t(0.5),
        prob_true_act=t(0.25),
        l2_norm=t(2.0),
        l2_loss=t(0.0),
        loss=t(1.5),
    )


def test_bc_logger_rows_and_steps():
    log = _RecordingLogger()
    bc_logger = bc.BCLogger(log)
    bc_logger.log_batch(0, 32, 32, _metrics(th.tensor(0.7)), {"return_mean": 9.0})
    bc_logger.log_epoch(3)
    bc_logger.log_batch(7, 16, 144, _metrics(None), {})
    bc_logger.reset_tensorboard_steps()
    bc_logger.log_batch(8, 16, 160, _metrics(None), {})
    assert [step for step, _ in log.rows] == [0, 1, 0]
    first, second = log.rows[0][1], log.rows[1][1]
    assert first == {
        "batch_size": 32,
        "bc/epoch": 0,
        "bc/batch": 0,
        "bc/samples_so_far": 32,
        "bc/neglogp": 1.0,
        "bc/entropy": pytest.approx(0.7),
        "bc/ent_loss": 0.5,
        "bc/prob_true_act": 0.25,
        "bc/l2_norm": 2.0,
        "bc/l2_loss": 0.0,
        "bc/loss": 1.5,
        "rollout/return_mean": 9.0,
    }
    assert second["bc/epoch"] == 3 and second["bc/samples_so_far"] == 144
    assert "bc/entropy" not in second


def test_bc_logger_pickles_without_its_logger():
    import pickle

    bc_logger = bc.BCLogger(_RecordingLogger())
    bc_logger.log_batch(0, 1, 1, _metrics(None), {})
    restored = pickle.loads(pickle.dumps(bc_logger))
    assert isinstance(restored.logger, logger.HierarchicalLogger)
    assert restored._tensorboard_step == 1


def test_bc_uses_its_logger_after_replacement(cartpole, cartpole_expert_trajectories):
    trainer = _bc(
        cartpole, np.random.default_rng(0), demonstrations=cartpole_expert_trajectories
    )
    recording = _RecordingLogger()
    trainer.logger = recording  # As DAgger does with its BC trainer.
    trainer.train(n_batches=3, log_interval=2, progress_bar=False)
    assert [row["bc/batch"] for _, row in recording.rows] == [0, 2]
    assert [step for step, _ in recording.rows] == [0, 1]
