"""Hyperparameter presets shared by the examples, benchmarks and command line.

One place for settings that would otherwise be copied by hand: the scripts'
named configs, the quickstart, the tutorials and the benchmarks import them.
The ``*_CARTPOLE_*`` presets are the tutorials' settings for
``seals/CartPole-v0`` (8 environments, 60 expert episodes); their learning
results are in ``docs/benchmarks.md``.
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

GAIL_CARTPOLE_PPO: dict[str, Any] = dict(
    batch_size=64,
    ent_coef=0.0,
    learning_rate=4e-4,
    gamma=0.95,
    n_epochs=5,
)
"""GAIL's generator (PPO) on CartPole."""

GAIL_CARTPOLE_TRAINER: dict[str, Any] = dict(
    demo_batch_size=1024,
    gen_replay_buffer_capacity=512,
    n_disc_updates_per_round=8,
)
"""GAIL's own settings on CartPole."""

AIRL_CARTPOLE_PPO: dict[str, Any] = dict(
    batch_size=64,
    ent_coef=0.0,
    learning_rate=5e-4,
    gamma=0.95,
    clip_range=0.1,
    vf_coef=0.1,
    n_epochs=5,
)
"""AIRL's generator (PPO) on CartPole."""

AIRL_CARTPOLE_TRAINER: dict[str, Any] = dict(
    demo_batch_size=2048,
    gen_replay_buffer_capacity=512,
    n_disc_updates_per_round=16,
)
"""AIRL's own settings on CartPole."""

SQIL_CARTPOLE_DQN: dict[str, Any] = dict(
    learning_rate=1e-3,
    learning_starts=1_000,
    target_update_interval=500,
    exploration_fraction=0.1,
    policy_kwargs=dict(net_arch=[256, 256]),
)
"""SQIL's learner (``SoftDQN``) on CartPole, for the quickstart's 40,000 steps.

A point of the SQIL benchmark's grid (``docs/benchmarks.md``); the slower
learning rate 2.5e-4 with target updates every 1,000 steps fell short of the
expert in 40,000 steps (0.60 on seed 0 with two Q-networks)."""

PC_CARTPOLE_PPO: dict[str, Any] = dict(GAIL_CARTPOLE_PPO, n_steps=256, n_epochs=10)
"""The preference-comparisons agent on CartPole: GAIL's PPO, shorter rollouts.

Ten epochs per rollout (SB3's default) rather than GAIL's five: the loop is
no steadier than its agent, and with five epochs PPO on the *true* reward
was itself marginal at the row's 72,000 steps (on 10 seeds, 2 below 500 at
the end and 5 below at 57,600 steps, down to 429); with ten it held 500 from
57,600 steps on all 10 (``docs/benchmarks.md``, "Preference comparisons")."""
