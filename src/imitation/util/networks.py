"""Neural network building blocks: normalisation layers and MLP/CNN builders."""

from __future__ import annotations

import abc
import collections
import contextlib
from collections.abc import Iterable, Iterator

import torch as th
from torch import nn


@contextlib.contextmanager
def training_mode(m: nn.Module, mode: bool = False) -> Iterator[nn.Module]:
    """Put ``m`` in training mode ``mode`` inside the block; restore it after."""
    previous = m.training
    m.train(mode)
    try:
        yield m
    finally:
        m.train(previous)


def training(m: nn.Module) -> contextlib.AbstractContextManager[nn.Module]:
    """``training_mode(m, True)``."""
    return training_mode(m, True)


def evaluating(m: nn.Module) -> contextlib.AbstractContextManager[nn.Module]:
    """``training_mode(m, False)``."""
    return training_mode(m, False)


class SqueezeLayer(nn.Module):
    """Remove a trailing dimension of size 1."""

    def forward(self, x: th.Tensor) -> th.Tensor:
        """Squeeze the last dimension.

        Raises:
            ValueError: If the last dimension is not of size 1.
        """
        if x.shape[-1] != 1:
            raise ValueError(
                f"SqueezeLayer needs a last dimension of 1, got {tuple(x.shape)}."
            )
        return x.squeeze(-1)


class BaseNorm(nn.Module, abc.ABC):
    """Normalise inputs with running statistics, updated only in training mode."""

    running_mean: th.Tensor
    running_var: th.Tensor
    count: th.Tensor

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        """Make the layer.

        Args:
            num_features: Size of the last input dimension.
            eps: Added to the variance before taking its square root.
        """
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.register_buffer("running_mean", th.empty(num_features))
        self.register_buffer("running_var", th.empty(num_features))
        self.register_buffer("count", th.empty((), dtype=th.int64))
        self.reset_running_stats()

    def reset_running_stats(self) -> None:
        """Forget the statistics: mean 0, variance 1, count 0."""
        self.running_mean.zero_()
        self.running_var.fill_(1)
        self.count.zero_()

    def forward(self, x: th.Tensor) -> th.Tensor:
        """Normalise ``x`` (after updating the statistics if training)."""
        if self.training:
            with th.no_grad():
                self.update_stats(x)
        return (x - self.running_mean) / th.sqrt(self.running_var + self.eps)

    @abc.abstractmethod
    def update_stats(self, batch: th.Tensor) -> None:
        """Fold ``batch`` (shape ``(n, num_features)``) into the statistics."""


class RunningNorm(BaseNorm):
    """Exact mean and variance of every input seen (parallel Welford update)."""

    def update_stats(self, batch: th.Tensor) -> None:
        """Combine the batch's moments with the running ones (Chan et al.)."""
        batch = batch.reshape(-1, self.num_features)
        n = batch.shape[0]
        if n == 0:
            return
        batch_mean = batch.mean(0)
        batch_var = batch.var(0, unbiased=False)
        total = self.count + n
        delta = batch_mean - self.running_mean
        self.running_mean += delta * n / total
        m_a = self.running_var * self.count
        m_b = batch_var * n
        self.running_var = (m_a + m_b + delta.square() * self.count * n / total) / total
        self.count += n


class EMANorm(BaseNorm):
    """Exponential moving averages of mean and variance."""

    def __init__(
        self, num_features: int, decay: float = 0.99, eps: float = 1e-5
    ) -> None:
        """Make the layer.

        Args:
            num_features: Size of the last input dimension.
            decay: Weight of the old statistics at each update, in (0, 1).
            eps: Added to the variance before taking its square root.

        Raises:
            ValueError: If ``decay`` is outside (0, 1).
        """
        if not 0 < decay < 1:
            raise ValueError(f"decay={decay} must be in (0, 1).")
        super().__init__(num_features, eps=eps)
        self.decay = decay

    def update_stats(self, batch: th.Tensor) -> None:
        """Move the statistics towards the batch's; the first batch sets them."""
        batch = batch.reshape(-1, self.num_features)
        if batch.shape[0] == 0:
            return
        batch_mean = batch.mean(0)
        batch_var = batch.var(0, unbiased=False)
        if self.count == 0:
            self.running_mean.copy_(batch_mean)
            self.running_var.copy_(batch_var)
        else:
            w = 1 - self.decay
            delta = batch_mean - self.running_mean
            self.running_mean += w * delta
            self.running_var = (
                self.decay * (self.running_var + w * delta.square()) + w * batch_var
            )
        self.count += batch.shape[0]


def build_mlp(
    in_size: int,
    hid_sizes: Iterable[int],
    out_size: int = 1,
    name: str | None = None,
    activation: type[nn.Module] = nn.ReLU,
    dropout_prob: float = 0.0,
    squeeze_output: bool = False,
    flatten_input: bool = False,
    normalize_input_layer: type[nn.Module] | None = None,
) -> nn.Module:
    """Build a multi-layer perceptron.

    Args:
        in_size: Input size.
        hid_sizes: Sizes of the hidden layers (may be empty: a linear model).
        out_size: Output size.
        name: Prefix of the layer names.
        activation: Activation class after each hidden layer.
        dropout_prob: Dropout after each hidden activation (0 disables).
        squeeze_output: Remove the last dimension (needs ``out_size == 1``).
        flatten_input: Flatten all but the batch dimension first.
        normalize_input_layer: A normalisation class (e.g. ``RunningNorm``)
            applied to the input.

    Returns:
        The network.

    Raises:
        ValueError: If ``squeeze_output`` is set with ``out_size != 1``.
    """
    if squeeze_output and out_size != 1:
        raise ValueError("squeeze_output needs out_size == 1.")
    prefix = f"{name}_" if name else ""
    layers: dict[str, nn.Module] = {}
    if flatten_input:
        layers[f"{prefix}flatten"] = nn.Flatten()
    if normalize_input_layer is not None:
        layers[f"{prefix}normalize_input"] = normalize_input_layer(in_size)  # type: ignore[call-arg]
    prev = in_size
    for i, size in enumerate(hid_sizes):
        layers[f"{prefix}dense{i}"] = nn.Linear(prev, size)
        layers[f"{prefix}act{i}"] = activation()
        if dropout_prob > 0:
            layers[f"{prefix}dropout{i}"] = nn.Dropout(dropout_prob)
        prev = size
    layers[f"{prefix}dense_final"] = nn.Linear(prev, out_size)
    if squeeze_output:
        layers[f"{prefix}squeeze"] = SqueezeLayer()
    return nn.Sequential(collections.OrderedDict(layers))


def build_cnn(
    in_channels: int,
    hid_channels: Iterable[int],
    out_size: int = 1,
    name: str | None = None,
    activation: type[nn.Module] = nn.ReLU,
    kernel_size: int = 3,
    stride: int = 1,
    padding: int | str = "same",
    dropout_prob: float = 0.0,
    squeeze_output: bool = False,
) -> nn.Module:
    """Build a convolutional network: conv layers, global max-pool, linear head.

    Args:
        in_channels: Input channels (inputs are ``(n, C, H, W)``).
        hid_channels: Channels of each convolutional layer.
        out_size: Output size.
        name: Prefix of the layer names.
        activation: Activation class after each convolution.
        kernel_size: Convolution kernel size.
        stride: Convolution stride.
        padding: Convolution padding (``"same"`` needs ``stride == 1``).
        dropout_prob: Dropout after each activation (0 disables).
        squeeze_output: Remove the last dimension (needs ``out_size == 1``).

    Returns:
        The network.

    Raises:
        ValueError: If ``squeeze_output`` is set with ``out_size != 1``.
    """
    if squeeze_output and out_size != 1:
        raise ValueError("squeeze_output needs out_size == 1.")
    prefix = f"{name}_" if name else ""
    layers: dict[str, nn.Module] = {}
    prev = in_channels
    for i, channels in enumerate(hid_channels):
        layers[f"{prefix}conv{i}"] = nn.Conv2d(
            prev, channels, kernel_size, stride, padding
        )
        layers[f"{prefix}act{i}"] = activation()
        if dropout_prob > 0:
            layers[f"{prefix}dropout{i}"] = nn.Dropout(dropout_prob)
        prev = channels
    layers[f"{prefix}pool"] = nn.AdaptiveMaxPool2d(1)
    layers[f"{prefix}flatten"] = nn.Flatten()
    layers[f"{prefix}dense_final"] = nn.Linear(prev, out_size)
    if squeeze_output:
        layers[f"{prefix}squeeze"] = SqueezeLayer()
    return nn.Sequential(collections.OrderedDict(layers))
