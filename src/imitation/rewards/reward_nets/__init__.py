"""Reward networks: differentiable ``forward`` for training, ``predict*`` for RL.

``forward(state, action, next_state, done)`` takes preprocessed tensors and is
what reward learning differentiates. ``predict_th``/``predict`` take raw numpy
batches, preprocess them (tensors on the net's device, one-hot encoding of
discrete spaces, image scaling) and evaluate without gradients.
``predict_processed`` adds post-processing meant for policy training, such as
normalisation (:class:`NormalizedRewardNet`).

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
    cnn_transpose,
)
from imitation.rewards.reward_nets.processing import (
    AddSTDRewardWrapper,
    NormalizedRewardNet,
    RewardEnsemble,
    RewardNetWithVariance,
)

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
    "cnn_transpose",
]
