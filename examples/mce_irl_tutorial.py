"""Tutorial: learn a reward function with Maximum Causal Entropy IRL.

Reproduces the documentation's MCE IRL example and tutorial on CliffWorld:
the expert is the soft-optimal policy for the true reward, and MCE IRL learns
a reward on (x, y) coordinates from its analytic occupancy measure or from
10 sampled trajectories. A linear reward cannot fit; one hidden layer of 256
units can. Instead of showing the figures, the script writes them as PNG
files (learned vs true occupancy and reward) to the working directory.

Run: ``python examples/mce_irl_tutorial.py`` (``--fast`` for a tiny budget).
"""

import argparse
from functools import partial

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch as th  # noqa: E402
from seals import base_envs  # noqa: E402
from seals.diagnostics.cliff_world import CliffWorldEnv  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv  # noqa: E402

from imitation.algorithms.mce_irl import (  # noqa: E402
    MCEIRL,
    TabularPolicy,
    mce_occupancy_measures,
    mce_partition_fh,
)
from imitation.data import rollout  # noqa: E402
from imitation.rewards import reward_nets  # noqa: E402
from imitation.util import plotting  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--fast", action="store_true")
FAST = parser.parse_args().fast
MAX_ITER = 20 if FAST else 1000
MIN_TIMESTEPS = 500 if FAST else 5000

# The API documentation's example: horizon 8, analytic occupancy measure.
rng = np.random.default_rng(0)
env_creator = partial(CliffWorldEnv, height=4, horizon=8, width=7, use_xy_obs=True)
env_single = env_creator()
state_env_creator = lambda: base_envs.ExposePOMDPStateWrapper(env_creator())  # noqa: E731
# This is just a vectorized environment because `generate_trajectories` expects one
state_venv = DummyVecEnv([state_env_creator] * 4)
_, _, pi = mce_partition_fh(env_single)
_, om = mce_occupancy_measures(env_single, pi=pi)
reward_net = reward_nets.BasicRewardNet(
    env_single.observation_space,
    env_single.action_space,
    hid_sizes=[256],
    use_action=False,
    use_done=False,
    use_next_state=False,
)
mce_irl = MCEIRL(
    om,
    env_single,
    reward_net,
    log_interval=250,
    optimizer_kwargs={"lr": 0.01},
    rng=rng,
)
occ_measure = mce_irl.train(max_iter=MAX_ITER)
imitation_trajs = rollout.generate_trajectories(
    policy=mce_irl.policy,
    venv=state_venv,
    sample_until=rollout.make_min_timesteps(MIN_TIMESTEPS),
    rng=rng,
)
print("Imitation stats: ", rollout.rollout_stats(imitation_trajs))

# The tutorial: horizon 40.
env_creator = partial(CliffWorldEnv, height=4, horizon=40, width=7, use_xy_obs=True)
env_single = env_creator()
state_env_creator = lambda: base_envs.ExposePOMDPStateWrapper(env_creator())  # noqa: E731
state_venv = DummyVecEnv([state_env_creator] * 4)

# An expert from Bellman backups; its exact occupancy measure; sampled demos.
_, _, pi = mce_partition_fh(env_single)
_, om = mce_occupancy_measures(env_single, pi=pi)
rng = np.random.default_rng()
expert = TabularPolicy(
    state_space=env_single.state_space,
    action_space=env_single.action_space,
    pi=pi,
    rng=rng,
)
expert_trajs = rollout.generate_trajectories(
    policy=expert,
    venv=state_venv,
    sample_until=rollout.make_min_timesteps(5000),
    rng=rng,
)
print("Expert stats: ", rollout.rollout_stats(expert_trajs))


def train_mce_irl(demos, hidden_sizes, lr=0.01, name="run", **kwargs):
    reward_net = reward_nets.BasicRewardNet(
        env_single.observation_space,
        env_single.action_space,
        hid_sizes=hidden_sizes,
        use_action=False,
        use_done=False,
        use_next_state=False,
    )
    mce_irl = MCEIRL(
        demos,
        env_single,
        reward_net,
        log_interval=250,
        optimizer_kwargs=dict(lr=lr),
        rng=rng,
    )
    occ_measure = mce_irl.train(**kwargs)
    imitation_trajs = rollout.generate_trajectories(
        policy=mce_irl.policy,
        venv=state_venv,
        sample_until=rollout.make_min_timesteps(MIN_TIMESTEPS),
        rng=rng,
    )
    print("Imitation stats: ", rollout.rollout_stats(imitation_trajs))

    # The tutorial's figures, drawn with seals' own gridworld plot (left open:
    # the documentation's tutorial page shows them)...
    plt.figure(figsize=(10, 5))
    plt.subplot(1, 2, 1)
    env_single.draw_value_vec(occ_measure)
    plt.title("Occupancy for learned reward")
    plt.subplot(1, 2, 2)
    _, true_occ_measure = mce_occupancy_measures(env_single)
    env_single.draw_value_vec(true_occ_measure)
    plt.title("Occupancy for true reward")

    # ...and written to PNG files with imitation's plotting helper.
    height, width = env_single.height, env_single.width
    learned_reward = (
        reward_net(th.as_tensor(env_single.observation_matrix), None, None, None)
        .detach()
        .numpy()
    )
    plotting.save_value_comparison(
        f"mce_irl_{name}_occupancy.png",
        [
            ("Occupancy for learned reward", occ_measure),
            ("Occupancy for true reward", true_occ_measure),
        ],
        height,
        width,
    )
    plotting.save_value_comparison(
        f"mce_irl_{name}_reward.png",
        [("Learned reward", learned_reward), ("True reward", env_single.reward_matrix)],
        height,
        width,
    )
    return mce_irl


# A linear reward cannot fit the data...
train_mce_irl(om, hidden_sizes=[], name="linear", max_iter=MAX_ITER)
# ...one hidden layer can, from the analytic occupancy measure...
train_mce_irl(om, hidden_sizes=[256], name="mlp_om", max_iter=MAX_ITER)
# ...and from 10 sampled expert trajectories.
mce_irl_from_trajs = train_mce_irl(
    expert_trajs[0:10], hidden_sizes=[256], name="mlp_trajs", max_iter=MAX_ITER
)
