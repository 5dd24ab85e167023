"""Saving reward networks as a JSON description plus a state dict.

``th.save(reward_net, path)`` pickles a reward net as a call to
:func:`rebuild_module` with two arguments: a JSON string naming each module's
class and constructor arguments (spaces, numbers, strings, lists, classes and
nested library modules), and the net's state dict (tensors only). Loading
therefore needs no arbitrary unpickling: ``th.load(path)`` works with torch's
default ``weights_only=True`` once :mod:`imitation.rewards` is imported (it
registers :func:`rebuild_module` as a safe global).

:func:`rebuild_module` only instantiates classes that are already imported and
are ``torch.nn.Module`` subclasses (or, as arguments, classes from ``torch.nn``
and ``imitation``); it never imports a module named in a file.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import sys
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from torch import nn

FORMAT = "imitation.module/1"


class UnsavableModuleError(TypeError):
    """A module's constructor arguments cannot be described safely."""


def _qualname(obj: type) -> str:
    return f"{obj.__module__}:{obj.__qualname__}"


def _resolve(name: str, *, module_class: bool) -> type:
    """Find an already-imported class ``module:qualname`` (never importing)."""
    module_name, _, qualname = name.partition(":")
    if module_name not in sys.modules:
        if not module_name.startswith(("imitation.", "torch.nn.")):
            raise ValueError(
                f"The saved net uses {name}, whose module is not imported; import "
                "it before loading (modules named in a file are never imported).",
            )
        importlib.import_module(module_name)
    obj: Any = sys.modules[module_name]
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if not isinstance(obj, type):
        raise ValueError(f"{name} is not a class.")
    if module_class and not issubclass(obj, nn.Module):
        raise ValueError(f"{name} is not a torch.nn.Module.")
    if not module_class and not (
        issubclass(obj, nn.Module)
        or module_name.startswith(("imitation.", "torch.nn."))
    ):
        raise ValueError(f"{name} is not a library class.")
    return obj


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


def space_from_dict(data: Mapping[str, Any]) -> gym.Space:
    """Rebuild a space described by :func:`space_to_dict`."""
    kind = data["space"]
    if kind == "Box":
        dtype = np.dtype(data["dtype"])
        return gym.spaces.Box(
            low=np.array(data["low"], dtype=dtype),
            high=np.array(data["high"], dtype=dtype),
            shape=tuple(data["shape"]),
            dtype=dtype,
        )
    if kind == "Discrete":
        return gym.spaces.Discrete(data["n"], start=data["start"])
    if kind == "MultiDiscrete":
        return gym.spaces.MultiDiscrete(data["nvec"])
    if kind == "MultiBinary":
        return gym.spaces.MultiBinary(data["n"])
    if kind == "Dict":
        return gym.spaces.Dict(
            {k: space_from_dict(v) for k, v in data["spaces"].items()}
        )
    raise ValueError(f"Unknown space kind {kind!r}.")


def _encode(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return {"list": [_encode(v, where) for v in value]}
    if isinstance(value, Mapping):
        return {"dict": {str(k): _encode(v, where) for k, v in value.items()}}
    if isinstance(value, gym.Space):
        return {"gym_space": space_to_dict(value)}
    if isinstance(value, type):
        return {"class": _qualname(value)}
    if isinstance(value, nn.Module) and hasattr(value, "_init_args"):
        return {"module": describe(value)}
    raise UnsavableModuleError(
        f"Cannot save {where}={value!r}: only numbers, strings, lists, spaces, "
        "classes and imitation modules can be described. Build the net from "
        "library modules (e.g. a BasicPotentialMLP instead of a function), or "
        "save its state_dict yourself.",
    )


def _decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "list" in value:
        return [_decode(v) for v in value["list"]]
    if "dict" in value:
        return {k: _decode(v) for k, v in value["dict"].items()}
    if "gym_space" in value:
        return space_from_dict(value["gym_space"])
    if "class" in value:
        return _resolve(value["class"], module_class=False)
    if "module" in value:
        return construct(value["module"])
    raise ValueError(f"Unknown encoded value {value!r}.")


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
    """Instantiate the module described by :func:`describe` (fresh weights)."""
    cls = _resolve(spec["class"], module_class=True)
    kwargs = {k: _decode(v) for k, v in spec["kwargs"].items()}
    return cls(**kwargs)


def rebuild_module(spec_json: str, state_dict: Mapping[str, th.Tensor]) -> nn.Module:
    """Rebuild a saved module: construct it from its description, load its weights.

    Raises:
        ValueError: If the description is not a saved imitation module.
    """
    spec = json.loads(spec_json)
    if spec.get("format") != FORMAT:
        raise ValueError("Not a saved imitation module (unknown format).")
    module = construct(spec["module"])
    module.load_state_dict(state_dict)
    device = next((t.device for t in state_dict.values()), th.device("cpu"))
    module.to(device)
    module.train(spec["training"])
    return module


class SavableModule:
    """Mixin recording constructor arguments so the module can be saved safely.

    The outermost constructor's arguments are recorded (``_init_args``), and
    pickling (``th.save``, ``copy.deepcopy``) goes through
    :func:`rebuild_module` with a JSON description and the state dict.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
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


th.serialization.add_safe_globals([rebuild_module])
