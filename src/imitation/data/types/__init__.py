"""Data types for trajectories and transitions, with validation on construction.

A *trajectory* is one episode (or a fragment of one): ``N + 1`` observations and
``N`` actions. *Transitions* are trajectories flattened into independent samples,
the form most algorithms train on. Observations are either plain arrays or
:class:`DictObs`, a dict of arrays for ``gymnasium.spaces.Dict`` observation
spaces that behaves like an array along its leading (time) axis.

Every constructor checks lengths, shapes and dtypes and raises ``ValueError``
naming the offending field, so malformed data fails where it is made rather than
deep inside a training loop.
"""

from imitation.data.types.observations import (
    AnyTensor,
    DictObs,
    Observation,
    ObsVar,
    Pair,
    TensorVar,
    assert_not_dictobs,
    concatenate_maybe_dictobs,
    dataclass_quick_asdict,
    index_maybe_dict,
    map_maybe_dict,
    maybe_unwrap_dictobs,
    maybe_wrap_in_dictobs,
    stack_maybe_dictobs,
    to_numpy_maybe_dict,
    to_tensor_maybe_dict,
)
from imitation.data.types.trajectories import (
    Trajectory,
    TrajectoryPair,
    TrajectoryWithRew,
    TrajectoryWithRewPair,
    TransitionMapping,
    TransitionMappingNoNextObs,
    Transitions,
    TransitionsMinimal,
    TransitionsMinimalSelf,
    TransitionsWithRew,
    transitions_collate_fn,
    transitions_from_batches,
)
from imitation.util.paths import AnyPath

__all__ = [
    "AnyPath",
    "AnyTensor",
    "DictObs",
    "ObsVar",
    "Observation",
    "Pair",
    "TensorVar",
    "Trajectory",
    "TrajectoryPair",
    "TrajectoryWithRew",
    "TrajectoryWithRewPair",
    "TransitionMapping",
    "TransitionMappingNoNextObs",
    "Transitions",
    "TransitionsMinimal",
    "TransitionsMinimalSelf",
    "TransitionsWithRew",
    "assert_not_dictobs",
    "concatenate_maybe_dictobs",
    "dataclass_quick_asdict",
    "index_maybe_dict",
    "map_maybe_dict",
    "maybe_unwrap_dictobs",
    "maybe_wrap_in_dictobs",
    "stack_maybe_dictobs",
    "to_numpy_maybe_dict",
    "to_tensor_maybe_dict",
    "transitions_collate_fn",
    "transitions_from_batches",
]
