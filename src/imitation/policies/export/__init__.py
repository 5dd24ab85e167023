"""Export policies and reward nets to ONNX (and TorchScript) for torch-free inference.

* :func:`export_onnx` writes one self-contained ``.onnx`` file for an SB3 /
  imitation policy (its deterministic action, as ``policy.predict(obs,
  deterministic=True)`` gives it: Box actions clipped to the space, or
  unscaled for squashed policies such as SAC's; Discrete actions as int64) or
  for a :class:`~imitation.rewards.reward_nets.RewardNet` (its reward in eval
  mode; by default the *processed* reward used for policy training, so a
  :class:`~imitation.rewards.reward_nets.NormalizedRewardNet` includes its
  normalisation with frozen statistics).
* :func:`check_onnx` runs the file in ``onnxruntime`` on random inputs from
  the model's spaces and compares with PyTorch (within ``1e-5`` by default).
* :func:`export_torchscript` and :func:`check_torchscript` do the same with
  a traced TorchScript module, which covers ops ONNX lacks.

Inputs take the raw values the environment gives: observations with the
observation space's dtype (int64 for Discrete), reward-net actions likewise,
``done`` as bool; the graphs do the preprocessing (one-hot encoding, image
scaling). Every input has a dynamic leading batch axis. A ``Dict``
observation becomes one input per key, in sorted key order, named
``obs.<key>`` (``state.<key>`` / ``next_state.<key>`` for reward nets); see
:func:`input_names`. Needs the ``onnx`` extra
(``pip install 'imitation[onnx]'``).
"""

from imitation.policies.export.files import (
    check_onnx,
    check_torchscript,
    export_onnx,
    export_torchscript,
)
from imitation.policies.export.modules import (
    ExportError,
    ExportMismatchError,
    PolicyActionModule,
    RewardModule,
    as_module,
    input_names,
    random_inputs,
)

__all__ = [
    "ExportError",
    "ExportMismatchError",
    "PolicyActionModule",
    "RewardModule",
    "as_module",
    "check_onnx",
    "check_torchscript",
    "export_onnx",
    "export_torchscript",
    "input_names",
    "random_inputs",
]
