"""Convert trajectories to and from HuggingFace ``datasets``.

A trajectory dataset has one row per trajectory and these columns:

* ``obs``: the observations, a list with one entry per time step (each entry a
  number or a nested list matching the observation shape). Dict observations
  are a struct with one such list per key.
* ``acts``: the actions, laid out like ``obs``.
* ``infos``: one JSON-encoded info dict per step, or null for a trajectory
  saved without infos.
* ``terminal``: whether the trajectory ends in a terminal state.
* ``rews`` (optional): the reward of each step. With it, rows decode to
  :class:`~imitation.data.types.TrajectoryWithRew`, else to
  :class:`~imitation.data.types.Trajectory`.

This is the layout of the demonstration datasets published on the HuggingFace
Hub, so those load with :class:`TrajectoryDatasetSequence`. Arrays are stored
with their own dtype and read back from the Arrow buffers without per-step
Python work.

The parts: :mod:`~imitation.data.huggingface_utils.infos` (info dicts as JSON
strings), :mod:`~imitation.data.huggingface_utils.writing` (trajectories to a
dataset), :mod:`~imitation.data.huggingface_utils.reading` (a dataset back to
trajectories) and :mod:`~imitation.data.huggingface_utils.hub_datasets` (the
demonstrations published on the Hub); their public names are all here.
"""

from imitation.data.huggingface_utils.hub_datasets import (
    hub_dataset_repo_id,
    load_rollouts_from_huggingface,
)
from imitation.data.huggingface_utils.infos import (
    TrajectoryFormatError,
    decode_infos,
    encode_infos,
)
from imitation.data.huggingface_utils.reading import TrajectoryDatasetSequence
from imitation.data.huggingface_utils.writing import (
    trajectories_to_dataset,
    trajectories_to_dict,
)
from imitation.util.hub import HF_DEFAULT_ORGANIZATION  # noqa: F401 - as before

__all__ = [
    "TrajectoryDatasetSequence",
    "TrajectoryFormatError",
    "decode_infos",
    "encode_infos",
    "hub_dataset_repo_id",
    "load_rollouts_from_huggingface",
    "trajectories_to_dataset",
    "trajectories_to_dict",
]
