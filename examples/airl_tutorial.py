"""Tutorial: train an agent with Adversarial Inverse Reinforcement Learning.

Reproduces the documentation's AIRL tutorial on ``seals/CartPole-v0``. The
only change: instead of downloading ``HumanCompatibleAI/ppo-seals-CartPole-v0``
from the HuggingFace Hub, the expert bundled with imitation is loaded. The full
run trains for 300,000 env steps (the tutorial suggests 2,000,000; ours
reaches the expert's 500 sooner), then checks the recovered reward
(``reward_test``) ranks the expert's transitions above a random policy's.

Run: ``python examples/airl_tutorial.py`` (``--fast`` for a single round).
"""

import argparse

import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.ppo import MlpPolicy

from imitation.algorithms.adversarial.airl import AIRL
from imitation.data import rollout
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.policies.serialize import load_policy
from imitation.rewards.reward_nets import BasicShapedRewardNet
from imitation.util import presets
from imitation.util.networks import RunningNorm
from imitation.util.util import make_vec_env

parser = argparse.ArgumentParser()
parser.add_argument("--fast", action="store_true")
FAST = parser.parse_args().fast

SEED = 42
N_RL_TRAIN_STEPS = 20_000 if FAST else 300_000

venv = make_vec_env(
    "seals:seals/CartPole-v0",
    rng=np.random.default_rng(SEED),
    n_envs=8,
    post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],  # to compute rollouts
)
# Stand-in for load_policy("ppo-huggingface", organization="HumanCompatibleAI", ...).
expert = load_policy("bundled", venv=venv, env_name="seals-CartPole-v0")

rollouts = rollout.rollout(
    expert,
    venv,
    rollout.make_sample_until(min_timesteps=None, min_episodes=60),
    rng=np.random.default_rng(SEED),
)

# The tutorial's settings (imitation.util.presets): PPO with batch_size=64,
# ent_coef=0.0, learning_rate=5e-4, gamma=0.95, clip_range=0.1, vf_coef=0.1,
# n_epochs=5.
learner = PPO(env=venv, policy=MlpPolicy, seed=SEED, **presets.AIRL_CARTPOLE_PPO)
reward_net = BasicShapedRewardNet(
    observation_space=venv.observation_space,
    action_space=venv.action_space,
    normalize_input_layer=RunningNorm,
)
# demo_batch_size=2048, gen_replay_buffer_capacity=512, n_disc_updates_per_round=16
airl_trainer = AIRL(
    demonstrations=rollouts,
    **presets.AIRL_CARTPOLE_TRAINER,
    venv=venv,
    gen_algo=learner,
    reward_net=reward_net,
)

venv.seed(SEED)
learner_rewards_before_training, _ = evaluate_policy(
    learner, venv, 10 if FAST else 100, return_episode_rewards=True
)
airl_trainer.train(N_RL_TRAIN_STEPS)
venv.seed(SEED)
learner_rewards_after_training, _ = evaluate_policy(
    learner, venv, 10 if FAST else 100, return_episode_rewards=True
)
print("mean reward after training:", np.mean(learner_rewards_after_training))
print("mean reward before training:", np.mean(learner_rewards_before_training))

# The recovered (unshaped) reward, on expert and random transitions.
random_rollouts = rollout.rollout(
    None, venv, rollout.make_min_episodes(8), rng=np.random.default_rng(SEED)
)
for name, trajs in (("expert", rollouts[:8]), ("random", random_rollouts)):
    trans = rollout.flatten_trajectories(trajs)
    rews = airl_trainer.reward_test.predict(
        trans.obs, trans.acts, trans.next_obs, trans.dones
    )
    print(f"mean reward_test on {name} transitions: {rews.mean():.3f}")
