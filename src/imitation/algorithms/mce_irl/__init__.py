"""Maximum Causal Entropy inverse reinforcement learning on tabular MDPs.

MCE IRL (Ziebart's "Modeling Interaction via the Principle of Maximum Causal
Entropy") fits a reward so that the soft-optimal policy under it visits states
as often as the demonstrator does. For a tabular environment with known
dynamics and a finite horizon, both halves of the gradient are exact:

* :func:`mce_partition_fh` runs soft value iteration backwards in time, giving
  the time-dependent soft-optimal policy for a reward;
* :func:`mce_occupancy_measures` pushes the initial state distribution forward
  through that policy, giving the expected (optionally discounted) number of
  visits to each state.

The reward gradient is then ``sum_s (D_demo(s) - D_policy(s)) * grad r(s)``.
The reward is a network on the environment's observations (for example
gridworld coordinates), which gives a useful inductive bias; the policy is a
table over states (:class:`TabularPolicy`), since planning needs no function
approximation.

Conventions: an episode visits states ``s_0 .. s_{H-1}`` (``H`` is the
horizon), the reward of a step is the reward of the state it starts in, and
``D[t, s]`` is the probability of being in ``s`` at step ``t``. The occupancy
measure sums ``discount**t * D[t]`` over those ``H`` steps, so with
``discount=1`` it has total mass ``H``. Demonstrations are counted the same
way: the observation after the final action is not counted.
"""

from imitation.algorithms.mce_irl.planning import (
    mce_occupancy_measures,
    mce_partition_fh,
    squeeze_r,
)
from imitation.algorithms.mce_irl.tabular_policy import TabularPolicy
from imitation.algorithms.mce_irl.trainer import MCEIRL, MCEDemonstrations

__all__ = [
    "MCEIRL",
    "MCEDemonstrations",
    "TabularPolicy",
    "mce_occupancy_measures",
    "mce_partition_fh",
    "squeeze_r",
]
