"""Tutorial: BC and DAgger on an environment with ``Dict`` observations.

Many environments observe several things at once (a camera image and joint
angles, a goal and a position, ...) and expose them as a gymnasium
``spaces.Dict``. imitation handles them end to end: demonstrations hold their
observations as :class:`imitation.data.types.DictObs`, and BC (hence DAgger)
picks a policy for ``Dict`` spaces by default,
``MultiInputFeedForward32Policy``: each key is flattened by Stable-Baselines3's
``CombinedExtractor``, the parts are concatenated, and two hidden layers of 32
units follow.

Here the environment is seals/CartPole-v0 with its 4-number observation split
into ``{"pos": [cart position, pole angle], "vel": [their velocities]}`` by
``imitation.testing.envs.DictObsWrapper``. The expert bundled with imitation
acts on the flat observation, so its demonstrations are converted to the dict
form, and for DAgger it acts on dict observations through a small adapter that
joins the keys back into the flat observation.

GAIL, AIRL and preference comparisons take dict-form demonstrations the same
way (``demonstrations=dict_demos``, a learner such as
``PPO("MultiInputPolicy", venv)``) once their reward networks accept dict
observations.

Run: ``python examples/dict_observations.py`` (``--fast`` for a tiny budget).
"""

import argparse
import tempfile

import numpy as np
import torch as th

from imitation.algorithms import bc, dagger
from imitation.data import rollout
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.policies.serialize import load_policy
from imitation.testing.dict_obs import FlatPolicyOnDictObs, dict_trajectories_from_flat
from imitation.testing.envs import DictObsWrapper
from imitation.util import util

parser = argparse.ArgumentParser()
parser.add_argument("--fast", action="store_true")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
FAST = args.fast
th.manual_seed(args.seed)
rng = np.random.default_rng(args.seed)

ENV = "seals:seals/CartPole-v0"
# The dict env: each sub-env is wrapped by DictObsWrapper (then by
# RolloutInfoWrapper, which records whole episodes for the rollout helpers).
dict_venv = util.make_vec_env(
    ENV,
    rng=rng,
    n_envs=4,
    post_wrappers=[lambda env, _: RolloutInfoWrapper(DictObsWrapper(env))],
)
print("observation space:", dict_venv.observation_space)

# 1. Expert demonstrations in dict form. The bundled expert is rolled out on
# the flat env; each trajectory's observations are split into the same keys
# the wrapper uses, giving trajectories whose `obs` is a DictObs.
flat_venv = util.make_vec_env(
    ENV,
    rng=rng,
    n_envs=4,
    post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],
)
flat_expert = load_policy("bundled", flat_venv, env_name="seals/CartPole-v0")
flat_demos = rollout.rollout(
    flat_expert,
    flat_venv,
    rollout.make_min_episodes(2 if FAST else 10),
    rng=rng,
)
dict_demos = dict_trajectories_from_flat(flat_demos)
print("demonstration observation keys:", list(dict_demos[0].obs.keys()))


def mean_return(policy, n_episodes: int) -> float:
    """Mean return of ``policy`` on the dict env."""
    trajs = rollout.generate_trajectories(
        policy, dict_venv, rollout.make_min_episodes(n_episodes), rng=rng
    )
    return float(np.mean([t.rews.sum() for t in trajs[:n_episodes]]))


n_eval = 2 if FAST else 20
print(f"random policy: mean return {mean_return(None, n_eval):.1f}")

# 2. BC. Nothing dict-specific: BC sees the Dict space and chooses
# MultiInputFeedForward32Policy (pass `policy=` to use your own, e.g. SB3's
# MultiInputActorCriticPolicy).
bc_trainer = bc.BC(
    observation_space=dict_venv.observation_space,
    action_space=dict_venv.action_space,
    demonstrations=dict_demos,
    rng=rng,
)
print("BC policy:", type(bc_trainer.policy).__name__)
if FAST:
    bc_trainer.train(n_batches=20, progress_bar=False)
else:
    bc_trainer.train(n_epochs=4)
print(f"BC: mean return {mean_return(bc_trainer.policy, n_eval):.1f}")

# A trained policy saves and loads like any other.
with tempfile.TemporaryDirectory() as tmpdir:
    util.save_policy(bc_trainer.policy, f"{tmpdir}/policy.pt")
    reloaded = bc.reconstruct_policy(f"{tmpdir}/policy.pt")
print("reloaded policy:", type(reloaded).__name__)

# 3. DAgger. The expert labels the states the learner visits, so it must act
# on dict observations: FlatPolicyOnDictObs joins the keys back into the flat
# observation (in the order DictObsWrapper split them) and asks the flat
# expert. A human or scripted expert for a real dict env would act on the
# dicts directly.
dict_expert = FlatPolicyOnDictObs(flat_expert, dict_venv.observation_space)
with tempfile.TemporaryDirectory(prefix="dagger_dict_example_") as tmpdir:
    dagger_trainer = dagger.SimpleDAggerTrainer(
        venv=dict_venv,
        scratch_dir=tmpdir,
        expert_policy=dict_expert,
        bc_trainer=bc.BC(
            observation_space=dict_venv.observation_space,
            action_space=dict_venv.action_space,
            rng=rng,
        ),
        rng=rng,
    )
    dagger_trainer.train(500 if FAST else 4000)
    # Demonstrations and checkpoints in tmpdir keep the dict observations:
    # dagger.reconstruct_trainer(tmpdir, dict_venv) resumes the run.
    resumed = dagger.reconstruct_trainer(tmpdir, dict_venv)
    print("resumed DAgger at round", resumed.round_num)
print(
    f"DAgger ({dagger_trainer.total_timesteps} env steps): mean return "
    f"{mean_return(dagger_trainer.policy, n_eval):.1f}",
)
