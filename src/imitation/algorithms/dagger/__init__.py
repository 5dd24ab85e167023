"""DAgger: BC on a dataset aggregated from the learner's own state distribution.

Training proceeds in rounds. In each round a demonstrator labels the states
that a mix of itself and the current learner visits (the learner acts with
probability ``1 - beta``), and BC then trains on every demonstration gathered
so far. All state lives in a scratch directory::

    scratch_dir/
        checkpoint-001.pt ... checkpoint-latest.pt   (trainer snapshots)
        policy-001.pt ... policy-latest.pt           (the policy alone)
        demos/
            round-000/demos_round_000_000.npz, demos_round_000_001.npz, ...
            round-001/...

Every file is written atomically, so a run killed at any point resumes with
:func:`reconstruct_trainer` without losing a saved demonstration.

The demonstrator may be a program (:class:`SimpleDAggerTrainer`) or a person
in the browser: labelling each visited state as the rollout waits
(:class:`SimpleDAggerTrainer` with a
:class:`~imitation.algorithms.preference_comparisons.human.HumanLabeller` as
its expert) or while the learner goes on rolling out
(:class:`HumanDAggerTrainer`).

The modules: :mod:`.schedules` (beta), :mod:`.collector` (recording the
demonstrations), :mod:`.trainer` (the rounds, checkpoints and the loop) and
:mod:`.human` (the asynchronous trainer for a person).
"""

from imitation.algorithms.dagger.collector import InteractiveTrajectoryCollector
from imitation.algorithms.dagger.human import HumanDAggerTrainer
from imitation.algorithms.dagger.schedules import (
    BetaSchedule,
    ExponentialBetaSchedule,
    LinearBetaSchedule,
)
from imitation.algorithms.dagger.trainer import (
    DAggerTrainer,
    NeedsDemosException,
    SimpleDAggerTrainer,
    reconstruct_trainer,
)

__all__ = [
    "BetaSchedule",
    "DAggerTrainer",
    "ExponentialBetaSchedule",
    "HumanDAggerTrainer",
    "InteractiveTrajectoryCollector",
    "LinearBetaSchedule",
    "NeedsDemosException",
    "SimpleDAggerTrainer",
    "reconstruct_trainer",
]
