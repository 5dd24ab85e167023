"""Tests for imitation.algorithms.adversarial (GAIL, AIRL)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3 import DQN, PPO, SAC, TD3

from imitation.algorithms.adversarial.airl import AIRL
from imitation.algorithms.adversarial.gail import GAIL
from imitation.data import rollout, types
from imitation.policies.base import NormalizeFeaturesExtractor
from imitation.policies.replay_buffer_wrapper import ReplayBufferRewardWrapper
from imitation.rewards.reward_nets import BasicRewardNet, BasicShapedRewardNet
from imitation.rewards.reward_wrapper import RewardVecEnvWrapper
from imitation.util import logger
from imitation.util.networks import RunningNorm
from imitation.util.util import make_vec_env

STAT_KEYS = {
    "disc_loss",
    "disc_acc",
    "disc_acc_expert",
    "disc_acc_gen",
    "disc_entropy",
    "disc_proportion_expert_pred",
    "disc_proportion_expert_true",
    "n_expert",
    "n_generated",
}


@pytest.fixture
def cartpole(rng):
    venv = make_vec_env("seals:seals/CartPole-v0", rng=rng, n_envs=4)
    yield venv
    venv.close()


def _trainer(cls, venv, demos, net_cls=BasicRewardNet, demo_batch_size=256, **kwargs):
    learner = PPO(
        "MlpPolicy", venv, n_steps=128, batch_size=128, n_epochs=2, device="cpu", seed=0
    )
    reward_net = net_cls(
        venv.observation_space, venv.action_space, normalize_input_layer=RunningNorm
    )
    return cls(
        demonstrations=demos,
        demo_batch_size=demo_batch_size,
        venv=venv,
        gen_algo=learner,
        reward_net=reward_net,
        custom_logger=logger.configure(format_strs=[]),
        **kwargs,
    )


def _random_transitions(venv, rng, n):
    trajs = rollout.generate_trajectories(
        None, venv, rollout.make_min_timesteps(n), rng=rng
    )
    flat = rollout.flatten_trajectories(trajs)
    idx = rng.permutation(len(flat))[:n]
    return flat[idx]


@pytest.mark.parametrize(
    ("cls", "net_cls", "disc_steps"),
    # AIRL's logit starts at -log pi(a|s) > 0 (everything looks expert), so
    # it needs more steps before the reward term separates the two.
    [(GAIL, BasicRewardNet, 30), (AIRL, BasicShapedRewardNet, 150)],
)
def test_discriminator_separates_expert_from_random(
    cls, net_cls, disc_steps, cartpole, cartpole_expert_trajectories, rng
):
    th.manual_seed(0)
    trainer = _trainer(cls, cartpole, cartpole_expert_trajectories, net_cls)
    trainer.train(trainer.gen_train_timesteps * 2)
    expert = rollout.flatten_trajectories(list(cartpole_expert_trajectories))
    expert = expert[rng.permutation(len(expert))[:256]]
    random = _random_transitions(cartpole, rng, 256)
    batch = {
        "expert_samples": {
            k: getattr(expert, k) for k in ("obs", "acts", "next_obs", "dones")
        },
        "gen_samples": {
            k: getattr(random, k) for k in ("obs", "acts", "next_obs", "dones")
        },
    }
    for _ in range(disc_steps):
        stats = trainer.train_disc(**batch)
    assert set(stats) == STAT_KEYS
    assert stats["disc_acc"] > 0.9
    expert_rew = trainer.reward_test.predict(
        expert.obs, expert.acts, expert.next_obs, expert.dones
    )
    random_rew = trainer.reward_test.predict(
        random.obs, random.acts, random.next_obs, random.dones
    )
    assert expert_rew.mean() > random_rew.mean()


def test_airl_reward_test_is_unshaped(cartpole, cartpole_expert_trajectories):
    trainer = _trainer(
        AIRL, cartpole, cartpole_expert_trajectories, BasicShapedRewardNet
    )
    shaped = trainer.reward_train.base
    assert isinstance(shaped, BasicShapedRewardNet)
    assert trainer.reward_test is shaped.base


def test_airl_generator_reward_is_minus_log_one_minus_d(
    cartpole, cartpole_expert_trajectories
):
    """The generator's reward is softplus(f - log pi) = -log(1 - D)."""
    trainer = _trainer(AIRL, cartpole, cartpole_expert_trajectories)
    batch = cartpole_expert_trajectories[0]
    obs, acts = batch.obs[:-1], batch.acts
    next_obs, dones = batch.obs[1:], np.zeros(len(acts), dtype=bool)
    f = trainer.reward_train.base.predict(obs, acts, next_obs, dones)
    with th.no_grad():
        dist = trainer.policy.get_distribution(th.as_tensor(np.array(obs)))
        log_pi = dist.log_prob(th.as_tensor(np.array(acts))).numpy()
    d = 1 / (1 + np.exp(-(f - log_pi)))
    np.testing.assert_allclose(
        trainer.reward_train.predict_processed(obs, acts, next_obs, dones),
        -np.log(1 - d),
        rtol=1e-4,
    )
    state, action, next_state, done = trainer.reward_train.preprocess(
        obs, acts, next_obs, dones
    )
    with pytest.raises(TypeError, match="log-probabilities"):
        trainer.reward_train(state, action, next_state, done)


def test_airl_discriminator_leaves_the_policy_normaliser_alone(
    cartpole, cartpole_expert_trajectories
):
    """log pi for the discriminator must not feed the policy's RunningNorm.

    SB3 leaves the policy in training mode after ``learn``; evaluated there,
    a ``NormalizeFeaturesExtractor`` would fold every discriminator batch
    (half expert observations) into the statistics the generator acts with.
    """
    learner = PPO(
        "MlpPolicy",
        cartpole,
        n_steps=128,
        batch_size=128,
        n_epochs=2,
        device="cpu",
        seed=0,
        policy_kwargs=dict(features_extractor_class=NormalizeFeaturesExtractor),
    )
    trainer = AIRL(
        demonstrations=cartpole_expert_trajectories,
        demo_batch_size=256,
        venv=cartpole,
        gen_algo=learner,
        reward_net=BasicShapedRewardNet(
            cartpole.observation_space, cartpole.action_space
        ),
        custom_logger=logger.configure(format_strs=[]),
    )
    trainer.train_gen()
    assert trainer.policy.training  # where SB3's train() leaves it
    norm = trainer.policy.features_extractor.normalize
    before = {k: v.clone() for k, v in norm.state_dict().items()}
    trainer.train_disc()
    for key, value in norm.state_dict().items():
        assert th.equal(value, before[key]), key
    assert trainer.policy.training  # and its mode is restored


def test_airl_refuses_deterministic_policy(rng, cartpole_expert_trajectories):
    venv = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
    td3 = TD3("MlpPolicy", venv, device="cpu")
    net = BasicShapedRewardNet(venv.observation_space, venv.action_space)
    with pytest.raises(TypeError, match="stochastic"):
        AIRL(
            demonstrations=cartpole_expert_trajectories,
            demo_batch_size=8,
            venv=venv,
            gen_algo=td3,
            reward_net=net,
        )


def test_off_policy_generator(rng):
    venv = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
    demos = rollout.generate_trajectories(
        None, venv, rollout.make_min_episodes(2), rng=rng
    )
    sac = SAC("MlpPolicy", venv, learning_starts=50, device="cpu")
    net = BasicShapedRewardNet(venv.observation_space, venv.action_space)
    kwargs = dict(
        demonstrations=demos,
        demo_batch_size=32,
        venv=venv,
        gen_algo=sac,
        reward_net=net,
    )
    trainer = AIRL(
        **kwargs,
        gen_train_timesteps=100,
        custom_logger=logger.configure(format_strs=[]),
    )
    trainer.train(200)
    assert trainer._gen_replay_buffer.size() > 0
    # SAC's replayed rewards are recomputed with the current reward net.
    replay = sac.replay_buffer
    assert isinstance(replay, ReplayBufferRewardWrapper) and replay.size() == 200
    sample = replay.sample(16)
    expected = trainer.reward_train.predict_processed(
        sample.observations.numpy(),
        sac.policy.unscale_action(sample.actions.numpy()),
        sample.next_observations.numpy(),
        sample.dones.numpy().reshape(-1),
    )
    np.testing.assert_allclose(sample.rewards.numpy().reshape(-1), expected, rtol=1e-5)
    used = SAC("MlpPolicy", venv, learning_starts=10, device="cpu", seed=0)
    used.learn(20)
    with pytest.raises(ValueError, match="fresh off-policy generator"):
        AIRL(**{**kwargs, "gen_algo": used}, gen_train_timesteps=100)


def test_off_policy_default_round_is_one_discriminator_batch(
    cartpole, cartpole_expert_trajectories
):
    # As in the original, an off-policy generator needs no gen_train_timesteps:
    # a round defaults to demo_batch_size steps, rounded up to whole vec steps.
    dqn = DQN("MlpPolicy", cartpole, learning_starts=10, device="cpu", seed=0)
    trainer = GAIL(
        demonstrations=cartpole_expert_trajectories,
        demo_batch_size=30,
        venv=cartpole,
        gen_algo=dqn,
        reward_net=BasicRewardNet(cartpole.observation_space, cartpole.action_space),
        custom_logger=logger.configure(format_strs=[]),
    )
    assert trainer.gen_train_timesteps == 32  # 4 envs x 8 steps
    trainer.train(2 * trainer.gen_train_timesteps)
    assert dqn.num_timesteps == 64
    assert trainer._gen_replay_buffer.size() == 32


def test_generator_schedules_run_once_over_the_rounds(
    cartpole, cartpole_expert_trajectories
):
    learner = PPO(
        "MlpPolicy",
        cartpole,
        n_steps=128,
        batch_size=128,
        n_epochs=1,
        learning_rate=lambda progress: 1e-3 * progress,
        device="cpu",
        seed=0,
    )
    trainer = GAIL(
        demonstrations=cartpole_expert_trajectories,
        demo_batch_size=256,
        venv=cartpole,
        gen_algo=learner,
        reward_net=BasicRewardNet(cartpole.observation_space, cartpole.action_space),
        custom_logger=logger.configure(format_strs=[]),
    )
    learning_rates = []

    def after_round(_: int) -> None:
        learning_rates.append(trainer.gen_algo.policy.optimizer.param_groups[0]["lr"])

    trainer.train(4 * trainer.gen_train_timesteps, callback=after_round)
    np.testing.assert_allclose(learning_rates, [7.5e-4, 5e-4, 2.5e-4, 0.0], atol=1e-9)


def test_bad_arguments(cartpole, cartpole_expert_trajectories):
    with pytest.raises(ValueError, match="multiple of"):
        _trainer(GAIL, cartpole, cartpole_expert_trajectories, demo_minibatch_size=100)
    trainer = _trainer(GAIL, cartpole, cartpole_expert_trajectories)
    with pytest.raises(ValueError, match="less than one round"):
        trainer.train(10)
    with pytest.raises(RuntimeError, match="train_gen"):
        trainer.train_disc()


def _shorten(traj):
    return types.TrajectoryWithRew(
        obs=traj.obs[:-1],
        acts=traj.acts[:-1],
        infos=None if traj.infos is None else traj.infos[:-1],
        terminal=traj.terminal,
        rews=traj.rews[:-1],
    )


def test_bad_demonstrations(cartpole, cartpole_expert_trajectories, rng):
    demos = list(cartpole_expert_trajectories)
    with pytest.raises(ValueError, match="larger than the 1000"):
        _trainer(GAIL, cartpole, demos[:2], demo_batch_size=1024)
    with pytest.raises(ValueError, match="variable horizon|different lengths"):
        _trainer(GAIL, cartpole, [demos[0], _shorten(demos[1])] + demos[2:])
    pendulum = make_vec_env("Pendulum-v1", rng=rng, n_envs=2)
    with pytest.raises(ValueError, match="different environment"):
        _trainer(GAIL, pendulum, demos)


def test_variable_horizon_env_needs_opt_in(cartpole_expert_trajectories, rng):
    # Gymnasium's CartPole-v1 ends episodes when the pole falls.
    venv = make_vec_env("CartPole-v1", rng=rng, n_envs=4)
    demos = rollout.flatten_trajectories(list(cartpole_expert_trajectories))
    trainer = _trainer(GAIL, venv, demos)
    with pytest.raises(ValueError, match="allow_variable_horizon"):
        trainer.train_gen()
    trainer = _trainer(GAIL, venv, demos, allow_variable_horizon=True)
    trainer.train_gen()


def test_minibatches_and_ground_truth(cartpole, cartpole_expert_trajectories):
    trainer = _trainer(
        GAIL,
        cartpole,
        cartpole_expert_trajectories,
        demo_minibatch_size=64,
        debug_use_ground_truth=True,
    )
    trainer.train(trainer.gen_train_timesteps)
    stats = trainer.train_disc()
    assert stats["n_expert"] == 256 and stats["n_generated"] == 256
    assert trainer.venv_wrapped is trainer.venv_buffering


def test_batched_rollout_rewards_match_per_step_rewards(cartpole_expert_trajectories):
    """The generator's rollout gets its rewards in one batch at the rollout's end.

    The rollout buffer must end up exactly as if each step had been rewarded
    as it happened, including SB3's bootstrap at the time-limit truncations
    (episodes of 500 steps end inside the second rollout of 384 steps).
    """

    def make_ppo():
        venv = make_vec_env(
            "seals:seals/CartPole-v0", rng=np.random.default_rng(0), n_envs=2
        )
        return PPO("MlpPolicy", venv, n_steps=384, batch_size=64, n_epochs=1, seed=0)

    batched, per_step = make_ppo(), make_ppo()
    net = BasicRewardNet(
        batched.observation_space,
        batched.action_space,
        normalize_input_layer=RunningNorm,
    )
    trainer = GAIL(
        demonstrations=cartpole_expert_trajectories,
        demo_batch_size=64,
        venv=batched.get_env(),
        gen_algo=batched,
        reward_net=net,
        custom_logger=logger.configure(format_strs=[]),
    )
    with th.no_grad():  # a non-trivial reward (the net is otherwise near 0)
        for param in net.parameters():
            param.normal_(generator=th.Generator().manual_seed(0))
    per_step.set_env(
        RewardVecEnvWrapper(per_step.get_env(), trainer.reward_train.predict_processed)
    )
    for train in (lambda: trainer.train_gen(768), lambda: per_step.learn(768)):
        th.manual_seed(1)  # the same action samples in both runs
        train()
    a, b = batched.rollout_buffer, per_step.rollout_buffer
    np.testing.assert_array_equal(a.actions, b.actions)  # the same rollout
    assert a.episode_starts.any()  # truncations happened in this rollout
    for field in ("rewards", "returns", "advantages"):
        np.testing.assert_allclose(
            getattr(a, field), getattr(b, field), rtol=1e-4, atol=1e-4
        )
    assert np.abs(a.rewards).mean() > 0.1
    venv_train = trainer.venv_train
    venv_train.reset()  # outside train_gen, the env's rewards are real again
    assert venv_train.step(np.zeros(2, dtype=int))[1].any()


@pytest.mark.parametrize("cls", [GAIL, AIRL])
def test_plain_env_and_bad_arguments_are_explained(
    cls, cartpole, cartpole_expert_trajectories
):
    learner = PPO("MlpPolicy", cartpole, n_steps=128, batch_size=128, device="cpu")
    kwargs = dict(
        demonstrations=cartpole_expert_trajectories,
        demo_batch_size=64,
        venv=cartpole,
        gen_algo=learner,
        reward_net=BasicRewardNet(cartpole.observation_space, cartpole.action_space),
        custom_logger=logger.configure(format_strs=[]),
    )
    env = gym.make("seals:seals/CartPole-v0")
    with pytest.raises(
        TypeError, match=r"venv must be .*VecEnv.*plain gym.Env.*make_vec_env"
    ):
        cls(**{**kwargs, "venv": env})
    accepted = r"Demonstrations must be a sequence of Trajectory"
    with pytest.raises(TypeError, match=f"{accepted}.*required here, but got None"):
        cls(**{**kwargs, "demonstrations": None})
    with pytest.raises(TypeError, match=f"{accepted}.*got int, which is not iterable"):
        cls(**{**kwargs, "demonstrations": 3})
    with pytest.raises(TypeError, match="demo_batch_size must be a positive int"):
        cls(**{**kwargs, "demo_batch_size": "64"})
    with pytest.raises(ValueError, match="demo_minibatch_size must be a positive int"):
        cls(**{**kwargs, "demo_minibatch_size": 0})
