"""Example: teach Pendulum's reward by answering "which clip is better?" yourself.

Starts a preference-comparisons run whose preferences come from you: it
prints a URL; open it in a browser, watch the two clips of the pendulum and
answer with the buttons or the arrow keys (left / right / down for "about the
same", ``S`` to skip). Good behaviour swings the pendulum up and keeps it
upright. After each round the run prints how well the learned reward agrees
with Pendulum's true reward (their correlation on random transitions) and
the agent's true return: both improve as you answer.

Run: ``python examples/human_preferences.py`` (see ``--help``). Answers are
kept in ``human_preferences.jsonl``; run the same command again after an
interruption and only the unanswered pairs are asked. ``--scripted-person``
answers from the true rewards, over HTTP, in your place; ``--fast`` does so
with a tiny budget (what CI runs).
"""

import argparse
import threading
import time

import httpx
import numpy as np
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy

from imitation.algorithms import preference_comparisons as pc
from imitation.data import rollout
from imitation.policies.base import FeedForward32Policy, NormalizeFeaturesExtractor
from imitation.rewards.reward_nets import BasicRewardNet, RewardNet
from imitation.util.networks import RunningNorm
from imitation.util.util import make_vec_env

parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
parser.add_argument("--fast", action="store_true", help="tiny budget, scripted person")
parser.add_argument(
    "--scripted-person",
    action="store_true",
    help="answer automatically (over HTTP) from the true rewards",
)
parser.add_argument("--answer-log", default="human_preferences.jsonl")
parser.add_argument("--mode", choices=["sync", "async"], default="sync")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=0, help="0: any free port")
parser.add_argument("--comparisons", type=int, default=None)
parser.add_argument("--iterations", type=int, default=None)
parser.add_argument("--timesteps", type=int, default=None)
parser.add_argument("--fragment-length", type=int, default=None)
parser.add_argument("--save-reward", default=None, help="th.save the reward net here")
args = parser.parse_args()
scripted = args.scripted_person or args.fast

comparisons = args.comparisons or (6 if args.fast else 60)
iterations = args.iterations or (2 if args.fast else 6)
timesteps = (
    args.timesteps if args.timesteps is not None else (256 if args.fast else 30_000)
)
fragment_length = args.fragment_length or (10 if args.fast else 40)

rng = np.random.default_rng(0)
th.manual_seed(0)
venv = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
reward_net = BasicRewardNet(
    venv.observation_space, venv.action_space, normalize_input_layer=RunningNorm
)

# Held-out transitions of a random policy: how well does the learned reward
# rank them like the true reward does?
held_out = rollout.flatten_trajectories_with_rew(
    rollout.generate_trajectories(
        None, venv, rollout.make_sample_until(min_timesteps=1000), rng=rng
    )
)


def reward_correlation(net: RewardNet) -> float:
    """Pearson correlation of ``net``'s reward and the true one on ``held_out``."""
    learned = net.predict(
        held_out.obs, held_out.acts, held_out.next_obs, held_out.dones
    )
    return float(np.corrcoef(learned, held_out.rews)[0, 1])


gatherer = pc.HumanGatherer(
    "Pendulum-v1", args.answer_log, mode=args.mode, host=args.host, port=args.port
)
print(f"Open this page to give your preferences: {gatherer.url}", flush=True)


def scripted_person(stop: threading.Event) -> None:
    """Answers like a person who prefers the fragment with the higher true return.

    It goes through the web app as the page does (fetching both clips first)
    and looks the pair's true returns up in the gatherer, standing in for
    judging the clips by eye.
    """
    base = gatherer.url.split("/?")[0]
    token = {"token": gatherer.token}
    with httpx.Client(base_url=base, params=token, timeout=30) as client:
        while not stop.is_set():
            pair = client.get("/api/next").json()["pair"]
            if pair is None:
                time.sleep(0.05)
                continue
            for side in ("left", "right"):
                client.get(pair[side]).raise_for_status()
            left, right = gatherer.log.pairs[pair["id"]]
            diff = left.rews.sum() - right.rews.sum()
            choice = "left" if diff > 0 else "right" if diff < 0 else "equal"
            answer = {"pair_id": pair["id"], "choice": choice}
            client.post("/api/answer", json=answer).raise_for_status()


agent = PPO(
    policy=FeedForward32Policy,
    policy_kwargs=dict(
        features_extractor_class=NormalizeFeaturesExtractor,
        features_extractor_kwargs=dict(normalize_class=RunningNorm),
    ),
    env=venv,
    seed=0,
    n_steps=2048 if timesteps >= 20_000 else 256,
    batch_size=64,
    ent_coef=0.01,
    learning_rate=2e-3,
    clip_range=0.1,
    gae_lambda=0.95,
    gamma=0.97,
    n_epochs=2 if args.fast else 10,
)
trajectory_generator = pc.AgentTrainer(
    algorithm=agent, reward_fn=reward_net, venv=venv, exploration_frac=0.05, rng=rng
)
pref_comparisons = pc.PreferenceComparisons(
    trajectory_generator,
    reward_net,
    num_iterations=iterations,
    fragmenter=pc.RandomFragmenter(warning_threshold=0, rng=rng),
    preference_gatherer=gatherer,
    reward_trainer=pc.BasicRewardTrainer(
        pc.PreferenceModel(reward_net), pc.CrossEntropyRewardLoss(), epochs=10, rng=rng
    ),
    fragment_length=fragment_length,
    initial_comparison_frac=0.25,
    initial_epoch_multiplier=8,
    rng=rng,
)


def report(iteration: int) -> None:
    """Print how the learned reward and the agent are doing."""
    returns, _ = evaluate_policy(agent.policy, venv, n_eval_episodes=2)
    print(
        f"round {iteration}: {len(pref_comparisons.dataset)} answers; learned vs "
        f"true reward correlation {reward_correlation(reward_net):+.2f}; agent's "
        f"true return {returns:.0f}",
        flush=True,
    )


stop = threading.Event()
if scripted:
    threading.Thread(target=scripted_person, args=(stop,), daemon=True).start()
print(f"before training: correlation {reward_correlation(reward_net):+.2f}", flush=True)
try:
    pref_comparisons.train(timesteps, comparisons, callback=report, progress_bar=False)
finally:
    stop.set()
    gatherer.close()
if args.save_reward:
    th.save(reward_net, args.save_reward)
print(f"final correlation {reward_correlation(reward_net):+.2f}", flush=True)
