"""Hyperparameter presets shared by the examples, benchmarks and command line.

One place for settings that would otherwise be copied by hand: the scripts'
named configs, the quickstart, the tutorials and the benchmarks import them.
"""

from __future__ import annotations

from typing import Any

PPO_DEFAULTS: dict[str, Any] = dict(
    batch_size=64,
    ent_coef=0.0,
    learning_rate=3e-4,
    n_epochs=10,
)
"""PPO settings of the command line's ``rl`` ingredient (besides ``n_steps``)."""
