"""Reward networks: differentiable ``forward`` for training, ``predict*`` for RL.

``forward(state, action, next_state, done)`` takes preprocessed tensors and is
what reward learning differentiates. ``predict_th``/``predict`` take raw numpy
batches, preprocess them (tensors on the net's device, one-hot encoding of
discrete spaces, image scaling) and evaluate without gradients.
``predict_processed`` adds post-processing meant for policy training, such as
normalisation (:class:`NormalizedRewardNet`).

``gymnasium.spaces.Dict`` observation spaces are supported: ``predict*`` take
dicts of arrays (or ``DictObs``), ``preprocess`` turns them into dicts of
tensors (each key preprocessed as SB3 does for its subspace), and MLP-based
nets flatten the keys and concatenate them in sorted key order
(:func:`flatten_obs`). :class:`CnnRewardNet` runs its CNN on the image keys
and an added MLP on the others.

Every net here can be saved with ``th.save(net, path)`` and loaded with
``imitation.rewards.serialize.load_reward_net(path)`` (no code from the file
runs; see :mod:`imitation.rewards.persistence`) or
``imitation.rewards.serialize.load_reward``.
"""

from imitation.rewards.reward_nets.architectures import (
    BasicPotentialCNN,
    BasicPotentialMLP,
    BasicRewardNet,
    BasicShapedRewardNet,
    CnnRewardNet,
    ShapedRewardNet,
)
from imitation.rewards.reward_nets.base import (
    ForwardWrapper,
    PredictProcessedWrapper,
    RewardNet,
    RewardNetWrapper,
    check_dict_obs,
    cnn_transpose,
    dict_keys,
    flatten_obs,
)
from imitation.rewards.reward_nets.processing import (
    AddSTDRewardWrapper,
    NormalizedRewardNet,
    RewardEnsemble,
    RewardNetWithVariance,
)
from imitation.rewards.reward_nets.value_potential import ValuePotential

__all__ = [
    "AddSTDRewardWrapper",
    "BasicPotentialCNN",
    "BasicPotentialMLP",
    "BasicRewardNet",
    "BasicShapedRewardNet",
    "CnnRewardNet",
    "ForwardWrapper",
    "NormalizedRewardNet",
    "PredictProcessedWrapper",
    "RewardEnsemble",
    "RewardNet",
    "RewardNetWithVariance",
    "RewardNetWrapper",
    "ShapedRewardNet",
    "ValuePotential",
    "check_dict_obs",
    "cnn_transpose",
    "dict_keys",
    "flatten_obs",
]
