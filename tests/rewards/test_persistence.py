"""Adversarial tests for saved reward nets: a crafted file never runs code.

A saved net is a call to ``rebuild_module`` with a JSON description; these
tests forge descriptions that name classes and arguments of an attacker's
choosing. Each would create a marker file if it ran.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch as th

from imitation.rewards import persistence, reward_nets, serialize
from imitation.util import networks

BOX = gym.spaces.Box(-1, 1, shape=(3,), dtype=np.float32)


def _box() -> dict:
    return {"gym_space": persistence.space_to_dict(BOX)}


class _Forged:
    """Pickles as a call to rebuild_module with a forged description."""

    def __init__(self, module_spec, state=None):
        self.spec = json.dumps(
            {"format": persistence.FORMAT, "module": module_spec, "training": False}
        )
        self.state = state or {}

    def __reduce_ex__(self, protocol):
        return (persistence.rebuild_module, (self.spec, self.state))


def _popen(marker) -> dict:
    return {"list": ["touch", str(marker)]}


def _forgeries(marker) -> dict[str, dict]:
    basic = "imitation.rewards.reward_nets.architectures:BasicRewardNet"
    return {
        "module class subprocess.Popen": {
            "class": "subprocess:Popen",
            "kwargs": {"args": _popen(marker)},
        },
        "dotted walk out of imitation": {
            "class": "imitation.util.util:os.system",
            "kwargs": {"command": f"touch {marker}"},
        },
        "dotted walk out of torch.nn": {
            "class": "torch.nn.modules.module:functools.partial",
            "kwargs": {},
        },
        "dotted walk to a module class": {
            "class": "imitation.rewards.reward_nets.architectures:nn.Linear",
            "kwargs": {"in_features": 1, "out_features": 1},
        },
        "unregistered nn.Module": {
            "class": "torch.nn.modules.linear:Linear",
            "kwargs": {"in_features": 1, "out_features": 1},
        },
        "kwarg naming Popen": {
            "class": basic,
            "kwargs": {
                "observation_space": _box(),
                "action_space": _box(),
                "normalize_input_layer": {"class": "subprocess:Popen"},
            },
        },
        "kwarg naming a dotted class": {
            "class": basic,
            "kwargs": {
                "observation_space": _box(),
                "action_space": _box(),
                "normalize_input_layer": {
                    "class": "imitation.util.networks:"
                    "th.nn.modules.module.functools.partial"
                },
            },
        },
        "nested module spec": {
            "class": "imitation.rewards.reward_nets.processing:NormalizedRewardNet",
            "kwargs": {
                "base": {
                    "module": {
                        "class": "subprocess:Popen",
                        "kwargs": {"args": _popen(marker)},
                    }
                },
                "normalize_output_layer": {
                    "class": "imitation.util.networks:RunningNorm"
                },
            },
        },
        "nested in a list": {
            "class": "imitation.rewards.reward_nets.processing:RewardEnsemble",
            "kwargs": {
                "observation_space": _box(),
                "action_space": _box(),
                "members": {
                    "list": [
                        {
                            "module": {
                                "class": "subprocess:Popen",
                                "kwargs": {"args": _popen(marker)},
                            }
                        }
                    ]
                },
            },
        },
        "object dtype space": {
            "class": basic,
            "kwargs": {
                "observation_space": {
                    "gym_space": {
                        "space": "Box",
                        "low": [0],
                        "high": [1],
                        "shape": [1],
                        "dtype": "O",
                    }
                },
                "action_space": _box(),
            },
        },
        "dict space with non-mapping": {
            "class": basic,
            "kwargs": {
                "observation_space": {"gym_space": {"space": "Dict", "spaces": ["x"]}},
                "action_space": _box(),
            },
        },
        "unknown space kind": {
            "class": basic,
            "kwargs": {
                "observation_space": {"gym_space": {"space": "Graph"}},
                "action_space": _box(),
            },
        },
        "extra keys in an encoded value": {
            "class": basic,
            "kwargs": {
                "observation_space": _box(),
                "action_space": {"class": "x", "module": {"class": "subprocess:Popen"}},
            },
        },
        "unexpected kwargs": {
            "class": basic,
            "kwargs": {"observation_space": _box(), "action_space": _box(), "x": 1},
        },
        "deep nesting": {
            "class": basic,
            "kwargs": {
                "observation_space": _box(),
                "action_space": _box(),
                "hid_sizes": json.loads('{"list": [' * 40 + "1" + "]}" * 40),
            },
        },
    }


@pytest.mark.parametrize("name", sorted(_forgeries("m")))
def test_forged_description_refused(name, tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "net.pt"
    th.save(_Forged(_forgeries(marker)[name]), path)
    with pytest.raises(serialize.RewardLoadError, match="not a valid saved reward net"):
        serialize.load_reward_net(path)
    venv_like = type("V", (), {"observation_space": BOX, "action_space": BOX})()
    with pytest.raises(serialize.RewardLoadError):
        serialize.load_reward("RewardNet_normalized", path, venv_like)
    assert not marker.exists()


def test_other_globals_in_a_reward_file_refused(tmp_path):
    marker = tmp_path / "marker"

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    th.save({"net": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(serialize.RewardLoadError, match="run code"):
        serialize.load_reward_net(tmp_path / "evil.pt")
    assert not marker.exists()


def test_import_does_not_widen_torch_load(tmp_path):
    """Other code's torch.load(weights_only=True) is unaffected by importing us."""
    path = tmp_path / "net.pt"
    th.save(reward_nets.BasicRewardNet(BOX, BOX), path)
    script = (
        "import torch, pickle\n"
        # torch keeps its allow-list in a set; restoring it may reorder it.
        "before = set(torch.serialization.get_safe_globals())\n"
        "import imitation, imitation.rewards.serialize, imitation.algorithms.bc\n"
        "import imitation.algorithms.adversarial.airl\n"
        "assert set(torch.serialization.get_safe_globals()) == before\n"
        "try:\n"
        f"    torch.load({str(path)!r}, weights_only=True)\n"
        "except pickle.UnpicklingError:\n"
        "    print('refused')\n"
        "import imitation.rewards.serialize as s\n"
        f"s.load_reward_net({str(path)!r})\n"
        "assert set(torch.serialization.get_safe_globals()) == before\n"
        f"torch.load({str(path)!r}, weights_only=True)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "refused"
    assert result.returncode != 0 and "UnpicklingError" in result.stderr


def test_argument_class_registry(tmp_path):
    class MyNorm(networks.RunningNorm):
        pass

    net = reward_nets.BasicRewardNet(BOX, BOX, normalize_input_layer=MyNorm)
    with pytest.raises(
        persistence.UnsavableModuleError, match="register_argument_class"
    ):
        th.save(net, tmp_path / "net.pt")
    persistence.register_argument_class(MyNorm)
    th.save(net, tmp_path / "net.pt")
    loaded = serialize.load_reward_net(tmp_path / "net.pt")
    assert isinstance(loaded.mlp.normalize_input, MyNorm) or any(
        isinstance(m, MyNorm) for m in loaded.modules()
    )
    with pytest.raises(TypeError):
        persistence.register_argument_class(len)  # type: ignore[arg-type]


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9])
def test_truncated_file(tmp_path, cut):
    path = tmp_path / "net.pt"
    th.save(reward_nets.BasicRewardNet(BOX, BOX), path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(serialize.RewardLoadError, match="truncated or corrupt"):
        serialize.load_reward_net(path)


def test_state_dict_mismatch(tmp_path):
    net = reward_nets.BasicRewardNet(BOX, BOX)
    spec = {"format": persistence.FORMAT, "module": persistence.describe(net)}
    forged = _Forged(spec["module"], {"bogus": th.zeros(1)})
    th.save(forged, tmp_path / "net.pt")
    with pytest.raises(serialize.RewardLoadError):
        serialize.load_reward_net(tmp_path / "net.pt")


def test_pickle_error_type():
    assert issubclass(serialize.RewardLoadError, ValueError)
    assert pickle.UnpicklingError is not None
