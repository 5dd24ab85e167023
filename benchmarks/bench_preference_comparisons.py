"""Preference comparisons: reward-training speed and learning bars (3 seeds).

* ``speed``: ``BasicRewardTrainer`` on 400 pairs of length-50 ``Pendulum-v1``
  fragments for 10 epochs (batch 32, ``BasicRewardNet`` with ``RunningNorm``
  input), beside a floor: the same net, loss, optimiser and batches in bare
  PyTorch on fragments stacked into tensors beforehand. Timed in turn.
* ``reward``: 200 synthetic comparisons of length-50 fragments from a mix of
  random, noisy-expert and expert ``Pendulum-v1`` episodes (a fixed
  ``TrajectoryDataset``); on 1,000 held-out fragment pairs it reports the
  Pearson correlation of learned and true fragment returns and the accuracy
  of the learned preferences. Floor: the untrained net.
* ``loop-sac`` / ``loop-ppo``: the full loop on ``Pendulum-v1``, SAC or PPO
  trained on the learned reward, 1,000 comparisons; mean true return of the
  final agent over 50 episodes, with sampled and with greedy actions. Floors:
  the random policy and the untrained agent. PPO takes RL Zoo's Pendulum
  settings (gSDE, gamma 0.9, 4 envs, n_steps 1024), sees the learned reward
  standardised, and the reward net sees the state only (see ``LOOP_SETUPS``).
* ``loop-sac-own-buffer``: ``loop-sac`` with SAC's own replay buffer (no
  ``ReplayBufferRewardWrapper`` passed in), so replayed rewards follow the
  learned reward only if ``AgentTrainer`` relabels them; scored also
  normalised, ``(return - random) / (expert - random)`` with the bundled
  expert's return measured in the same run.
* ``loop-cartpole``: the quickstart's preference-comparisons row on
  ``seals/CartPole-v0`` (PPO, 72,000 agent steps, 1,000 comparisons of
  length-25 fragments, reward trained with weight decay 2.0), scored
  normalised against the random policy and the bundled expert;
  ``loop-cartpole-state`` the same with a state-only reward net.
* ``agent-cartpole``: the loop's ceiling, its PPO agent on the *true* reward
  for the same 72,000 steps (greedy return every 14,400), with the preset's
  10 epochs per rollout and with GAIL's 5.

Run: ``.venv/bin/python benchmarks/bench_preference_comparisons.py
[speed|reward|reward-dict|loop|loop-sac|loop-ppo|loop-sac-own-buffer|
loop-cartpole[-state]|agent-cartpole] [seed ...]`` (default: everything; seeds 0 1 2).
"""

from __future__ import annotations

import pathlib
import sys
import time

import numpy as np
import torch as th
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.vec_env import VecEnvWrapper

sys.path.insert(0, str(pathlib.Path(__file__).parent))
sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "examples"))
from _common import best_times_interleaved, print_table  # noqa: E402
from imitation.algorithms import preference_comparisons as pc  # noqa: E402
from imitation.data import rollout, types  # noqa: E402
from imitation.data.wrappers import RolloutInfoWrapper  # noqa: E402
from imitation.policies.exploration_wrapper import ExplorationWrapper  # noqa: E402
from imitation.policies.replay_buffer_wrapper import ReplayBufferRewardWrapper  # noqa: E402
from imitation.policies.serialize import load_policy  # noqa: E402
from imitation.rewards.reward_nets import BasicRewardNet, NormalizedRewardNet  # noqa: E402
from imitation.testing.dict_obs import dict_trajectories_from_flat  # noqa: E402
from imitation.testing.envs import DictObsWrapper  # noqa: E402
from imitation.util import logger, presets  # noqa: E402
from imitation.util.networks import RunningNorm  # noqa: E402
from imitation.util.util import make_vec_env  # noqa: E402
from quickstart import make_preference_comparisons  # noqa: E402

ENV_ID = "Pendulum-v1"
QUIET = logger.configure(format_strs=[])


def mixed_trajectories(n_episodes: int, seed: int) -> list[types.TrajectoryWithRew]:
    """Pendulum episodes: a third random, a third noisy expert, a third expert."""
    rng = np.random.default_rng(seed)
    venv = make_vec_env(ENV_ID, rng=rng, n_envs=4)
    expert = load_policy("bundled", venv, env_name=ENV_ID)
    noisy = ExplorationWrapper(expert, venv, random_prob=0.5, switch_prob=0.1, rng=rng)
    per_kind = rollout.make_min_episodes(max(1, n_episodes // 3))
    trajs: list[types.TrajectoryWithRew] = []
    for policy in (None, noisy, expert):
        trajs += rollout.generate_trajectories(policy, venv, per_kind, rng=rng)
    venv.close()
    return trajs


def make_net(venv_or_spaces, use_action: bool = True) -> BasicRewardNet:
    return BasicRewardNet(
        venv_or_spaces.observation_space,
        venv_or_spaces.action_space,
        use_action=use_action,
        normalize_input_layer=RunningNorm,
    )


def speed() -> None:
    rng = np.random.default_rng(0)
    venv = make_vec_env(ENV_ID, rng=rng, n_envs=4)
    trajs = rollout.generate_trajectories(
        None, venv, rollout.make_min_episodes(20), rng=rng
    )
    pairs = pc.RandomFragmenter(rng=rng, warning_threshold=0)(trajs, 50, 400)
    prefs = pc.SyntheticGatherer(rng=rng)(pairs)
    dataset = pc.PreferenceDataset()
    dataset.push(pairs, prefs)

    def ours() -> None:
        net = make_net(venv)
        trainer = pc.BasicRewardTrainer(
            pc.PreferenceModel(net),
            pc.CrossEntropyRewardLoss(),
            rng=np.random.default_rng(0),
            epochs=10,
            custom_logger=QUIET,
        )
        trainer.train(dataset)

    fragments = [f for pair in pairs for f in pair]
    obs = th.as_tensor(
        np.stack([np.asarray(f.obs) for f in fragments]), dtype=th.float32
    )
    acts = th.as_tensor(np.stack([f.acts for f in fragments]), dtype=th.float32)
    state = obs[:, :-1].reshape(len(pairs), 2, 50, -1)
    next_state = obs[:, 1:].reshape(len(pairs), 2, 50, -1)
    action = acts.reshape(len(pairs), 2, 50, -1)
    done = th.zeros(len(pairs), 2, 50)
    prefs_th = th.as_tensor(prefs)

    def floor() -> None:
        net = make_net(venv)
        net.train()
        optim = th.optim.Adam(net.parameters(), lr=1e-3)
        order_rng = np.random.default_rng(0)
        for _ in range(10):
            order = th.as_tensor(order_rng.permutation(len(pairs)))
            for start in range(0, len(pairs), 32):
                idx = order[start : start + 32]
                n = len(idx)
                rew = net(
                    state[idx].reshape(n * 100, -1),
                    action[idx].reshape(n * 100, -1),
                    next_state[idx].reshape(n * 100, -1),
                    done[idx].reshape(-1),
                ).reshape(n, 2, 50)
                returns = rew.sum(-1)
                logits = (returns[:, 0] - returns[:, 1]).clamp(-50, 50)
                loss = th.nn.functional.binary_cross_entropy_with_logits(
                    logits, prefs_th[idx]
                )
                optim.zero_grad()
                loss.backward()
                optim.step()

    t_ours, t_floor = best_times_interleaved([ours, floor], repeats=5)
    print_table(
        "Reward training: 400 pairs x 50 steps, Pendulum-v1, 10 epochs, batch 32",
        ["measurement", "seconds", "ratio"],
        [
            ["BasicRewardTrainer (imitation)", t_ours, t_ours / t_floor],
            ["floor: bare PyTorch, pre-stacked tensors", t_floor, 1.0],
        ],
    )


def evaluate_reward(
    net: BasicRewardNet, pairs: list, true_returns: np.ndarray
) -> tuple[float, float]:
    """Pearson r of learned vs true fragment returns; accuracy of the preferences."""
    model = pc.PreferenceModel(net)
    with th.no_grad():
        model.eval()
        learned = model.returns(pairs).numpy().reshape(-1)
    r = float(np.corrcoef(learned, true_returns.reshape(-1))[0, 1])
    learned_diff = learned.reshape(-1, 2) @ np.array([1.0, -1.0])
    true_diff = true_returns @ np.array([1.0, -1.0])
    accuracy = float(np.mean((learned_diff > 0) == (true_diff > 0)))
    return r, accuracy


PENDULUM_DICT_KEYS = {"cos_sin": (0, 1), "velocity": (2,)}
"""Pendulum's observation as a Dict, for the ``reward-dict`` mode."""


def reward_run(seed: int, dict_obs: bool = False) -> tuple[float, float, float, float]:
    th.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train_trajs = mixed_trajectories(30, seed)
    test_trajs = mixed_trajectories(30, seed + 100)
    if dict_obs:  # the same episodes, observed as a Dict of two Boxes
        train_trajs = dict_trajectories_from_flat(train_trajs, PENDULUM_DICT_KEYS)
        test_trajs = dict_trajectories_from_flat(test_trajs, PENDULUM_DICT_KEYS)
    test_pairs = list(
        pc.RandomFragmenter(rng=rng, warning_threshold=0)(test_trajs, 50, 1000)
    )
    fragments = [f for pair in test_pairs for f in pair]
    true_returns = np.array([f.rews.sum() for f in fragments]).reshape(-1, 2)
    venv = make_vec_env(
        ENV_ID,
        rng=rng,
        post_wrappers=[lambda env, _: DictObsWrapper(env, PENDULUM_DICT_KEYS)]
        if dict_obs
        else None,
    )
    net = make_net(venv)
    untrained = evaluate_reward(net, test_pairs, true_returns)
    trainer = pc.PreferenceComparisons(
        pc.TrajectoryDataset(train_trajs, rng=rng),
        net,
        num_iterations=1,
        fragmenter=pc.RandomFragmenter(rng=rng, warning_threshold=0),
        preference_gatherer=pc.SyntheticGatherer(rng=rng),
        reward_trainer=pc.BasicRewardTrainer(
            pc.PreferenceModel(net), pc.CrossEntropyRewardLoss(), rng=rng, epochs=10
        ),
        fragment_length=50,
        initial_comparison_frac=0.0,
        initial_epoch_multiplier=1.0,
        custom_logger=QUIET,
    )
    trainer.train(total_timesteps=0, total_comparisons=200)
    trained = evaluate_reward(net, test_pairs, true_returns)
    print(
        "reward", "dict" if dict_obs else "flat", seed, untrained, trained, flush=True
    )
    return (*untrained, *trained)


def mean_return(policy, seed: int, n: int = 50, greedy: bool = False) -> float:
    """Mean true return over ``n`` episodes; ``greedy``: the most likely actions."""
    venv = make_vec_env(ENV_ID, rng=np.random.default_rng(seed + 1000), n_envs=5)
    trajs = rollout.generate_trajectories(
        policy,
        venv,
        rollout.make_min_episodes(n),
        rng=np.random.default_rng(seed),
        deterministic_policy=greedy,
    )
    return float(np.mean([t.rews.sum() for t in trajs[:n]]))


class StepCounter(VecEnvWrapper):
    """Counts every env step taken (agent training and fragment sampling)."""

    def __init__(self, venv) -> None:
        super().__init__(venv)
        self.steps = 0

    def reset(self):
        """Reset the wrapped env."""
        return self.venv.reset()

    def step_wait(self):
        """Step the wrapped env, counting the steps."""
        self.steps += self.num_envs
        return self.venv.step_wait()


def make_agent(kind: str, venv, net, seed: int):
    """The agent and the reward it is trained on."""
    if kind in ("sac", "sac-own-buffer"):
        # Off-policy: every sampled batch is relabelled with the current
        # reward. With its own replay buffer ("sac-own-buffer"), whether
        # replayed rewards follow the learned reward is up to AgentTrainer.
        relabelling = dict(
            replay_buffer_class=ReplayBufferRewardWrapper,
            replay_buffer_kwargs=dict(
                replay_buffer_class=ReplayBuffer, reward_fn=net.predict_processed
            ),
        )
        agent = SAC(
            "MlpPolicy",
            venv,
            seed=seed,
            device="cpu",
            learning_rate=1e-3,
            policy_kwargs=dict(net_arch=[64, 64]),
            **(relabelling if kind == "sac" else {}),
        )
        return agent, net
    ppo = PPO(
        "MlpPolicy",
        venv,
        seed=seed,
        device="cpu",
        n_steps=1024,
        batch_size=64,
        gae_lambda=0.95,
        gamma=0.9,
        n_epochs=10,
        ent_coef=0.0,
        learning_rate=1e-3,
        clip_range=0.2,
        use_sde=True,
        sde_sample_freq=4,
    )
    # The agent sees the learned reward standardised by its running statistics.
    return ppo, NormalizedRewardNet(net, RunningNorm)


LOOP_SETUPS = {
    # kind: (n_envs, agent timesteps, iterations, reward net sees the action)
    "sac": (1, 20_000, 10, True),
    "sac-own-buffer": (1, 20_000, 10, True),
    # State only: Pendulum's true reward hardly depends on the action (at most
    # 0.004 of up to 16 per step), so the comparisons cannot pin an action
    # term down; with one, the learned reward's spurious action dependence
    # was as large as its contrast between states and PPO chased it.
    "ppo": (4, 196_608, 16, False),
}


def loop_run(
    kind: str, seed: int, total_comparisons: int
) -> tuple[float, float, float, int]:
    n_envs, total_timesteps, iterations, use_action = LOOP_SETUPS[kind]
    th.manual_seed(seed)
    rng = np.random.default_rng(seed)
    venv = StepCounter(make_vec_env(ENV_ID, rng=rng, n_envs=n_envs))
    net = make_net(venv, use_action=use_action)
    agent, agent_reward = make_agent(kind, venv, net, seed)
    untrained = mean_return(agent.policy, seed)
    generator = pc.AgentTrainer(
        algorithm=agent,
        reward_fn=agent_reward,
        venv=venv,
        exploration_frac=0.05,
        rng=rng,
    )
    trainer = pc.PreferenceComparisons(
        generator,
        net,
        num_iterations=iterations,
        fragmenter=pc.RandomFragmenter(rng=rng, warning_threshold=0),
        preference_gatherer=pc.SyntheticGatherer(rng=rng),
        reward_trainer=pc.BasicRewardTrainer(
            pc.PreferenceModel(net), pc.CrossEntropyRewardLoss(), rng=rng, epochs=3
        ),
        fragment_length=50,
        initial_comparison_frac=0.1,
        initial_epoch_multiplier=4.0,
        custom_logger=QUIET,
    )
    start = time.perf_counter()

    def progress(iteration: int) -> None:
        if (iteration + 1) % (iterations // 4) == 0:
            ret = mean_return(agent.policy, seed, n=10)
            greedy = mean_return(agent.policy, seed, n=10, greedy=True)
            print(
                "  iteration",
                iteration + 1,
                venv.steps,
                round(ret, 1),
                round(greedy, 1),
                flush=True,
            )

    trainer.train(
        total_timesteps=total_timesteps,
        total_comparisons=total_comparisons,
        callback=progress,
    )
    final = mean_return(agent.policy, seed)
    final_greedy = mean_return(agent.policy, seed, greedy=True)
    print(
        "loop",
        kind,
        seed,
        round(untrained, 1),
        round(final, 1),
        round(final_greedy, 1),
        venv.steps,
        f"{time.perf_counter() - start:.0f}s",
        flush=True,
    )
    return untrained, final, final_greedy, venv.steps


CARTPOLE = "seals:seals/CartPole-v0"


def cartpole_return(policy, seed: int, n: int = 50) -> float:
    """Mean true return on seals/CartPole-v0 (learned policies act greedily)."""
    venv = make_vec_env(CARTPOLE, rng=np.random.default_rng(seed + 1000), n_envs=5)
    trajs = rollout.generate_trajectories(
        policy,
        venv,
        rollout.make_min_episodes(n),
        rng=np.random.default_rng(seed),
        deterministic_policy=policy is not None,
    )
    return float(np.mean([t.rews.sum() for t in trajs[:n]]))


def cartpole_run(seed: int, use_action: bool) -> tuple[float, float]:
    """The quickstart's preference-comparisons row; untrained and final return.

    ``use_action=False`` gives the reward net the state only (the quickstart
    gives it the state and the action).
    """
    th.manual_seed(seed)
    rng = np.random.default_rng(seed)
    venv = make_vec_env(
        CARTPOLE,
        rng=rng,
        n_envs=8,
        post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],
    )
    net = make_net(venv, use_action=use_action)
    agent = PPO("MlpPolicy", venv, seed=seed, device="cpu", **presets.PC_CARTPOLE_PPO)
    untrained = cartpole_return(agent, seed)
    trainer = make_preference_comparisons(
        agent, net, venv, rng=rng, custom_logger=QUIET
    )
    start = time.perf_counter()

    def progress(iteration: int) -> None:
        if (iteration + 1) % 2 == 0:
            ret = cartpole_return(agent, seed, n=10)
            print("  iteration", iteration + 1, round(ret, 1), flush=True)

    trainer.train(
        total_timesteps=72_000,
        total_comparisons=1_000,
        callback=progress,
        progress_bar=False,
    )
    final = cartpole_return(agent, seed)
    print(
        "loop cartpole",
        "state-action" if use_action else "state",
        seed,
        round(untrained, 1),
        round(final, 1),
        f"{time.perf_counter() - start:.0f}s",
        flush=True,
    )
    return untrained, final


def true_reward_agent_run(seed: int, n_epochs: int) -> list[float]:
    """PPO with the loop's settings on the true reward; greedy returns."""
    th.manual_seed(seed)
    venv = make_vec_env(CARTPOLE, rng=np.random.default_rng(seed), n_envs=8)
    settings = dict(presets.PC_CARTPOLE_PPO, n_epochs=n_epochs)
    agent = PPO("MlpPolicy", venv, seed=seed, device="cpu", **settings)
    returns = []
    for _ in range(5):
        agent.learn(14_400, reset_num_timesteps=False)
        returns.append(cartpole_return(agent, seed, n=10))
    return returns


def main() -> None:
    th.set_num_threads(1)
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    seeds = [int(s) for s in sys.argv[2:]] or [0, 1, 2]
    if what in ("all", "speed"):
        speed()
    for mode, dict_obs in (("reward", False), ("reward-dict", True)):
        if what not in ("all", mode):
            continue
        rows = [[seed, *reward_run(seed, dict_obs)] for seed in seeds]
        print_table(
            f"Reward from 200 synthetic comparisons, {ENV_ID}"
            f"{' (Dict observations)' if dict_obs else ''}, 1,000 held-out pairs",
            ["seed", "untrained r", "untrained acc", "learned r", "learned acc"],
            rows,
        )
    for kind in ("sac", "ppo"):
        if what not in ("all", "loop", f"loop-{kind}"):
            continue
        random_ret = mean_return(None, 0)
        rows = []
        for seed in seeds:
            rows.append([seed, random_ret, *loop_run(kind, seed, 1_000)])
        print_table(
            f"Full loop on {ENV_ID}: {kind.upper()} on the learned reward, "
            "1,000 comparisons",
            [
                "seed",
                "random policy",
                "untrained agent",
                "final agent (sampled)",
                "final agent (greedy)",
                "env steps",
            ],
            rows,
        )
    if what == "loop-sac-own-buffer":
        random_ret = mean_return(None, 0)
        venv = make_vec_env(ENV_ID, rng=np.random.default_rng(0))
        expert_ret = mean_return(load_policy("bundled", venv, env_name=ENV_ID), 0)
        span = expert_ret - random_ret
        rows = []
        for seed in seeds:
            untrained, final, final_greedy, steps = loop_run(
                "sac-own-buffer", seed, 1_000
            )
            rows.append(
                [
                    seed,
                    untrained,
                    final,
                    (final - random_ret) / span,
                    final_greedy,
                    (final_greedy - random_ret) / span,
                    steps,
                ]
            )
        print_table(
            f"Full loop on {ENV_ID}: SAC with its own replay buffer, 1,000 "
            f"comparisons (random {random_ret:.1f}, expert {expert_ret:.1f})",
            [
                "seed",
                "untrained agent",
                "final (sampled)",
                "normalised",
                "final (greedy)",
                "normalised (greedy)",
                "env steps",
            ],
            rows,
        )
    for variant in ("", "-state"):
        if what not in ("all", "loop", f"loop-cartpole{variant}"):
            continue
        random_ret = cartpole_return(None, 0)
        venv = make_vec_env(CARTPOLE, rng=np.random.default_rng(0))
        expert_ret = cartpole_return(
            load_policy("bundled", venv, env_name="seals/CartPole-v0"), 0
        )

        rows = []
        for seed in seeds:
            untrained, final = cartpole_run(seed, use_action=variant == "")
            span = expert_ret - random_ret
            rows.append(
                [
                    seed,
                    untrained,
                    (untrained - random_ret) / span,
                    final,
                    (final - random_ret) / span,
                ]
            )
        print_table(
            f"Full loop on seals/CartPole-v0{variant}: PPO, 72,000 agent "
            f"steps, 1,000 comparisons (random {random_ret:.1f}, "
            f"expert {expert_ret:.1f})",
            ["seed", "untrained", "untrained score", "final", "final score"],
            rows,
        )

    if what in ("all", "agent-cartpole"):
        for n_epochs in (presets.PC_CARTPOLE_PPO["n_epochs"], 5):
            print_table(
                f"PPO on the true reward of seals/CartPole-v0, n_epochs={n_epochs}:"
                " greedy return (10 episodes) after 14,400 / 28,800 / 43,200 /"
                " 57,600 / 72,000 steps",
                ["seed", "14.4k", "28.8k", "43.2k", "57.6k", "72k"],
                [[seed, *true_reward_agent_run(seed, n_epochs)] for seed in seeds],
            )


if __name__ == "__main__":
    main()
