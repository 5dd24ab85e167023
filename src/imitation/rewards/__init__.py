"""Reward networks, reward wrappers and reward serialisation.

Importing this package registers the safe loader of saved reward nets with
``torch.load`` (see :mod:`imitation.rewards.persistence`).
"""

from imitation.rewards import persistence as persistence  # noqa: F401
