"""The file format of reward nets: a JSON description plus a state dict.

A reward net (any :class:`SavableModule`) is saved with ``th.save(net, path)``,
which pickles it as a call to :func:`rebuild_module` with two arguments: a
JSON string naming each module's class and constructor arguments (spaces,
numbers, strings, lists, classes and nested library modules), and the net's
state dict (tensors only). :func:`load` reads it back with
``torch.load(..., weights_only=True)``, allowing :func:`rebuild_module` for
that one call: no code from the file runs. A plain ``th.load(path)`` refuses
the file, since importing imitation does not add to torch's safe globals; use
:func:`imitation.rewards.serialize.load_reward_net` (this module's reader with
errors that name the file), or ``th.load(path, weights_only=False)`` for a
file you trust.

:func:`rebuild_module` only instantiates classes registered in
:mod:`imitation.util.class_registry`: ``SavableModule`` subclasses (each
registers itself as ``Use.MODULE`` when defined) and, as constructor
arguments, classes registered for ``Use.ARGUMENT`` (activations,
optimisers, SB3 actor-critic policies and extractors, imitation's normalisers
and policies; add others with :func:`register_argument_class`). A library
module that the file names may be imported so its classes register; no other
module is.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from torch import nn

from imitation.util import class_registry
from imitation.util.class_registry import Use

FORMAT = "imitation.module/1"


class UnsavableModuleError(TypeError):
    """A module's constructor arguments cannot be described safely."""


def _qualname(obj: type) -> str:
    return f"{obj.__module__}:{obj.__qualname__}"


_MAX_DEPTH = 32


def register_argument_class(cls: type) -> None:
    """Allow ``cls`` as a constructor argument of saved modules.

    Reward nets take some classes as arguments (an activation, a
    normalisation layer); a saved net names them, and loading resolves only
    registered ones. Activations from ``torch.nn`` and imitation's
    normalisers are registered already. Register a class only if
    constructing it (as the net's constructor does) is harmless. The same as
    ``class_registry.register(Use.ARGUMENT)``.

    Raises:
        TypeError: If ``cls`` is not a class.
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_argument_class takes a class, not {cls!r}.")
    class_registry.register(Use.ARGUMENT)(cls)


def _resolve(name: Any, *, module_class: bool) -> type:
    """The registered class called exactly ``name`` (``module:qualname``)."""
    if not isinstance(name, str):
        raise ValueError(f"A class name must be a string, not {name!r}.")
    module_name, _, qualname = name.partition(":")
    use = Use.MODULE if module_class else Use.ARGUMENT
    cls = class_registry.find(module_name, qualname, use)
    if cls is None:
        kind = "module" if module_class else "argument"
        advice = (
            "import the module that defines it before loading (a SavableModule "
            "subclass registers itself)"
            if module_class
            else "register it with imitation.rewards.persistence."
            "register_argument_class before loading, if it is safe to construct"
        )
        raise ValueError(
            f"The saved net names the class {name}, which is not a registered "
            f"{kind} class: {advice}.",
        )
    return cls


def space_to_dict(space: gym.Space) -> dict[str, Any]:
    """Describe a Gymnasium space as JSON-compatible data."""
    if isinstance(space, gym.spaces.Box):
        return {
            "space": "Box",
            "low": space.low.tolist(),
            "high": space.high.tolist(),
            "shape": list(space.shape),
            "dtype": str(space.dtype),
        }
    if isinstance(space, gym.spaces.Discrete):
        return {"space": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, gym.spaces.MultiDiscrete):
        return {"space": "MultiDiscrete", "nvec": space.nvec.tolist()}
    if isinstance(space, gym.spaces.MultiBinary):
        return {"space": "MultiBinary", "n": np.asarray(space.n).tolist()}
    if isinstance(space, gym.spaces.Dict):
        return {
            "space": "Dict",
            "spaces": {k: space_to_dict(s) for k, s in space.spaces.items()},
        }
    raise UnsavableModuleError(f"Cannot describe the space {space}.")


_SPACE_DTYPES = frozenset(
    {
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
    }
)


def space_from_dict(data: Mapping[str, Any]) -> gym.Space:
    """Rebuild a space described by :func:`space_to_dict`.

    Raises:
        ValueError: If ``data`` is not a valid description.
    """
    try:
        return _space_from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"Invalid space description {data!r:.200}: {exc}") from exc


def _space_from_dict(data: Mapping[str, Any]) -> gym.Space:
    if not isinstance(data, Mapping):
        raise TypeError("a space is described by a mapping")
    kind = data["space"]
    if kind == "Box":
        if data["dtype"] not in _SPACE_DTYPES:
            raise ValueError(f"dtype {data['dtype']!r} is not a numeric dtype")
        dtype = np.dtype(data["dtype"])
        return gym.spaces.Box(
            low=np.array(data["low"], dtype=dtype),
            high=np.array(data["high"], dtype=dtype),
            shape=tuple(data["shape"]),
            dtype=dtype,
        )
    if kind == "Discrete":
        return gym.spaces.Discrete(_int(data["n"]), start=_int(data["start"]))
    if kind == "MultiDiscrete":
        return gym.spaces.MultiDiscrete(np.asarray(data["nvec"], dtype=np.int64))
    if kind == "MultiBinary":
        return gym.spaces.MultiBinary(np.asarray(data["n"], dtype=np.int64).tolist())
    if kind == "Dict":
        spaces = data["spaces"]
        if not isinstance(spaces, Mapping):
            raise TypeError("a Dict space's 'spaces' must be a mapping")
        return gym.spaces.Dict({str(k): _space_from_dict(v) for k, v in spaces.items()})
    raise ValueError(f"unknown space kind {kind!r}")


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _encode(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return {"list": [_encode(v, where) for v in value]}
    # Before Mapping: a ``gym.spaces.Dict`` is a Mapping too.
    if isinstance(value, gym.Space):
        return {"gym_space": space_to_dict(value)}
    if isinstance(value, Mapping):
        return {"dict": {str(k): _encode(v, where) for k, v in value.items()}}
    if isinstance(value, type):
        module, qualname = value.__module__, value.__qualname__
        if class_registry.find(module, qualname, Use.ARGUMENT) is not value:
            raise UnsavableModuleError(
                f"Cannot save {where}={value!r}: loading would refuse this class. "
                "If constructing it is harmless, register it with imitation."
                "rewards.persistence.register_argument_class first.",
            )
        return {"class": _qualname(value)}
    if isinstance(value, nn.Module) and hasattr(value, "_init_args"):
        return {"module": describe(value)}
    if isinstance(value, nn.Module):
        raise UnsavableModuleError(
            f"Cannot save {where}={value!r}: loading rebuilds modules from their "
            "constructor arguments, which this torch module does not record. Mix "
            "imitation.rewards.persistence.SavableModule into its class (first "
            "base) so it records them, or save its state_dict yourself.",
        )
    if callable(value):
        raise UnsavableModuleError(
            f"Cannot save {where}={value!r}: a Python function cannot be saved "
            "without pickling code. Use a module instead: for an SB3 policy's "
            "value function, imitation.rewards.reward_nets.ValuePotential."
            "from_policy(policy); for a learned potential, BasicPotentialMLP or "
            "BasicPotentialCNN.",
        )
    raise UnsavableModuleError(
        f"Cannot save {where}={value!r}: only numbers, strings, lists, spaces, "
        "classes and imitation modules can be described. Build the net from "
        "library modules (e.g. a BasicPotentialMLP instead of a function), or "
        "save its state_dict yourself.",
    )


def _decode(value: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise ValueError(f"The saved description is nested deeper than {_MAX_DEPTH}.")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError(f"Unknown encoded value {value!r:.200}.")
    ((kind, inner),) = value.items()
    if kind == "list" and isinstance(inner, list):
        return [_decode(v, depth + 1) for v in inner]
    if kind == "dict" and isinstance(inner, dict):
        return {k: _decode(v, depth + 1) for k, v in inner.items()}
    if kind == "gym_space":
        return space_from_dict(inner)
    if kind == "class":
        return _resolve(inner, module_class=False)
    if kind == "module":
        return _construct(inner, depth + 1)
    raise ValueError(f"Unknown encoded value {value!r:.200}.")


def describe(module: nn.Module) -> dict[str, Any]:
    """The class and constructor arguments of ``module`` (recursively), as JSON data.

    Raises:
        UnsavableModuleError: If an argument cannot be described safely.
    """
    cls, arguments = module._init_args  # type: ignore[attr-defined, misc]
    return {
        "class": _qualname(cls),
        "kwargs": {k: _encode(v, f"{cls.__name__}.{k}") for k, v in arguments.items()},
    }


def construct(spec: Mapping[str, Any]) -> nn.Module:
    """Instantiate the module described by :func:`describe` (fresh weights).

    Raises:
        ValueError: If the description names an unregistered class, or its
            arguments do not fit the class.
    """
    return _construct(spec, 0)


def _construct(spec: Any, depth: int) -> nn.Module:
    if not isinstance(spec, Mapping) or set(spec) != {"class", "kwargs"}:
        raise ValueError(f"Invalid module description {spec!r:.200}.")
    cls = _resolve(spec["class"], module_class=True)
    if not isinstance(spec["kwargs"], Mapping):
        raise ValueError(f"Invalid arguments for {spec['class']}.")
    kwargs = {k: _decode(v, depth + 1) for k, v in spec["kwargs"].items()}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"The saved arguments do not fit {spec['class']}: {exc}"
        ) from exc


def rebuild_module(spec_json: str, state_dict: Mapping[str, th.Tensor]) -> nn.Module:
    """Rebuild a saved module: construct it from its description, load its weights.

    Raises:
        ValueError: If the description is not a saved imitation module.
    """
    try:
        spec = json.loads(spec_json)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError("Not a saved imitation module (invalid JSON).") from exc
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise ValueError("Not a saved imitation module (unknown format).")
    module = construct(spec["module"])
    module.load_state_dict(state_dict)
    device = next((t.device for t in state_dict.values()), th.device("cpu"))
    module.to(device)
    module.train(bool(spec.get("training", False)))
    return module


def load(path: str | os.PathLike, map_location: Any = None) -> nn.Module:
    """Load a module saved with ``th.save(module, path)``, running no code from it.

    ``torch.load(..., weights_only=True)`` with :func:`rebuild_module`
    allowed for this call only.

    Raises:
        pickle.UnpicklingError: If the file holds anything else than a saved
            module (torch's weights-only loader refuses it).
        ValueError: If the description names unregistered classes or is invalid.
    """
    with th.serialization.safe_globals([rebuild_module]):
        return th.load(path, map_location=map_location, weights_only=True)


class SavableModule:
    """Mixin recording constructor arguments so the module can be saved safely.

    The outermost constructor's arguments are recorded (``_init_args``), and
    pickling (``th.save``, ``copy.deepcopy``) goes through
    :func:`rebuild_module` with a JSON description and the state dict.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        class_registry.register(Use.MODULE)(cls)
        if "__init__" not in cls.__dict__:
            return
        init = cls.__dict__["__init__"]
        signature = inspect.signature(init)

        @functools.wraps(init)
        def recording_init(self: Any, *args: Any, **kw: Any) -> None:
            if not hasattr(self, "_init_args"):
                bound = signature.bind(self, *args, **kw)
                arguments = dict(bound.arguments)
                arguments.pop("self")
                for name, param in signature.parameters.items():
                    if (
                        param.kind is inspect.Parameter.VAR_KEYWORD
                        and name in arguments
                    ):
                        arguments.update(arguments.pop(name))
                object.__setattr__(self, "_init_args", (type(self), arguments))
            init(self, *args, **kw)

        cls.__init__ = recording_init  # type: ignore[method-assign]

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        assert isinstance(self, nn.Module)
        spec = {"format": FORMAT, "module": describe(self), "training": self.training}
        return (rebuild_module, (json.dumps(spec), self.state_dict()))
