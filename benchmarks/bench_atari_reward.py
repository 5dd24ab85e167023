"""Preference comparisons on Atari: does the learned reward track the game score?

A ``CnnRewardNet`` learns from synthetic preferences between fragments of
Space Invaders played by a random policy (the game's score is the ground
truth: the synthetic gatherer prefers the fragment that scored more), frames
preprocessed as in the Atari tutorial (SB3's ``AtariWrapper``, 84x84 grey,
4 frames stacked; rewards not clipped). The fixed budget: ``COMPARISONS``
comparisons of ``FRAGMENT_LENGTH``-step fragments from ``TRAIN_STEPS`` steps of
play, ``EPOCHS`` epochs of reward training. Then, on ``TEST_PAIRS`` pairs of
fragments from held-out play (another environment seed), it reports the
Pearson and Spearman correlations between the learned and the true fragment
returns, and how often the learned reward prefers the better fragment (pairs
of equal score left out). Floor: the same net untrained, measured in the same
run.

Run: ``.venv/bin/python benchmarks/bench_atari_reward.py [seed ...]``
(default: seeds 0 1 2; each seed takes a few CPU minutes).
"""

from __future__ import annotations

import pathlib
import sys
import time

import ale_py
import gymnasium as gym
import numpy as np
import torch as th
from gymnasium.wrappers import TimeLimit
from scipy import stats
from seals.util import AutoResetWrapper
from stable_baselines3.common.atari_wrappers import AtariWrapper
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecEnv, VecFrameStack

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import print_table  # noqa: E402
from imitation.algorithms import preference_comparisons as pc  # noqa: E402
from imitation.data import rollout, types  # noqa: E402
from imitation.rewards.reward_nets import CnnRewardNet  # noqa: E402
from imitation.util import logger  # noqa: E402

GAME = "SpaceInvadersNoFrameskip-v4"
EPISODE_STEPS = 500  # constant-length episodes (the game resets itself)
TRAIN_STEPS = 32 * EPISODE_STEPS  # random play the training fragments come from
TEST_STEPS = 4 * EPISODE_STEPS  # held-out play, another environment seed
COMPARISONS = 600
FRAGMENT_LENGTH = 25
EPOCHS = 10
TEST_PAIRS = 500
# A small strided CNN on the next state (the 4 frames ending where the step
# lands, which show a hit alien exploding and the score changing).
NET_KWARGS = dict(
    use_state=False,
    use_action=False,
    use_next_state=True,
    hid_channels=(16, 16),
    kernel_size=4,
    stride=4,
    padding=0,
)
QUIET = logger.configure(format_strs=[])

gym.register_envs(ale_py)


def constant_length_game(num_steps: int) -> gym.Env:
    """The tutorial's environment, with the game's own (unclipped) score."""
    env = AtariWrapper(gym.make(GAME), clip_reward=False)
    return TimeLimit(AutoResetWrapper(env), max_episode_steps=num_steps)


def make_venv(seed: int, n_envs: int) -> VecEnv:
    venv = make_vec_env(
        constant_length_game,
        n_envs=n_envs,
        env_kwargs={"num_steps": EPISODE_STEPS},
        seed=seed,
    )
    return VecFrameStack(venv, n_stack=4)


def random_play(seed: int, n_steps: int) -> list[types.TrajectoryWithRew]:
    """Episodes of a uniformly random policy, frames as the policy sees them."""
    venv = make_venv(seed, n_envs=n_steps // EPISODE_STEPS)
    venv.action_space.seed(seed)
    trajs = rollout.rollout(
        None,
        venv,
        rollout.make_sample_until(min_episodes=venv.num_envs),
        rng=np.random.default_rng(seed),
        unwrap=False,
    )
    venv.close()
    return list(trajs)


def evaluate(
    net: CnnRewardNet, pairs: list, true_returns: np.ndarray
) -> tuple[float, float, float]:
    """Pearson r, Spearman rho; accuracy on pairs whose scores differ."""
    model = pc.PreferenceModel(net)
    with th.no_grad():
        model.eval()
        learned = model.returns(pairs).numpy().reshape(-1)
    true = true_returns.reshape(-1)
    pearson = float(np.corrcoef(learned, true)[0, 1])
    spearman = float(stats.spearmanr(learned, true).statistic)
    learned_diff = learned.reshape(-1, 2) @ np.array([1.0, -1.0])
    true_diff = true_returns @ np.array([1.0, -1.0])
    differ = true_diff != 0
    accuracy = float(np.mean((learned_diff[differ] > 0) == (true_diff[differ] > 0)))
    return pearson, spearman, accuracy


def run(seed: int) -> list[float]:
    start = time.process_time()
    th.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train_trajs = random_play(seed, TRAIN_STEPS)
    test_trajs = random_play(seed + 100, TEST_STEPS)
    fragmenter = pc.RandomFragmenter(rng=rng, warning_threshold=0)
    test_pairs = list(fragmenter(test_trajs, FRAGMENT_LENGTH, TEST_PAIRS))
    true_returns = np.array([[f.rews.sum() for f in pair] for pair in test_pairs])
    venv = make_venv(seed, n_envs=1)
    net = CnnRewardNet(venv.observation_space, venv.action_space, **NET_KWARGS)
    venv.close()
    untrained = evaluate(net, test_pairs, true_returns)
    trainer = pc.PreferenceComparisons(
        pc.TrajectoryDataset(train_trajs, rng=rng),
        net,
        num_iterations=1,
        fragmenter=fragmenter,
        preference_gatherer=pc.SyntheticGatherer(rng=rng),
        reward_trainer=pc.BasicRewardTrainer(
            pc.PreferenceModel(net),
            pc.CrossEntropyRewardLoss(),
            rng=rng,
            epochs=EPOCHS,
        ),
        fragment_length=FRAGMENT_LENGTH,
        initial_comparison_frac=0.0,
        initial_epoch_multiplier=1.0,
        custom_logger=QUIET,
    )
    trainer.train(total_timesteps=0, total_comparisons=COMPARISONS)
    learned = evaluate(net, test_pairs, true_returns)
    cpu = time.process_time() - start
    print("seed", seed, "untrained", untrained, "learned", learned, flush=True)
    return [seed, *untrained, *learned, cpu]


def main() -> None:
    th.set_num_threads(1)
    seeds = [int(s) for s in sys.argv[1:]] or [0, 1, 2]
    rows = [run(seed) for seed in seeds]
    print_table(
        f"Learned reward vs game score, {GAME} (random play), {COMPARISONS} "
        f"comparisons of {FRAGMENT_LENGTH}-step fragments, {EPOCHS} epochs; "
        f"{TEST_PAIRS} held-out pairs",
        [
            "seed",
            "untrained Pearson",
            "untrained Spearman",
            "untrained accuracy",
            "learned Pearson",
            "learned Spearman",
            "learned accuracy",
            "CPU s",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
