"""Evaluation-mode forward passes of plain MLPs in numpy, for per-step rewards.

A reward net is asked for the rewards of one small batch (one transition per
environment) on every environment step. For the small MLPs reward nets use,
PyTorch's per-call overhead (module calls, dispatch, autograd bookkeeping) is
several times the arithmetic; the same layers in numpy cost a fraction of it.

:func:`numpy_forward` returns a function computing a module's evaluation-mode,
gradient-free output in numpy, or None when the module is not one this module
can mirror exactly: an ``nn.Sequential`` (or a single layer) made of
``nn.Linear``, ``nn.Flatten``, the element-wise activations listed in
:data:`_ACTIVATIONS`, :class:`~imitation.util.networks.SqueezeLayer`, the
running normalisers of :mod:`imitation.util.networks` (their evaluation
formula) and ``nn.Identity``, on CPU float32 parameters, with no hooks and
no overridden ``forward``.

The numpy arrays are views of the parameters and buffers (shared memory), so
optimizer steps, ``load_state_dict`` and running-statistics updates show at
once. What views cannot follow is caught before every call: a parameter or
buffer whose storage was replaced (``p.data = ...``), a submodule, parameter
or buffer of the module or its layers added, removed or replaced since the
plan was built (the reward net may have been edited), or a hook added. The
plan is then rebuilt, or the function returns None and the caller falls back
to torch. Nothing is registered with torch: the checks look at the module
itself, so importing or using this module leaves every other ``nn.Module``
in the process alone.
"""

from __future__ import annotations

import itertools
import operator
import weakref
from collections.abc import Callable
from typing import cast

import numpy as np
import torch as th
from torch import nn

from imitation.util import networks, sb3_compat


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


_ACTIVATIONS: dict[type[nn.Module], Callable[[np.ndarray], np.ndarray]] = {
    nn.ReLU: lambda x: np.maximum(x, np.float32(0)),
    nn.Tanh: np.tanh,
    nn.Sigmoid: _sigmoid,
    nn.Identity: lambda x: x,
}
"""Element-wise layers mirrored in numpy (results within float32 rounding)."""

Step = Callable[[np.ndarray], np.ndarray]


def hooked(m: nn.Module) -> bool:
    """Whether ``m`` has forward hooks or an instance-level ``forward``."""
    return sb3_compat.forward_hooked(m)


def _linear(layer: nn.Linear, keep: list[th.Tensor]) -> Step:
    weight_t = layer.weight.detach().numpy().T  # a view: (in, out)
    keep.append(layer.weight)
    if layer.bias is None:
        return lambda x: x @ weight_t
    bias = layer.bias.detach().numpy()
    keep.append(layer.bias)
    return lambda x: x @ weight_t + bias


def _norm(layer: networks.BaseNorm, keep: list[th.Tensor]) -> Step:
    mean = layer.running_mean.detach().numpy()
    var = layer.running_var.detach().numpy()
    keep += [layer.running_mean, layer.running_var]
    eps = np.float32(layer.eps)
    width = layer.num_features

    def normalise(x: np.ndarray) -> np.ndarray:
        if width != 1 and x.shape[-1] != width:
            raise ValueError(
                f"Expected inputs of shape (..., {width}), got {x.shape}.",
            )
        return (x - mean) / np.sqrt(var + eps)

    return normalise


def _squeeze(x: np.ndarray) -> np.ndarray:
    if x.ndim == 0 or x.shape[-1] != 1:
        raise ValueError(
            f"SqueezeLayer needs a last dimension of size 1, got shape {x.shape}.",
        )
    return x[..., 0]


def _flatten(layer: nn.Flatten) -> Step | None:
    if (layer.start_dim, layer.end_dim) != (1, -1):
        return None
    return lambda x: x.reshape(len(x), -1)


def _step(layer: nn.Module, keep: list[th.Tensor]) -> Step | None:
    kind = type(layer)
    if kind is nn.Linear:
        return _linear(layer, keep)  # type: ignore[arg-type]
    if kind in _ACTIVATIONS:
        return _ACTIVATIONS[kind]
    if kind is nn.LeakyReLU:
        slope = np.float32(cast(nn.LeakyReLU, layer).negative_slope)
        return lambda x: np.where(x >= 0, x, x * slope)
    if kind is networks.SqueezeLayer:
        return _squeeze
    if kind is nn.Flatten:
        return _flatten(layer)  # type: ignore[arg-type]
    if kind in (networks.RunningNorm, networks.EMANorm):
        return _norm(layer, keep)  # type: ignore[arg-type]
    return None


_FORWARD = itertools.repeat("forward")
"""The key of an instance-level ``forward``, for each module's ``__dict__``."""


class _Plan:
    """The numpy steps of one module, and what they depend on."""

    __slots__ = (
        "steps",
        "tensors",
        "pointers",
        "modules",
        "hooks",
        "attributes",
        "views",
        "filled",
        "lengths",
        "members",
    )

    def __init__(self, module: nn.Module) -> None:
        layers = list(module) if type(module) is nn.Sequential else [module]
        self.modules = [module, *layers]
        self.hooks = [d for m in self.modules for d in sb3_compat.forward_hook_dicts(m)]
        self.attributes = [vars(m) for m in self.modules]
        # Live views of the dicts each module keeps its submodules, parameters
        # and buffers in (torch edits them in place), and what they held.
        self.views = [
            d.values() for m in self.modules for d in sb3_compat.module_dicts(m)
        ]
        self.filled = [view for view in self.views if len(view)]
        self.lengths = [len(view) for view in self.views]
        # Holding the members keeps them alive, so ``is`` comparisons stay exact.
        self.members = list(itertools.chain.from_iterable(self.filled))
        self.tensors: list[th.Tensor] = []
        steps = [_step(layer, self.tensors) for layer in layers]
        self.steps: list[Step] | None = [s for s in steps if s is not None]
        if len(self.steps) < len(steps):
            self.steps = None
        if any(
            t.dtype != th.float32 or t.device.type != "cpu" or not t.is_contiguous()
            for t in self.tensors
        ):
            self.steps = None
        self.pointers = [t.data_ptr() for t in self.tensors]

    def current(self) -> bool:
        """Whether the module still holds what the plan was built from.

        The same submodules, parameters and buffers (none added, removed or
        replaced), with the same storage under each tensor the views show.
        """
        # Called before every forward: the loops run in C (map, chain).
        return (
            list(map(len, self.views)) == self.lengths
            and all(
                map(
                    operator.is_,
                    itertools.chain.from_iterable(self.filled),
                    self.members,
                )
            )
            and list(map(th.Tensor.data_ptr, self.tensors)) == self.pointers
        )

    def usable(self) -> bool:
        """Whether every layer has a numpy step and none has a hook."""
        # Called before every forward: the loops run in C (any, map).
        return (
            self.steps is not None
            and not any(self.hooks)
            and not any(map(operator.contains, self.attributes, _FORWARD))
        )

    def run(self, x: np.ndarray) -> np.ndarray:
        assert self.steps is not None
        for step in self.steps:
            x = step(x)
        return x


_PLANS: weakref.WeakKeyDictionary[nn.Module, _Plan] = weakref.WeakKeyDictionary()


def numpy_forward(module: nn.Module, x: np.ndarray) -> np.ndarray | None:
    """``module(x)`` in evaluation mode without gradients, computed in numpy.

    Args:
        module: The module (see the module docstring for which ones work).
        x: A float32 input batch.

    Returns:
        The output as a float32 array (equal to torch's up to float32
        rounding), or None if ``module`` cannot be mirrored in numpy right now;
        then call it with torch.
    """
    if x.dtype != np.float32 or sb3_compat.global_forward_hooks():
        return None
    plan = _PLANS.get(module)
    if plan is None or not plan.current():
        plan = _PLANS[module] = _Plan(module)
    if not plan.usable():
        return None
    return plan.run(x)
