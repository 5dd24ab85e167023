"""Reward networks, reward wrappers and reward serialisation.

Saved reward nets load without running code from the file through
``imitation.rewards.serialize.load_reward_net`` / ``load_reward`` (see
:mod:`imitation.rewards.persistence`). Importing this package changes nothing
about what ``torch.load`` accepts elsewhere.
"""

from imitation.rewards import persistence as persistence  # noqa: F401
