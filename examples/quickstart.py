"""Quickstart: imitation's main job, offline, on the expert bundled for CartPole.

It loads the bundled ``seals/CartPole-v0`` expert, samples demonstrations from
it, saves them to disk and loads them back, trains each algorithm, and prints
a table of mean returns with normalised scores
``(return - random) / (expert - random)``.

Every row is printed as soon as it finishes, and the whole table again at the
end. All randomness (environment seeds, torch, numpy, the SB3 learners) derives
from ``--seed``; each algorithm's row starts from fresh generators seeded with
it, so a row's result does not depend on the rows before it (and a row can be
reproduced on its own: ``benchmarks/bench_preference_comparisons.py
loop-cartpole`` runs the preference-comparisons row).

Run: ``bash scripts/quickstart.sh`` (or ``python examples/quickstart.py --fast``;
``--seed N`` for another seed).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings

import numpy as np
import torch as th
from stable_baselines3 import PPO

from imitation.algorithms import bc, preference_comparisons
from imitation.algorithms.adversarial.airl import AIRL
from imitation.algorithms.adversarial.gail import GAIL
from imitation.algorithms.dagger import SimpleDAggerTrainer
from imitation.algorithms.sqil import SQIL
from imitation.data import rollout, serialize
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.policies.serialize import load_policy
from imitation.rewards.reward_nets import (
    BasicRewardNet,
    BasicShapedRewardNet,
    NormalizedRewardNet,
)
from imitation.util import logger, presets
from imitation.util.networks import RunningNorm
from imitation.util.util import make_vec_env

ENV_ID = "seals/CartPole-v0"


def hide_third_party_warnings() -> None:
    """Hide warnings from other packages that this script cannot act on."""
    # seals declares its Box bounds as float64; gymnasium warns when casting.
    warnings.filterwarnings(
        "ignore",
        message=r".*Box (low|high)'s precision lowered by casting to float32",
        category=UserWarning,
        module=r"gymnasium\.spaces\.box",
    )
    # SB3's evaluate_policy on envs without a Monitor (their returns are the
    # ones we want here: the learned policy's, not a wrapper's).
    warnings.filterwarnings(
        "ignore",
        message=r"Evaluation environment is not wrapped with a ``Monitor``",
        category=UserWarning,
        module=r"stable_baselines3\.common\.evaluation",
    )


class Table:
    """The results table: rows are printed as they come, and again at the end."""

    def __init__(self, random_return: float, expert_return: float) -> None:
        """Normalise scores against ``random_return`` and ``expert_return``."""
        self.random_return = random_return
        self.expert_return = expert_return
        self.rows: list[tuple[str, float, float | None]] = []

    @staticmethod
    def header() -> str:
        """The table's header lines."""
        return (
            f"| {'policy':<22} | {'mean return':>11} | {'normalised':>10} "
            f"| {'train s':>7} |\n|{'-' * 24}|{'-' * 13}|{'-' * 12}|{'-' * 9}|"
        )

    def line(self, name: str, ret: float, seconds: float | None) -> str:
        """One formatted row."""
        score = (ret - self.random_return) / (self.expert_return - self.random_return)
        secs = "" if seconds is None else f"{seconds:.1f}"
        return f"| {name:<22} | {ret:>11.1f} | {score:>10.2f} | {secs:>7} |"

    def add(self, name: str, ret: float, seconds: float | None = None) -> None:
        """Record a row and print it at once."""
        self.rows.append((name, ret, seconds))
        print(self.line(name, ret, seconds), flush=True)

    def __str__(self) -> str:
        """The whole table."""
        return "\n".join([self.header(), *(self.line(*row) for row in self.rows)])


def make_preference_comparisons(
    agent: PPO,
    net: BasicRewardNet,
    venv: object,
    rng: np.random.Generator,
    num_iterations: int = 10,
    custom_logger: logger.HierarchicalLogger | None = None,
) -> preference_comparisons.PreferenceComparisons:
    """The preference-comparisons row's trainer (also run by its benchmark).

    Fragments of 25 steps, many comparisons (half of them on the untrained
    agent), soft synthetic labels (a tie is a 0.5 label rather than a coin
    flip: most pairs are ties once the pole is down), 5 reward epochs per round
    with weight decay (it keeps the learned reward flat over the fallen-pole
    states the comparisons cannot tell apart, so PPO has no spurious
    differences there to chase), and an output-normalised reward for the
    agent. Results per seed and the causes behind these settings:
    docs/benchmarks.md, "Preference comparisons".
    """
    return preference_comparisons.PreferenceComparisons(
        preference_comparisons.AgentTrainer(
            agent,
            NormalizedRewardNet(net, RunningNorm),
            venv,  # type: ignore[arg-type]
            rng=rng,
            exploration_frac=0.05,
        ),
        net,
        num_iterations=num_iterations,
        preference_gatherer=preference_comparisons.SyntheticGatherer(
            sample=False, rng=rng
        ),
        reward_trainer=preference_comparisons.BasicRewardTrainer(
            preference_comparisons.PreferenceModel(net),
            preference_comparisons.CrossEntropyRewardLoss(),
            rng=rng,
            epochs=5,
            weight_decay=2.0,
        ),
        fragment_length=25,
        initial_comparison_frac=0.5,
        initial_epoch_multiplier=20,
        rng=rng,
        custom_logger=custom_logger,
    )


def fresh_rng(seed: int) -> np.random.Generator:
    """Seed torch with ``seed`` and return a new numpy generator seeded with it.

    Every row starts from here, so rows are independent of the rows run before.
    """
    th.manual_seed(seed)
    return np.random.default_rng(seed)


def evaluate(policy: object, venv: object, n_episodes: int, seed: int) -> float:
    """Mean return of ``policy`` over ``n_episodes`` episodes.

    A learned policy takes its most likely action, as SB3's ``evaluate_policy``
    does by default; the random policy (``None``) samples uniformly.
    """
    trajs = rollout.generate_trajectories(
        policy,  # type: ignore[arg-type]
        venv,  # type: ignore[arg-type]
        rollout.make_min_episodes(n_episodes),
        rng=np.random.default_rng(seed),
        deterministic_policy=policy is not None,
    )
    return float(np.mean([t.rews.sum() for t in trajs]))


def main() -> None:
    """Run the quickstart and print the results table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fast", action="store_true", help="tiny budgets, for CI")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of all randomness (default 0)"
    )
    args = parser.parse_args()
    hide_third_party_warnings()
    seed = args.seed
    n_demos = 10 if args.fast else 50
    n_eval = 4 if args.fast else 20
    eval_seed = seed + 1  # rollout randomness of every evaluation

    th.set_num_threads(1)
    rng = fresh_rng(seed)
    venv = make_vec_env(
        f"seals:{ENV_ID}",
        rng=rng,
        n_envs=4,
        post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],
    )
    expert = load_policy("bundled", venv, env_name=ENV_ID)

    start = time.perf_counter()
    demos = rollout.rollout(
        expert, venv, rollout.make_min_episodes(n_demos), rng=rng, verbose=False
    )
    collect_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        serialize.save(f"{tmp}/demos", demos)
        loaded_demos = list(serialize.load(f"{tmp}/demos"))
        io_s = time.perf_counter() - start
    n_loaded = sum(len(t) for t in loaded_demos)
    assert n_loaded == sum(len(t) for t in demos)
    print(
        f"{ENV_ID}, seed {seed}: {len(demos)} expert demonstrations "
        f"({n_loaded} transitions)"
    )
    print(f"collected in {collect_s:.2f} s; saved and loaded back in {io_s:.2f} s\n")

    quiet = logger.configure(format_strs=[])
    print(Table.header(), flush=True)
    table = Table(
        evaluate(None, venv, n_eval, seed=eval_seed),
        evaluate(expert, venv, n_eval, seed=eval_seed),
    )
    table.add("random policy", table.random_return)
    table.add("bundled expert", table.expert_return)

    rng = fresh_rng(seed)
    start = time.perf_counter()
    bc_trainer = bc.BC(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        demonstrations=loaded_demos,
        rng=rng,
        custom_logger=quiet,
    )
    bc_trainer.train(n_epochs=1 if args.fast else 4, progress_bar=False)
    table.add(
        "BC",
        evaluate(bc_trainer.policy, venv, n_eval, seed=eval_seed),
        time.perf_counter() - start,
    )

    rng = fresh_rng(seed)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        dagger = SimpleDAggerTrainer(
            venv=venv,
            scratch_dir=scratch,
            expert_policy=expert,
            bc_trainer=bc.BC(
                observation_space=venv.observation_space,
                action_space=venv.action_space,
                rng=rng,
                custom_logger=quiet,
            ),
            rng=rng,
            custom_logger=quiet,
        )
        dagger.train(
            2_000 if args.fast else 6_000, bc_train_kwargs={"progress_bar": False}
        )
    table.add(
        "DAgger",
        evaluate(dagger.policy, venv, n_eval, seed=eval_seed),
        time.perf_counter() - start,
    )

    rng = fresh_rng(seed)
    start = time.perf_counter()
    sqil_venv = make_vec_env(f"seals:{ENV_ID}", rng=rng, n_envs=1)
    sqil_trainer = SQIL(
        venv=sqil_venv,
        demonstrations=loaded_demos,
        policy="MlpPolicy",
        rl_kwargs=dict(seed=seed, device="cpu", **presets.SQIL_CARTPOLE_DQN),
        custom_logger=quiet,
    )
    sqil_trainer.train(total_timesteps=2_000 if args.fast else 40_000)
    table.add(
        "SQIL (SoftDQN)",
        evaluate(sqil_trainer.policy, venv, n_eval, seed=eval_seed),
        time.perf_counter() - start,
    )

    # Preference comparisons (settings: make_preference_comparisons).
    rng = fresh_rng(seed)
    start = time.perf_counter()
    pc_venv = make_vec_env(
        f"seals:{ENV_ID}",
        rng=rng,
        n_envs=8,
        post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],
    )
    pc_net = BasicRewardNet(
        pc_venv.observation_space,
        pc_venv.action_space,
        normalize_input_layer=RunningNorm,
    )
    pc_agent = PPO(
        "MlpPolicy", pc_venv, seed=seed, device="cpu", **presets.PC_CARTPOLE_PPO
    )
    pc_trainer = make_preference_comparisons(
        pc_agent,
        pc_net,
        pc_venv,
        rng=rng,
        num_iterations=2 if args.fast else 10,
        custom_logger=quiet,
    )
    pc_trainer.train(
        total_timesteps=2_048 if args.fast else 72_000,
        total_comparisons=20 if args.fast else 1_000,
        progress_bar=False,
    )
    table.add(
        "Preference comparisons",
        evaluate(pc_agent, venv, n_eval, seed=eval_seed),
        time.perf_counter() - start,
    )

    # GAIL on the tutorial's settings: 8 envs, PPO, 60 expert episodes (the
    # GAIL row's time includes collecting them).
    rng = fresh_rng(seed)
    start = time.perf_counter()
    adv_venv = make_vec_env(
        f"seals:{ENV_ID}",
        rng=rng,
        n_envs=8,
        post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],
    )
    adv_demos = rollout.rollout(
        expert, adv_venv, rollout.make_min_episodes(60), rng=rng, verbose=False
    )
    # Then AIRL on its tutorial's settings, from the same demonstrations.
    adversarial = (
        # name, trainer, reward net, PPO settings, trainer settings, env steps
        ("GAIL", GAIL, BasicRewardNet, presets.GAIL_CARTPOLE_PPO,
         presets.GAIL_CARTPOLE_TRAINER, 200_000),
        ("AIRL", AIRL, BasicShapedRewardNet, presets.AIRL_CARTPOLE_PPO,
         presets.AIRL_CARTPOLE_TRAINER, 300_000),
    )  # fmt: skip
    for name, trainer_cls, net_cls, ppo_kwargs, kwargs, steps in adversarial:
        fresh_rng(seed)
        adv_venv.seed(seed)  # AIRL's row does not depend on GAIL's
        learner = PPO("MlpPolicy", adv_venv, seed=seed, device="cpu", **ppo_kwargs)
        adv_trainer = trainer_cls(
            demonstrations=adv_demos,
            venv=adv_venv,
            gen_algo=learner,
            reward_net=net_cls(
                adv_venv.observation_space,
                adv_venv.action_space,
                normalize_input_layer=RunningNorm,
            ),
            custom_logger=quiet,
            **kwargs,
        )
        adv_trainer.train(16_384 if args.fast else steps)
        table.add(
            name,
            evaluate(adv_trainer.policy, venv, n_eval, seed=eval_seed),
            time.perf_counter() - start,
        )
        start = time.perf_counter()

    print(f"\n{ENV_ID}, seed {seed}: all rows\n")
    print(table)
    print(
        f"\n(mean return over {n_eval} episodes each; policies take their most "
        "likely action, the random one samples)"
    )


if __name__ == "__main__":
    main()
