"""Learning a reward from preferences between trajectory fragments (DRLHP).

Preferences are modelled as Bradley-Terry choices over fragment returns: the
first fragment of a pair is preferred with probability ``sigmoid(R1 - R2)``,
``R`` being its return under the learned reward, so the reward is fitted with
a cross-entropy loss on the gathered preferences. :class:`PreferenceComparisons`
runs the loop; its parts are interchangeable:

* trajectory generators (:class:`TrajectoryDataset`, :class:`AgentTrainer`),
* fragmenters (:class:`RandomFragmenter`, :class:`ActiveSelectionFragmenter`),
* preference gatherers (:class:`SyntheticGatherer`, and :class:`HumanGatherer`
  asking a person in the browser),
* reward trainers (:class:`BasicRewardTrainer`, :class:`EnsembleTrainer`) with
  a :class:`PreferenceModel` and a :class:`RewardLoss`.
"""

from imitation.algorithms.preference_comparisons.algorithm import (
    QUERY_SCHEDULES,
    PreferenceComparisons,
)
from imitation.algorithms.preference_comparisons.fragmenters import (
    ActiveSelectionFragmenter,
    Fragmenter,
    RandomFragmenter,
)
from imitation.algorithms.preference_comparisons.human import (
    AnswerLog,
    HumanGatherer,
    StateRenderer,
)
from imitation.algorithms.preference_comparisons.preference_model import (
    PreferenceModel,
    TrajectoryPair,
    TrajectoryWithRewPair,
    get_base_model,
)
from imitation.algorithms.preference_comparisons.preferences import (
    PreferenceDataset,
    PreferenceGatherer,
    SyntheticGatherer,
    preference_collate_fn,
)
from imitation.algorithms.preference_comparisons.reward_trainers import (
    BasicRewardTrainer,
    CrossEntropyRewardLoss,
    EnsembleTrainer,
    LossAndMetrics,
    RewardLoss,
    RewardTrainer,
)
from imitation.algorithms.preference_comparisons.trajectory_generators import (
    AgentTrainer,
    TrajectoryDataset,
    TrajectoryGenerator,
)

__all__ = [
    "QUERY_SCHEDULES",
    "ActiveSelectionFragmenter",
    "AgentTrainer",
    "AnswerLog",
    "BasicRewardTrainer",
    "CrossEntropyRewardLoss",
    "EnsembleTrainer",
    "Fragmenter",
    "HumanGatherer",
    "LossAndMetrics",
    "PreferenceComparisons",
    "PreferenceDataset",
    "PreferenceGatherer",
    "PreferenceModel",
    "RandomFragmenter",
    "RewardLoss",
    "RewardTrainer",
    "StateRenderer",
    "SyntheticGatherer",
    "TrajectoryDataset",
    "TrajectoryGenerator",
    "TrajectoryPair",
    "TrajectoryWithRewPair",
    "get_base_model",
    "preference_collate_fn",
]
