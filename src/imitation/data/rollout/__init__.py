"""Collect trajectories from a policy in a vectorised environment.

``collection`` holds the sampling loop (policies, termination conditions,
:func:`generate_trajectories`); ``processing`` what is done with the result
(statistics, unwrapping, flattening into transitions).
"""

from imitation.data.rollout.collection import (
    AnyPolicy,
    GenTrajTerminationFn,
    PolicyCallable,
    TrajectoryAccumulator,
    generate_trajectories,
    make_min_episodes,
    make_min_timesteps,
    make_sample_until,
    policy_to_callable,
)
from imitation.data.rollout.processing import (
    discounted_sum,
    flatten_trajectories,
    flatten_trajectories_with_rew,
    generate_transitions,
    rollout,
    rollout_stats,
    transition_arrays,
    unwrap_traj,
)

__all__ = [
    "AnyPolicy",
    "GenTrajTerminationFn",
    "PolicyCallable",
    "TrajectoryAccumulator",
    "discounted_sum",
    "flatten_trajectories",
    "flatten_trajectories_with_rew",
    "generate_trajectories",
    "generate_transitions",
    "make_min_episodes",
    "make_min_timesteps",
    "make_sample_until",
    "policy_to_callable",
    "rollout",
    "rollout_stats",
    "transition_arrays",
    "unwrap_traj",
]
