"""Minari datasets in and out: trajectories from and to ``minari`` datasets.

`Minari <https://minari.farama.org>`_ stores offline RL datasets by id
(``[namespace/]name-v<version>``) under ``MINARI_DATASETS_PATH`` (default
``~/.minari/datasets``). Each episode holds ``N + 1`` observations and ``N``
actions, rewards, terminations and truncations.

* :func:`load_trajectories` reads a local dataset as
  :class:`~imitation.data.types.TrajectoryWithRew`: an episode whose last step
  is a termination is ``terminal``; one that ends by truncation (a time
  limit), or with neither flag, is not.
* :func:`save_trajectories` writes trajectories as a new dataset that
  ``minari.load_dataset`` reads back with equal arrays (images are stored
  losslessly, not JPEG-encoded). The last step of a terminal trajectory is a
  termination, of any other a truncation. Infos are not written.

Dict observations are read as, and written from,
:class:`~imitation.data.types.DictObs`. Needs the ``minari`` extra
(``pip install 'imitation[minari]'``).
"""

from imitation.data.minari.common import (
    MinariFormatError,
    MinariSpaceMismatchError,
    dataset_path,
)
from imitation.data.minari.loading import load_trajectories
from imitation.data.minari.saving import save_trajectories

__all__ = [
    "MinariFormatError",
    "MinariSpaceMismatchError",
    "dataset_path",
    "load_trajectories",
    "save_trajectories",
]
