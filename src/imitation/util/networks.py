"""Neural network building blocks: normalisation layers and MLP/CNN builders."""

from __future__ import annotations

import abc
import collections
import contextlib
from collections.abc import Callable, Iterable

import torch as th
from torch import nn

from imitation.util import class_registry, sb3_compat
from imitation.util.class_registry import Use


def module_tree(m: nn.Module) -> list[nn.Module]:
    """``list(m.modules())``, without building the submodules' names.

    ``nn.Module.modules`` formats a dotted name for every submodule; on the
    per-step reward path that costs more than the walk itself.
    """
    tree, seen = [m], {id(m)}
    for module in tree:  # ``tree`` grows while it is walked: breadth first
        for child in sb3_compat.child_modules(module):
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                tree.append(child)
    return tree


def first_parameter(m: nn.Module) -> th.Tensor | None:
    """The first of ``m.parameters()`` (depth first, as torch orders them), or None."""
    for param in sb3_compat.own_parameters(m):
        if param is not None:
            return param
    for child in sb3_compat.child_modules(m):
        if child is not None:
            found = first_parameter(child)
            if found is not None:
                return found
    return None


def training_mode(
    m: nn.Module, mode: bool = False
) -> contextlib.AbstractContextManager[nn.Module]:
    """Put ``m`` in training mode ``mode`` inside the block, then restore it.

    Every submodule gets ``mode`` inside the block and its own previous mode
    afterwards, so submodules that were in a different mode than ``m`` (say, a
    frozen part kept in evaluation mode) stay that way. The ``training`` flags
    are set directly: overrides of ``nn.Module.train`` are not called.

    Args:
        m: The module.
        mode: True for training mode, False for evaluation mode.

    Returns:
        A context manager whose ``with`` block sees ``m`` in the mode.
    """
    return _TrainingMode(m, mode)


class _TrainingMode(contextlib.AbstractContextManager):
    """The context manager of :func:`training_mode`.

    A class, because it is entered on every reward prediction, where a
    generator-based context manager costs noticeably more.
    """

    __slots__ = ("_module", "_mode", "_saved", "_no_grad", "_grad_was")

    def __init__(self, m: nn.Module, mode: bool = False, no_grad: bool = False) -> None:
        self._module, self._mode, self._no_grad = m, mode, no_grad
        self._saved: list[nn.Module] = []
        self._grad_was = True

    def __enter__(self) -> nn.Module:
        # Flags are set directly: ``nn.Module.train`` is slow enough to
        # dominate a small net's prediction, and setting ``training`` runs no
        # hooks. Only modules in the other mode change, and they change back
        # on exit.
        mode = self._mode
        self._saved = [m for m in module_tree(self._module) if m.training != mode]
        for mod in self._saved:
            object.__setattr__(mod, "training", mode)
        if self._no_grad:
            self._grad_was = th.is_grad_enabled()
            th.set_grad_enabled(False)
        return self._module

    def __exit__(self, *exc_info: object) -> None:
        if self._no_grad:
            th.set_grad_enabled(self._grad_was)
        restore = not self._mode
        for mod in self._saved:
            object.__setattr__(mod, "training", restore)
        self._saved = []


def training(m: nn.Module) -> contextlib.AbstractContextManager[nn.Module]:
    """Put ``m`` in training mode inside the block, then restore it.

    Args:
        m: The module.

    Returns:
        The context manager ``training_mode(m, True)``.
    """
    return training_mode(m, True)


def evaluating(m: nn.Module) -> contextlib.AbstractContextManager[nn.Module]:
    """Put ``m`` in evaluation mode inside the block, then restore it.

    Args:
        m: The module.

    Returns:
        The context manager ``training_mode(m, False)``.
    """
    return training_mode(m, False)


def predicting(m: nn.Module) -> contextlib.AbstractContextManager[nn.Module]:
    """Evaluation mode (as :func:`evaluating`) and no gradients, in one block.

    One context instead of ``evaluating(m)`` plus ``th.no_grad()``: cheaper on
    the per-step reward path.

    Args:
        m: The module.

    Returns:
        The context manager.
    """
    return _TrainingMode(m, False, no_grad=True)


ACTIVATION_CLASSES = class_registry.ACTIVATION_CLASSES
"""Activation layers that saved policies and reward nets may name (safe to build)."""


class SqueezeLayer(nn.Module):
    """Remove a trailing dimension of size 1: ``(..., 1)`` to ``(...)``."""

    def forward(self, x: th.Tensor) -> th.Tensor:
        """Squeeze the last dimension.

        Args:
            x: Tensor whose last dimension has size 1.

        Returns:
            ``x`` without its last dimension.

        Raises:
            ValueError: If the last dimension is not of size 1.
        """
        if x.ndim == 0 or x.shape[-1] != 1:
            raise ValueError(
                f"SqueezeLayer needs a last dimension of size 1, got shape "
                f"{tuple(x.shape)}.",
            )
        return x.squeeze(-1)


class BaseNorm(nn.Module, abc.ABC):
    """Normalise inputs to zero mean and unit variance with running statistics.

    Inputs have shape ``(..., num_features)``; every leading index is one sample.
    (With ``num_features == 1`` any shape is accepted, every element being one
    sample, so a batch of scalars of shape ``(n,)`` works too.) In training
    mode each input first updates the statistics (see :meth:`update_stats`);
    in evaluation mode they stay fixed. The statistics are buffers, so they are
    saved in the ``state_dict`` and follow the module across devices.
    """

    running_mean: th.Tensor
    running_var: th.Tensor
    count: th.Tensor

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        """Make the layer, with mean 0 and variance 1 until it sees data.

        Args:
            num_features: Size of the last input dimension.
            eps: Added to the variance before taking its square root.

        Raises:
            ValueError: If ``num_features`` is not positive or ``eps`` is negative.
        """
        if num_features < 1:
            raise ValueError(f"num_features={num_features} must be positive.")
        if eps < 0:
            raise ValueError(f"eps={eps} must not be negative.")
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.register_buffer("running_mean", th.zeros(num_features))
        self.register_buffer("running_var", th.ones(num_features))
        self.register_buffer("count", th.zeros((), dtype=th.int64))

    def reset_running_stats(self) -> None:
        """Forget the statistics: mean 0, variance 1, count 0."""
        self.running_mean.zero_()
        self.running_var.fill_(1)
        self.count.zero_()

    def forward(self, x: th.Tensor) -> th.Tensor:
        """Normalise ``x``, after updating the statistics with it in training mode.

        Args:
            x: Input of shape ``(..., num_features)``.

        Returns:
            ``(x - running_mean) / sqrt(running_var + eps)``, shaped like ``x``.

        Raises:
            ValueError: If the last dimension of ``x`` is not ``num_features``.
        """
        if self.num_features != 1 and (x.ndim == 0 or x.shape[-1] != self.num_features):
            raise ValueError(
                f"Expected inputs of shape (..., {self.num_features}), got "
                f"{tuple(x.shape)}.",
            )
        if self.training:
            with th.no_grad():
                self.update_stats(x.reshape(-1, self.num_features))
        return (x - self.running_mean) / th.sqrt(self.running_var + self.eps)

    @abc.abstractmethod
    def update_stats(self, batch: th.Tensor) -> None:
        """Fold a batch of samples into the running statistics.

        Args:
            batch: Samples, of shape ``(n, num_features)``; ``n`` may be 0.
        """


@class_registry.register(Use.RESTORE | Use.ARGUMENT)
class RunningNorm(BaseNorm):
    """Normalise with the exact mean and variance of every sample seen so far.

    The batch moments are merged into the running ones with the parallel
    algorithm of Chan et al., which stays accurate over many batches.
    ``running_var`` is the population (biased) variance.
    """

    def update_stats(self, batch: th.Tensor) -> None:
        """Merge the batch's mean and variance into the running ones.

        Args:
            batch: Samples, of shape ``(n, num_features)``; ``n`` may be 0.
        """
        n = batch.shape[0]
        if n == 0:
            return
        batch_mean = batch.mean(0)
        batch_var = batch.var(0, correction=0)
        old_count = self.count.item()
        total = old_count + n
        delta = batch_mean - self.running_mean
        sum_sq = (
            self.running_var * old_count
            + batch_var * n
            + delta.square() * (old_count * n / total)
        )
        self.running_mean.add_(delta * (n / total))
        self.running_var.copy_(sum_sq / total)
        self.count += n


@class_registry.register(Use.RESTORE | Use.ARGUMENT)
class EMANorm(BaseNorm):
    """Normalise with exponential moving averages of the batch mean and variance.

    The first batch sets the statistics; each later batch moves them towards
    its own by ``1 - decay``, so recent data dominates and the statistics can
    follow a drifting distribution.
    """

    def __init__(
        self,
        num_features: int,
        decay: float = 0.99,
        eps: float = 1e-5,
    ) -> None:
        """Make the layer.

        Args:
            num_features: Size of the last input dimension.
            decay: Weight kept by the old statistics at each update, in (0, 1).
            eps: Added to the variance before taking its square root.

        Raises:
            ValueError: If ``decay`` is outside (0, 1), or as for ``BaseNorm``.
        """
        if not 0 < decay < 1:
            raise ValueError(f"decay={decay} must be in (0, 1).")
        super().__init__(num_features, eps=eps)
        self.decay = decay

    @property
    def inv_learning_rate(self) -> float:
        """The inverse of the weight the next batch's statistics get.

        1 before the first batch (which sets the statistics), then
        ``1 / (1 - decay)``.
        """
        if self.count.item() == 0:
            return 1.0
        return 1.0 / (1.0 - self.decay)

    def update_stats(self, batch: th.Tensor) -> None:
        """Move the statistics towards the batch's (the first batch sets them).

        The variance update accounts for the shift of the mean, so it tracks the
        variance around the moving mean rather than around a stale one.

        Args:
            batch: Samples, of shape ``(n, num_features)``; ``n`` may be 0.
        """
        n = batch.shape[0]
        if n == 0:
            return
        batch_mean = batch.mean(0)
        batch_var = batch.var(0, correction=0)
        if self.count.item() == 0:
            self.running_mean.copy_(batch_mean)
            self.running_var.copy_(batch_var)
        else:
            weight = 1 - self.decay
            delta = batch_mean - self.running_mean
            self.running_mean.add_(weight * delta)
            self.running_var.copy_(
                self.decay * (self.running_var + weight * delta.square())
                + weight * batch_var,
            )
        self.count += n


def build_mlp(
    in_size: int,
    hid_sizes: Iterable[int],
    out_size: int = 1,
    name: str | None = None,
    activation: Callable[[], nn.Module] = nn.ReLU,
    dropout_prob: float = 0.0,
    squeeze_output: bool = False,
    flatten_input: bool = False,
    normalize_input_layer: Callable[[int], nn.Module] | None = None,
) -> nn.Module:
    """Build a multi-layer perceptron.

    Layers, in order: optional ``Flatten``, optional input normalisation, then
    for each hidden size a ``Linear``, the activation and optional ``Dropout``,
    then a final ``Linear`` to ``out_size`` and optional squeeze.

    Args:
        in_size: Input size (after flattening, if ``flatten_input``).
        hid_sizes: Sizes of the hidden layers; empty gives a linear model.
        out_size: Output size.
        name: Prefix of the layer names (``<name>_dense0``, ...); none if None.
        activation: Makes the activation after each hidden layer.
        dropout_prob: Dropout probability after each hidden activation; 0
            adds no dropout layers.
        squeeze_output: Remove the last output dimension (needs ``out_size == 1``),
            giving outputs of shape ``(batch,)``.
        flatten_input: Flatten all but the batch dimension first.
        normalize_input_layer: Makes a normalisation layer from the input size,
            applied to the input, e.g. ``RunningNorm``.

    Returns:
        The network, an ``nn.Sequential`` with named layers.

    Raises:
        ValueError: If ``squeeze_output`` is set with ``out_size != 1``.
    """
    if squeeze_output and out_size != 1:
        raise ValueError(f"squeeze_output needs out_size == 1, got {out_size}.")
    prefix = f"{name}_" if name else ""
    layers: dict[str, nn.Module] = {}
    if flatten_input:
        layers[f"{prefix}flatten"] = nn.Flatten()
    if normalize_input_layer is not None:
        layers[f"{prefix}normalize_input"] = normalize_input_layer(in_size)
    prev_size = in_size
    for i, size in enumerate(hid_sizes):
        layers[f"{prefix}dense{i}"] = nn.Linear(prev_size, size)
        layers[f"{prefix}act{i}"] = activation()
        if dropout_prob > 0:
            layers[f"{prefix}dropout{i}"] = nn.Dropout(dropout_prob)
        prev_size = size
    layers[f"{prefix}dense_final"] = nn.Linear(prev_size, out_size)
    if squeeze_output:
        layers[f"{prefix}squeeze"] = SqueezeLayer()
    return nn.Sequential(collections.OrderedDict(layers))


def build_cnn(
    in_channels: int,
    hid_channels: Iterable[int],
    out_size: int = 1,
    name: str | None = None,
    activation: Callable[[], nn.Module] = nn.ReLU,
    kernel_size: int = 3,
    stride: int = 1,
    padding: int | str = "same",
    dropout_prob: float = 0.0,
    squeeze_output: bool = False,
) -> nn.Module:
    """Build a convolutional network for inputs of shape ``(batch, C, H, W)``.

    Layers, in order: for each hidden channel count a ``Conv2d``, the activation
    and optional ``Dropout``; then a global max-pool over height and width, a
    final ``Linear`` to ``out_size`` and optional squeeze. Thanks to the global
    pool, any image size works.

    Args:
        in_channels: Input channels ``C``.
        hid_channels: Output channels of each convolution; at least one.
        out_size: Output size.
        name: Prefix of the layer names (``<name>_conv0``, ...); none if None.
        activation: Makes the activation after each convolution.
        kernel_size: Convolution kernel size.
        stride: Convolution stride.
        padding: Convolution padding; ``"same"`` needs ``stride == 1``.
        dropout_prob: Dropout probability after each activation; 0 adds no
            dropout layers.
        squeeze_output: Remove the last output dimension (needs ``out_size == 1``).

    Returns:
        The network, an ``nn.Sequential`` with named layers.

    Raises:
        ValueError: If ``hid_channels`` is empty, ``squeeze_output`` is set
            with ``out_size != 1``, or ``padding="same"`` with ``stride != 1``.
    """
    hid_channels = list(hid_channels)
    if not hid_channels:
        raise ValueError("build_cnn needs at least one convolution (hid_channels).")
    if squeeze_output and out_size != 1:
        raise ValueError(f"squeeze_output needs out_size == 1, got {out_size}.")
    if padding == "same" and stride != 1:
        raise ValueError(f"padding='same' needs stride == 1, got stride={stride}.")
    prefix = f"{name}_" if name else ""
    layers: dict[str, nn.Module] = {}
    prev_channels = in_channels
    for i, channels in enumerate(hid_channels):
        layers[f"{prefix}conv{i}"] = nn.Conv2d(
            prev_channels,
            channels,
            kernel_size,
            stride=stride,
            padding=padding,
        )
        layers[f"{prefix}act{i}"] = activation()
        if dropout_prob > 0:
            layers[f"{prefix}dropout{i}"] = nn.Dropout(dropout_prob)
        prev_channels = channels
    layers[f"{prefix}pool"] = nn.AdaptiveMaxPool2d(1)
    layers[f"{prefix}flatten"] = nn.Flatten()
    layers[f"{prefix}dense_final"] = nn.Linear(prev_channels, out_size)
    if squeeze_output:
        layers[f"{prefix}squeeze"] = SqueezeLayer()
    return nn.Sequential(collections.OrderedDict(layers))
