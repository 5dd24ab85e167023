"""Tests for imitation.algorithms.preference_comparisons: the loop and its parts."""

from __future__ import annotations

import json
import re

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common import logger as sb3_logger

from imitation.algorithms import preference_comparisons as pc
from imitation.data import rollout, types
from imitation.policies.base import FeedForward32Policy, NormalizeFeaturesExtractor
from imitation.regularization import regularizers, updaters
from imitation.rewards.reward_nets import BasicRewardNet, RewardEnsemble
from imitation.util import logger, networks
from imitation.util.networks import RunningNorm
from imitation.util.util import make_vec_env

OBS_SPACE = gym.spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)
ACT_SPACE = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)


def _quiet():
    return logger.configure(format_strs=[])


def _traj(rng, length=20, terminal=True, with_rew=True):
    obs = rng.normal(size=(length + 1, 2)).astype(np.float32)
    acts = rng.uniform(-1, 1, size=(length, 1)).astype(np.float32)
    if not with_rew:
        return types.Trajectory(obs=obs, acts=acts, infos=None, terminal=terminal)
    rews = -(obs[:-1] ** 2).sum(1).astype(np.float64)
    return types.TrajectoryWithRew(
        obs=obs, acts=acts, infos=None, terminal=terminal, rews=rews
    )


def _net():
    return BasicRewardNet(OBS_SPACE, ACT_SPACE, normalize_input_layer=RunningNorm)


@pytest.fixture(scope="module")
def pendulum_trajs():
    """Random-policy Pendulum-v1 episodes (train and held-out)."""
    rng = np.random.default_rng(0)
    venv = make_vec_env("Pendulum-v1", rng=rng, n_envs=4)
    trajs = rollout.generate_trajectories(
        None, venv, rollout.make_min_episodes(16), rng=rng
    )
    venv.close()
    return list(trajs[:8]), list(trajs[8:16])


def _held_out_accuracy(net, pairs):
    model = pc.PreferenceModel(net)
    with th.no_grad(), networks.evaluating(model):
        learned = model.returns(pairs).numpy()
    true = np.array([[a.rews.sum(), b.rews.sum()] for a, b in pairs])
    return float(np.mean((learned[:, 0] > learned[:, 1]) == (true[:, 0] > true[:, 1])))


# --- Learning ------------------------------------------------------------------


def test_reward_accuracy_rises_well_above_chance(pendulum_trajs):
    """60 comparisons of random-policy Pendulum fragments.

    On 300 held-out pairs an untrained net is near chance (0.5 +- 0.03); the
    trained one measured 0.82-0.88 over seeds 0-2.
    """
    th.manual_seed(0)
    rng = np.random.default_rng(0)
    train, test = pendulum_trajs
    venv = make_vec_env("Pendulum-v1", rng=rng)
    net = BasicRewardNet(
        venv.observation_space, venv.action_space, normalize_input_layer=RunningNorm
    )
    test_pairs = pc.RandomFragmenter(rng=rng, warning_threshold=0)(test, 25, 300)
    before = _held_out_accuracy(net, test_pairs)
    trainer = pc.PreferenceComparisons(
        pc.TrajectoryDataset(train, rng=rng),
        net,
        num_iterations=2,
        fragment_length=25,
        initial_epoch_multiplier=10,
        custom_logger=_quiet(),
        rng=rng,
    )
    trainer.reward_trainer.epochs = 10  # type: ignore[attr-defined]
    result = trainer.train(total_timesteps=0, total_comparisons=60)
    after = _held_out_accuracy(net, test_pairs)
    assert after > 0.75 and after > before + 0.2, (before, after)
    assert result["reward_accuracy"] > 0.75
    assert len(trainer.dataset) == 60


def test_active_selection_picks_more_disputed_pairs(pendulum_trajs):
    th.manual_seed(0)
    rng = np.random.default_rng(0)
    train, test = pendulum_trajs
    venv = make_vec_env("Pendulum-v1", rng=rng)
    members = [
        BasicRewardNet(venv.observation_space, venv.action_space) for _ in range(3)
    ]
    ensemble = RewardEnsemble(venv.observation_space, venv.action_space, members)
    model = pc.PreferenceModel(ensemble)
    trainer = pc.EnsembleTrainer(
        model, pc.CrossEntropyRewardLoss(), rng=rng, epochs=3, custom_logger=_quiet()
    )
    pairs = pc.RandomFragmenter(rng=rng, warning_threshold=0)(train, 25, 40)
    dataset = pc.PreferenceDataset()
    dataset.push(pairs, pc.SyntheticGatherer(rng=rng)(pairs))
    trainer.train(dataset)
    for measure in ("logit", "probability", "label"):
        active = pc.ActiveSelectionFragmenter(
            model,
            pc.RandomFragmenter(rng=np.random.default_rng(1), warning_threshold=0),
            fragment_sample_factor=5,
            uncertainty_on=measure,
            custom_logger=_quiet(),
        )
        random_pairs = pc.RandomFragmenter(
            rng=np.random.default_rng(2), warning_threshold=0
        )(test, 25, 50)
        chosen = active(test, 25, 50)
        assert len(chosen) == 50
        chosen_var = active.disagreement(chosen).mean()
        random_var = active.disagreement(random_pairs).mean()
        assert chosen_var > 1.5 * random_var, (measure, chosen_var, random_var)


def test_spec_example_runs_with_ppo_agent(tmp_path):
    """The documented PPO example, on a tiny budget."""
    rng = np.random.default_rng(0)
    venv = make_vec_env("Pendulum-v1", rng=rng)
    reward_net = BasicRewardNet(
        venv.observation_space, venv.action_space, normalize_input_layer=RunningNorm
    )
    agent = PPO(
        policy=FeedForward32Policy,
        policy_kwargs=dict(
            features_extractor_class=NormalizeFeaturesExtractor,
            features_extractor_kwargs=dict(normalize_class=RunningNorm),
        ),
        env=venv,
        seed=0,
        n_steps=256,
        batch_size=64,
        n_epochs=2,
        device="cpu",
    )
    generator = pc.AgentTrainer(
        algorithm=agent,
        reward_fn=reward_net,
        venv=venv,
        exploration_frac=0.25,
        rng=rng,
    )
    custom_logger = logger.configure(tmp_path, format_strs=["csv"])
    trainer = pc.PreferenceComparisons(
        generator,
        reward_net,
        num_iterations=2,
        fragmenter=pc.RandomFragmenter(warning_threshold=0, rng=rng),
        preference_gatherer=pc.SyntheticGatherer(rng=rng),
        reward_trainer=pc.BasicRewardTrainer(
            preference_model=pc.PreferenceModel(reward_net),
            loss=pc.CrossEntropyRewardLoss(),
            epochs=1,
            rng=rng,
        ),
        fragment_length=20,
        initial_epoch_multiplier=2,
        custom_logger=custom_logger,
    )
    assert generator.logger is custom_logger
    iterations = []
    result = trainer.train(
        total_timesteps=512, total_comparisons=20, callback=iterations.append
    )
    assert iterations == [0, 1]
    assert set(result) == {"reward_loss", "reward_accuracy"}
    assert np.isfinite(result["reward_loss"])
    assert agent.num_timesteps >= 512
    custom_logger.close()
    logged = (tmp_path / "progress.csv").read_text().splitlines()[0].split(",")
    assert "mean/agent/rollout/ep_rew_wrapped_mean" in logged
    assert "mean/reward/final/train/accuracy" in logged
    assert "mean/preferences/entropy" in logged
    # The agent is trained on the learned reward, not the environment's.
    assert generator.venv_wrapped.reward_fn == reward_net.predict_processed


# --- Trajectory generators -------------------------------------------------------


def test_agent_trainer_sample_mixes_agent_and_exploration():
    rng = np.random.default_rng(0)
    venv = make_vec_env("Pendulum-v1", rng=rng, n_envs=2)
    agent = PPO("MlpPolicy", venv, n_steps=200, batch_size=100, n_epochs=1, seed=0)
    generator = pc.AgentTrainer(
        agent,
        _net_for(venv),
        venv,
        rng=rng,
        exploration_frac=0.5,
        custom_logger=_quiet(),
    )
    trajs = generator.sample(400)
    assert sum(len(t) for t in trajs) >= 400
    assert all(isinstance(t, types.TrajectoryWithRew) for t in trajs)
    generator.train(400)
    # Complete episodes of the training phase are handed out first.
    assert len(generator._episodes) == 2
    again = generator.sample(200)
    assert again[0] is generator._episodes[-1]
    generator.train(400)  # the venv was reset by sampling: training restarts cleanly
    assert agent.num_timesteps >= 800


def _net_for(venv):
    return BasicRewardNet(venv.observation_space, venv.action_space)


def test_agent_schedules_run_once_over_the_whole_training():
    """A decaying learning rate decays over all iterations, not within each."""
    rng = np.random.default_rng(0)
    venv = make_vec_env("Pendulum-v1", rng=rng, n_envs=2)
    agent = PPO(
        "MlpPolicy",
        venv,
        n_steps=64,
        batch_size=64,
        n_epochs=1,
        seed=0,
        learning_rate=lambda progress: 1e-3 * progress,
    )
    net = _net_for(venv)
    trainer = pc.PreferenceComparisons(
        pc.AgentTrainer(agent, net, venv, rng=rng, custom_logger=_quiet()),
        net,
        num_iterations=4,
        fragment_length=10,
        reward_trainer=pc.BasicRewardTrainer(
            pc.PreferenceModel(net), pc.CrossEntropyRewardLoss(), rng=rng, epochs=1
        ),
        rng=rng,
        custom_logger=_quiet(),
    )
    learning_rates = []
    trainer.train(
        total_timesteps=512,
        total_comparisons=8,
        callback=lambda _: learning_rates.append(
            agent.policy.optimizer.param_groups[0]["lr"]
        ),
        progress_bar=False,
    )
    # Each iteration's last update, a quarter of the run further on.
    np.testing.assert_allclose(learning_rates, [7.5e-4, 5e-4, 2.5e-4, 0.0], atol=1e-9)


def test_agent_trainer_validates_arguments():
    rng = np.random.default_rng(0)
    venv = make_vec_env("Pendulum-v1", rng=rng, n_envs=2)
    agent = PPO("MlpPolicy", venv, n_steps=64, batch_size=64)
    with pytest.raises(ValueError, match="exploration_frac"):
        pc.AgentTrainer(agent, _net_for(venv), venv, rng=rng, exploration_frac=1.5)
    other = make_vec_env("Pendulum-v1", rng=rng, n_envs=3)
    with pytest.raises(ValueError, match="envs"):
        pc.AgentTrainer(agent, _net_for(venv), other, rng=rng)


def test_trajectory_dataset_samples_enough_or_everything():
    rng = np.random.default_rng(0)
    trajs = [_traj(rng, length=10) for _ in range(5)]
    dataset = pc.TrajectoryDataset(trajs, rng=rng, custom_logger=_quiet())
    assert sum(len(t) for t in dataset.sample(25)) >= 25
    assert len(dataset.sample(25)) == 3
    assert len(dataset.sample(1_000)) == 5
    with pytest.raises(TypeError, match="rewards"):
        pc.TrajectoryDataset([_traj(rng, with_rew=False)], rng=rng)
    with pytest.raises(ValueError, match="at least one"):
        pc.TrajectoryDataset([], rng=rng)


# --- Fragmenters -------------------------------------------------------------------


def test_random_fragmenter_cuts_contiguous_windows():
    rng = np.random.default_rng(0)
    trajs = [_traj(rng, length=12), _traj(rng, length=30, terminal=False)]
    pairs = pc.RandomFragmenter(rng=rng, warning_threshold=0)(trajs, 12, 50)
    assert len(pairs) == 50
    for frag in (f for pair in pairs for f in pair):
        assert len(frag) == 12 and len(frag.obs) == 13
        source = next(t for t in trajs if (t.rews == frag.rews[0]).any())
        start = int(np.flatnonzero(source.rews == frag.rews[0])[0])
        np.testing.assert_array_equal(source.obs[start : start + 13], frag.obs)
        np.testing.assert_array_equal(source.acts[start : start + 12], frag.acts)
        # Only a window ending at a terminal episode's end is terminal.
        assert frag.terminal == (source.terminal and start + 12 == len(source))
    # The 12-step episode fits exactly one window: both sources get used.
    lengths = {len(t) for t in trajs}
    assert lengths == {12, 30}


def test_random_fragmenter_is_seeded_and_warns():
    trajs = [_traj(np.random.default_rng(0), length=40)]

    def cut(seed):
        pairs = pc.RandomFragmenter(rng=np.random.default_rng(seed))(trajs, 10, 5)
        return [f.rews[0] for pair in pairs for f in pair]

    assert cut(3) == cut(3)
    assert cut(3) != cut(4)
    custom_logger = _quiet()
    messages = []
    custom_logger.warn = messages.append  # type: ignore[method-assign]
    fragmenter = pc.RandomFragmenter(
        rng=np.random.default_rng(0), warning_threshold=10, custom_logger=custom_logger
    )
    fragmenter(trajs, 10, 5)
    assert messages and "warning_threshold" in messages[0]


def test_fragment_longer_than_trajectories_raises():
    rng = np.random.default_rng(0)
    trajs = [_traj(rng, length=10), _traj(rng, length=15)]
    with pytest.raises(ValueError, match="fragment_length=20 is longer than every"):
        pc.RandomFragmenter(rng=rng)(trajs, 20, 3)
    trainer = pc.PreferenceComparisons(
        pc.TrajectoryDataset(trajs, rng=rng),
        _net(),
        num_iterations=1,
        fragment_length=50,
        rng=rng,
        allow_variable_horizon=True,
        custom_logger=_quiet(),
    )
    with pytest.raises(ValueError, match="shorter fragment_length"):
        trainer.train(total_timesteps=0, total_comparisons=4)


def test_active_selection_needs_an_ensemble():
    model = pc.PreferenceModel(_net())
    base = pc.RandomFragmenter(rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="RewardEnsemble"):
        pc.ActiveSelectionFragmenter(model, base, fragment_sample_factor=2)
    ensemble = RewardEnsemble(OBS_SPACE, ACT_SPACE, [_net(), _net()])
    ens_model = pc.PreferenceModel(ensemble)
    with pytest.raises(ValueError, match="uncertainty_on"):
        pc.ActiveSelectionFragmenter(ens_model, base, 2, uncertainty_on="entropy")
    with pytest.raises(ValueError, match="fragment_sample_factor"):
        pc.ActiveSelectionFragmenter(ens_model, base, 0.5)
    with pytest.raises(TypeError, match="RewardEnsemble"):
        pc.EnsembleTrainer(
            model, pc.CrossEntropyRewardLoss(), rng=np.random.default_rng()
        )


# --- Preferences ---------------------------------------------------------------------


def _pairs(rng, n, length=10):
    return [(_traj(rng, length), _traj(rng, length)) for _ in range(n)]


def test_synthetic_gatherer_follows_true_returns():
    rng = np.random.default_rng(0)
    pairs = _pairs(rng, 200)
    diff = np.array([a.rews.sum() - b.rews.sum() for a, b in pairs])
    probs = pc.SyntheticGatherer(sample=False, temperature=4.0)(pairs)
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-diff / 4.0)), rtol=1e-5)
    hard = pc.SyntheticGatherer(sample=False, temperature=0)(pairs)
    np.testing.assert_array_equal(hard, (diff > 0).astype(np.float32))
    sampled = pc.SyntheticGatherer(rng=np.random.default_rng(1))(pairs)
    assert set(np.unique(sampled)) <= {0.0, 1.0}
    assert np.mean(sampled == (diff > 0)) > 0.8
    again = pc.SyntheticGatherer(rng=np.random.default_rng(1))(pairs)
    np.testing.assert_array_equal(sampled, again)
    discounted = pc.SyntheticGatherer(sample=False, discount_factor=0.5)(pairs[:1])
    a, b = pairs[0]
    weights = 0.5 ** np.arange(10)
    expected = 1 / (1 + np.exp(-(a.rews @ weights - b.rews @ weights)))
    np.testing.assert_allclose(discounted, [expected], rtol=1e-5)


def test_synthetic_gatherer_rejects_fragments_without_rewards():
    rng = np.random.default_rng(0)
    pairs = [(_traj(rng, with_rew=False), _traj(rng, with_rew=False))]
    with pytest.raises(TypeError, match="rewards"):
        pc.SyntheticGatherer(rng=rng)(pairs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rng"):
        pc.SyntheticGatherer(sample=True)
    with pytest.raises(ValueError, match="temperature"):
        pc.SyntheticGatherer(temperature=-1, rng=rng)


@pytest.mark.parametrize(
    "bad", [[0.5, 1.5], [-0.1, 0.5], [np.nan, 0.5]], ids=["above", "below", "nan"]
)
def test_preferences_outside_unit_interval_rejected(bad):
    dataset = pc.PreferenceDataset()
    pairs = _pairs(np.random.default_rng(0), 2)
    with pytest.raises(ValueError, match="NaN|\\[0, 1\\]"):
        dataset.push(pairs, np.array(bad))
    with pytest.raises(ValueError, match="one per fragment pair"):
        dataset.push(pairs, np.array([0.5]))
    assert len(dataset) == 0


def test_preference_dataset_queue_and_safe_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    dataset = pc.PreferenceDataset(max_size=5)
    pairs = _pairs(rng, 7)
    dataset.push(pairs[:4], np.array([0, 1, 0.5, 1]))
    dataset.push(pairs[4:], np.array([0, 0, 1]))
    assert len(dataset) == 5
    (first, _), pref = dataset[0]
    assert first is pairs[2][0] and pref == 0.5  # the two oldest were dropped
    np.testing.assert_array_equal(dataset.preferences, [0.5, 1, 0, 0, 1])

    dataset.save(tmp_path / "prefs")
    saved = sorted(p.name for p in (tmp_path / "prefs").iterdir())
    assert saved == [
        "fragments1.npz",
        "fragments2.npz",
        "metadata.json",
        "preferences.npy",
    ]
    for name in ("fragments1.npz", "fragments2.npz"):
        with np.load(tmp_path / "prefs" / name, allow_pickle=False) as arrays:
            assert all(arrays[k].dtype != object for k in arrays.files)
    loaded = pc.PreferenceDataset.load(tmp_path / "prefs")
    assert loaded.max_size == 5 and len(loaded) == 5
    np.testing.assert_array_equal(loaded.preferences, dataset.preferences)
    for i in range(5):
        (a, b), _ = loaded[i]
        (a0, b0), _ = dataset[i]
        assert a == a0 and b == b0

    meta = tmp_path / "prefs" / "metadata.json"
    meta.write_text(json.dumps({"format_version": 99}))
    with pytest.raises(ValueError, match="format_version"):
        pc.PreferenceDataset.load(tmp_path / "prefs")
    with pytest.raises(FileNotFoundError):
        pc.PreferenceDataset.load(tmp_path / "missing")
    with pytest.raises(ValueError, match="empty"):
        pc.PreferenceDataset().save(tmp_path / "empty")


# --- Preference model and loss ------------------------------------------------------


def test_preference_model_returns_match_reward_net():
    rng = np.random.default_rng(0)
    net = _net()
    pairs = [(_traj(rng, 5), _traj(rng, 8)), (_traj(rng, 5), _traj(rng, 3))]
    model = pc.PreferenceModel(net, discount_factor=0.9).eval()
    with th.no_grad():
        returns = model.returns(pairs).numpy()
    for i, pair in enumerate(pairs):
        for j, frag in enumerate(pair):
            done = np.zeros(len(frag), dtype=bool)
            done[-1] = frag.terminal
            rew = net.predict(frag.obs[:-1], frag.acts, frag.obs[1:], done)
            expected = rew @ (0.9 ** np.arange(len(frag)))
            np.testing.assert_allclose(returns[i, j], expected, rtol=1e-5)
    # Equal-length batches take the reshape path; it agrees with the general one.
    same = [(pairs[0][0], pairs[1][0])]
    with th.no_grad():
        np.testing.assert_allclose(
            model.returns(same).numpy()[0], [returns[0, 0], returns[1, 0]], rtol=1e-5
        )
    noisy = pc.PreferenceModel(net, noise_prob=0.2)
    probs, gt_probs = noisy(pairs)
    assert ((probs >= 0.1) & (probs <= 0.9)).all()
    assert gt_probs is not None and gt_probs.shape == (2,)


def test_preference_model_validates_and_handles_ensembles():
    with pytest.raises(ValueError, match="noise_prob"):
        pc.PreferenceModel(_net(), noise_prob=1.0)
    with pytest.raises(ValueError, match="discount_factor"):
        pc.PreferenceModel(_net(), discount_factor=0.0)
    ensemble = RewardEnsemble(OBS_SPACE, ACT_SPACE, [_net(), _net(), _net()])
    model = pc.PreferenceModel(ensemble)
    pairs = _pairs(np.random.default_rng(0), 4)
    probs, _ = model(pairs)
    assert probs.shape == (4, 3)
    result = pc.CrossEntropyRewardLoss()(pairs, np.ones(4), model)
    assert result.loss.shape == ()
    assert set(result.metrics) == {"loss", "accuracy", "gt_reward_loss"}


def test_cross_entropy_loss_is_stable_and_correct():
    rng = np.random.default_rng(0)
    net = _net()
    model = pc.PreferenceModel(net, threshold=1e6)
    pairs = _pairs(rng, 6)
    prefs = np.array([1, 0, 0.5, 1, 0, 1], dtype=np.float32)
    result = pc.CrossEntropyRewardLoss()(pairs, prefs, model)
    probs, _ = model(pairs)
    expected = -(
        th.as_tensor(prefs) * th.log(probs)
        + (1 - th.as_tensor(prefs)) * th.log(1 - probs)
    ).mean()
    th.testing.assert_close(result.loss, expected)
    # Huge true return differences: the clipped loss stays finite.
    far = [(_traj(rng, 10), dataclass_with_rews(_traj(rng, 10), 1e4)) for _ in range(2)]
    clipped = pc.PreferenceModel(net)
    result = pc.CrossEntropyRewardLoss()(far, np.array([1.0, 1.0]), clipped)
    assert th.isfinite(result.loss)
    assert result.metrics["gt_reward_loss"] > 10  # the true reward strongly disagrees


def dataclass_with_rews(traj, value):
    return types.TrajectoryWithRew(
        obs=traj.obs,
        acts=traj.acts,
        infos=None,
        terminal=traj.terminal,
        rews=np.full(len(traj), value),
    )


# --- Trainers -----------------------------------------------------------------------


def _dataset(rng, n=40):
    pairs = _pairs(rng, n)
    dataset = pc.PreferenceDataset()
    dataset.push(pairs, pc.SyntheticGatherer(sample=False)(pairs))
    return dataset


def test_basic_trainer_is_deterministic_and_logs_epochs():
    def run():
        th.manual_seed(0)
        net = _net()
        custom_logger = _quiet()
        trainer = pc.BasicRewardTrainer(
            pc.PreferenceModel(net),
            pc.CrossEntropyRewardLoss(),
            rng=np.random.default_rng(0),
            batch_size=8,
            minibatch_size=3,
            epochs=2,
            custom_logger=custom_logger,
        )
        metrics = trainer.train(
            _dataset(np.random.default_rng(0)), epoch_multiplier=1.5
        )
        return net, metrics, custom_logger

    net1, metrics1, logged = run()
    net2, metrics2, _ = run()
    for p1, p2 in zip(net1.parameters(), net2.parameters()):
        th.testing.assert_close(p1, p2)
    assert metrics1 == metrics2
    # One key per metric, averaged over the 2 epochs x 1.5 = 3 epochs.
    assert set(logged.name_to_value) == {
        f"{kind}/{metric}"
        for kind in ("train", "final/train")
        for metric in ("loss", "accuracy", "gt_reward_loss")
    }
    assert logged.name_to_count["train/loss"] == 3
    assert logged.name_to_value["final/train/loss"] == metrics1["loss"]


class _DumpedRows(sb3_logger.KVWriter):
    """Keeps the keys of every dump."""

    def __init__(self):
        self.dumps: list[list[str]] = []

    def write(self, key_values, key_excluded, step=0):
        self.dumps.append(list(key_values))


def test_first_reward_training_logs_one_row_per_metric(tmp_path):
    """600 epochs (3 x the initial multiplier 200) dump a handful of rows."""
    rng = np.random.default_rng(0)
    rows = _DumpedRows()
    custom_logger = logger.HierarchicalLogger(tmp_path, [rows], format_strs=[])
    net = _net()
    trainer = pc.PreferenceComparisons(
        pc.TrajectoryDataset([_traj(rng) for _ in range(4)], rng=rng),
        net,
        num_iterations=1,
        reward_trainer=pc.BasicRewardTrainer(
            pc.PreferenceModel(net), pc.CrossEntropyRewardLoss(), rng=rng, epochs=3
        ),
        fragment_length=5,
        initial_comparison_frac=0.5,
        initial_epoch_multiplier=200,
        custom_logger=custom_logger,
        rng=rng,
    )
    trainer.train(total_timesteps=0, total_comparisons=8, progress_bar=False)
    (dump,) = rows.dumps
    reward_rows = sorted(key for key in dump if key.startswith("mean/reward/"))
    assert reward_rows == sorted(
        f"mean/reward/{kind}/{metric}"
        for kind in ("train", "final/train")
        for metric in ("loss", "accuracy", "gt_reward_loss")
    )
    # One row per epoch and metric were 1,800 rows (600 epochs x 3 metrics);
    # everything else in the dump is a handful more.
    assert len(dump) < 20


def test_trainer_with_regularizer_validates():
    custom_logger = _quiet()
    factory = regularizers.LpRegularizer.create(
        initial_lambda=0.1,
        lambda_updater=updaters.IntervalParamScaler(0.5, (0.9, 1.1)),
        val_split=0.25,
        p=2,
    )
    trainer = pc.BasicRewardTrainer(
        pc.PreferenceModel(_net()),
        pc.CrossEntropyRewardLoss(),
        rng=np.random.default_rng(0),
        custom_logger=custom_logger,
        regularizer_factory=factory,
    )
    trainer.train(_dataset(np.random.default_rng(0)))
    assert "final/val/loss" in custom_logger.name_to_value
    replacement = _quiet()
    trainer.logger = replacement
    assert trainer.regularizer is not None
    assert trainer.regularizer.logger is replacement
    with pytest.raises(ValueError, match="minibatch_size"):
        pc.BasicRewardTrainer(
            pc.PreferenceModel(_net()),
            pc.CrossEntropyRewardLoss(),
            rng=np.random.default_rng(0),
            batch_size=4,
            minibatch_size=8,
        )
    with pytest.raises(ValueError, match="empty"):
        trainer.train(pc.PreferenceDataset())


def test_weight_decay_shrinks_weights_like_the_decay_regularizer():
    def train(**kwargs):
        th.manual_seed(0)
        net = _net()
        pc.BasicRewardTrainer(
            pc.PreferenceModel(net),
            pc.CrossEntropyRewardLoss(),
            rng=np.random.default_rng(0),
            epochs=3,
            custom_logger=_quiet(),
            **kwargs,
        ).train(_dataset(np.random.default_rng(0)))
        return th.cat([p.detach().reshape(-1) for p in net.parameters()])

    plain = train()
    decayed = train(weight_decay=20.0)
    assert decayed.norm() < 0.95 * plain.norm()
    # Decoupled decay: the same steps as the weight-decay regulariser (up to
    # rounding, which Adam's normalised steps can amplify slightly).
    regularized = train(
        regularizer_factory=regularizers.WeightDecayRegularizer.create(
            initial_lambda=20.0
        )
    )
    th.testing.assert_close(decayed, regularized, rtol=0.0, atol=5e-3)
    with pytest.raises(ValueError, match="weight_decay"):
        pc.BasicRewardTrainer(
            pc.PreferenceModel(_net()),
            pc.CrossEntropyRewardLoss(),
            rng=np.random.default_rng(0),
            weight_decay=-1.0,
        )


def test_ensemble_trainer_members_see_different_bootstraps():
    th.manual_seed(0)
    members = [_net() for _ in range(3)]
    for m in members[1:]:
        m.load_state_dict(members[0].state_dict())
    ensemble = RewardEnsemble(OBS_SPACE, ACT_SPACE, members)
    trainer = pc.EnsembleTrainer(
        pc.PreferenceModel(ensemble),
        pc.CrossEntropyRewardLoss(),
        rng=np.random.default_rng(0),
        epochs=2,
        custom_logger=_quiet(),
    )
    trainer.train(_dataset(np.random.default_rng(0)))
    params = [th.cat([p.flatten() for p in m.parameters()]) for m in members]
    assert not th.allclose(params[0], params[1]) and not th.allclose(
        params[1], params[2]
    )


# --- The algorithm's arguments and schedule ---------------------------------------


def _trainer(rng, **kwargs):
    trajs = [_traj(rng, length=20) for _ in range(4)]
    kwargs = {
        "num_iterations": 5,
        "fragment_length": 10,
        "initial_epoch_multiplier": 2,
        "rng": rng,
        **kwargs,
    }
    return pc.PreferenceComparisons(
        pc.TrajectoryDataset(trajs, rng=rng),
        _net(),
        custom_logger=_quiet(),
        **kwargs,
    )


def test_query_schedules():
    rng = np.random.default_rng(0)
    assert _trainer(rng).comparison_schedule(200) == [20, 51, 41, 34, 29, 25]
    assert _trainer(rng, query_schedule="constant").comparison_schedule(100) == [
        10,
        18,
        18,
        18,
        18,
        18,
    ]
    quad = _trainer(rng, query_schedule="inverse_quadratic").comparison_schedule(100)
    assert sum(quad) == 100 and quad[1] > quad[2] > quad[3] > quad[4] > quad[5]
    custom = _trainer(rng, query_schedule=lambda t: float(t == 1.0))
    assert custom.comparison_schedule(50) == [5, 0, 0, 0, 0, 45]
    assert set(pc.QUERY_SCHEDULES) == {"constant", "hyperbolic", "inverse_quadratic"}
    with pytest.raises(ValueError, match="query_schedule"):
        _trainer(rng, query_schedule="linear")
    with pytest.raises(ValueError, match="non-negative"):
        _trainer(rng, query_schedule=lambda t: -1.0).comparison_schedule(10)


def test_zero_comparisons_and_bad_arguments_raise():
    rng = np.random.default_rng(0)
    trainer = _trainer(rng)
    with pytest.raises(ValueError, match="total_comparisons=0"):
        trainer.train(total_timesteps=0, total_comparisons=0)
    with pytest.raises(ValueError, match="total_timesteps"):
        trainer.train(total_timesteps=-1, total_comparisons=5)
    for kwargs, match in (
        ({"num_iterations": 0}, "num_iterations"),
        ({"fragment_length": 0}, "fragment_length"),
        ({"initial_comparison_frac": 1.0}, "initial_comparison_frac"),
        ({"transition_oversampling": 0}, "transition_oversampling"),
    ):
        with pytest.raises(ValueError, match=match):
            _trainer(rng, **kwargs)
    with pytest.raises(ValueError, match="rng"):
        pc.PreferenceComparisons(
            pc.TrajectoryDataset([_traj(rng)], rng=rng), _net(), num_iterations=1
        )
    other = pc.BasicRewardTrainer(
        pc.PreferenceModel(_net()), pc.CrossEntropyRewardLoss(), rng=rng
    )
    with pytest.raises(ValueError, match="different reward net"):
        _trainer(rng, reward_trainer=other)


def test_variable_horizon_detected():
    rng = np.random.default_rng(0)
    trajs = [_traj(rng, length=20), _traj(rng, length=30)]
    kwargs = dict(
        num_iterations=1,
        fragment_length=10,
        initial_epoch_multiplier=2,
        rng=rng,
        custom_logger=_quiet(),
    )
    trainer = pc.PreferenceComparisons(
        pc.TrajectoryDataset(trajs, rng=rng), _net(), **kwargs
    )
    with pytest.raises(ValueError, match="Episodes of different lengths"):
        trainer.train(total_timesteps=0, total_comparisons=10)
    allowed = pc.PreferenceComparisons(
        pc.TrajectoryDataset(trajs, rng=rng),
        _net(),
        allow_variable_horizon=True,
        **kwargs,
    )
    allowed.train(total_timesteps=0, total_comparisons=10)
    assert len(allowed.dataset) == 10


def test_comparison_queue_size_bounds_the_dataset():
    rng = np.random.default_rng(0)
    trainer = _trainer(rng, comparison_queue_size=12)
    trainer.train(total_timesteps=0, total_comparisons=40)
    assert len(trainer.dataset) == 12


def test_components_need_a_generator_rng_and_vec_env():
    rng = np.random.default_rng(0)
    match = r"rng must be a numpy Generator, e\.g\. np\.random\.default_rng"
    pairs_model = pc.PreferenceModel(_net())
    for make in (
        lambda: pc.RandomFragmenter(rng=0),
        lambda: pc.SyntheticGatherer(rng=np.random.RandomState(0)),
        lambda: pc.BasicRewardTrainer(pairs_model, pc.CrossEntropyRewardLoss(), rng=1),
        lambda: pc.TrajectoryDataset([_traj(rng)], rng=7),
        lambda: pc.PreferenceComparisons(
            pc.TrajectoryDataset([_traj(rng)], rng=rng), _net(), 1, rng=3
        ),
    ):
        with pytest.raises(TypeError, match=match):
            make()
    venv = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
    agent = PPO("MlpPolicy", venv, n_steps=64, batch_size=64)
    with pytest.raises(TypeError, match=match):
        pc.AgentTrainer(agent, _net_for(venv), venv, rng=0)
    env = gym.make("Pendulum-v1")
    with pytest.raises(TypeError, match=r"venv must be a vectorised.*plain gym.Env"):
        pc.AgentTrainer(agent, _net_for(venv), env, rng=rng)


def _saved_dataset(path, rng):
    dataset = pc.PreferenceDataset()
    dataset.push(_pairs(rng, 3), np.array([0.0, 1.0, 0.5]))
    dataset.save(path)
    return dataset


@pytest.mark.parametrize(
    "name", ["fragments1.npz", "fragments2.npz", "preferences.npy", "metadata.json"]
)
@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.95])
def test_truncated_preference_dataset_file(tmp_path, name, fraction):
    _saved_dataset(tmp_path / "prefs", np.random.default_rng(0))
    file = tmp_path / "prefs" / name
    data = file.read_bytes()
    file.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(
        ValueError,
        match=rf"{re.escape(str(file))} is truncated or corrupt .*PreferenceDataset "
        rf"in {re.escape(str(tmp_path / 'prefs'))} cannot be loaded.*"
        r"PreferenceDataset\.save",
    ):
        pc.PreferenceDataset.load(tmp_path / "prefs")


def test_preference_dataset_load_recovers_interrupted_save(tmp_path):
    """A save killed between its two renames is completed by the next load."""
    rng = np.random.default_rng(0)
    _saved_dataset(tmp_path / "prefs", rng)
    newer = _saved_dataset(tmp_path / "newer", rng)
    # What a save without renameat2 leaves when killed between its renames.
    tmp_dir = tmp_path / ".prefs.x1y2z3w4.tmp"
    tmp_dir.mkdir()
    (tmp_path / "prefs").rename(tmp_dir / "prefs.old")
    (tmp_path / "newer").rename(tmp_dir / "prefs")
    loaded = pc.PreferenceDataset.load(tmp_path / "prefs")
    np.testing.assert_array_equal(loaded.preferences, newer.preferences)
    assert all(a == b for a, b in zip(loaded.fragments1, newer.fragments1))
    assert [p.name for p in tmp_path.iterdir()] == ["prefs"]


def test_get_base_model_unwraps_every_wrapper():
    from imitation.rewards import reward_nets

    base = _net()
    assert pc.get_base_model(base) is base
    shaped = reward_nets.ShapedRewardNet(
        base, reward_nets.BasicPotentialMLP(OBS_SPACE, hid_sizes=(4,)), 0.99
    )
    normalized = reward_nets.NormalizedRewardNet(shaped, RunningNorm)
    assert pc.get_base_model(normalized) is base
    ensemble = RewardEnsemble(OBS_SPACE, ACT_SPACE, [_net(), _net()])
    wrapped = reward_nets.AddSTDRewardWrapper(ensemble)
    assert pc.get_base_model(wrapped) is ensemble


def test_preference_collate_fn_batches_a_dataset():
    rng = np.random.default_rng(0)
    dataset = _dataset(rng, n=10)
    loader = th.utils.data.DataLoader(
        dataset, batch_size=4, collate_fn=pc.preference_collate_fn
    )
    batches = list(loader)
    assert [len(pairs) for pairs, _ in batches] == [4, 4, 2]
    pairs, prefs = batches[0]
    assert prefs.dtype == np.float32 and prefs.shape == (4,)
    np.testing.assert_array_equal(prefs, dataset.preferences[:4])
    assert pairs[1][0] is dataset.fragments1[1]
    assert pairs[1][1] is dataset.fragments2[1]


def test_preference_collate_fn_checks_preferences():
    pair = (_traj(np.random.default_rng(0)), _traj(np.random.default_rng(1)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        pc.preference_collate_fn([(pair, 1.5)])
    pairs, prefs = pc.preference_collate_fn([])
    assert pairs == [] and prefs.shape == (0,)
