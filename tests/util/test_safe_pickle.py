"""Adversarial tests for imitation.util.safe_pickle: crafted pickles never run code.

Each payload, if it ran, would create a marker file. Payloads are assembled
opcode by opcode, so they can name any global and call anything, as an
attacker's file can.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import pickle
import zipfile

import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO

from imitation.algorithms import bc, dagger
from imitation.policies import serialize
from imitation.util import safe_pickle, util

# --- A tiny pickle assembler ----------------------------------------------------


def _str(text: str) -> bytes:
    data = text.encode()
    return pickle.BINUNICODE + len(data).to_bytes(4, "little") + data


def _global(module: str, name: str) -> bytes:
    return _str(module) + _str(name) + pickle.STACK_GLOBAL


def _call(func: bytes, *args: bytes) -> bytes:
    return func + pickle.MARK + b"".join(args) + pickle.TUPLE + pickle.REDUCE


def _program(body: bytes) -> bytes:
    return pickle.PROTO + b"\x04" + body + pickle.STOP


def _system(marker) -> bytes:
    return _str(f"touch {marker}")


def _payloads(marker) -> dict[str, bytes]:
    """Every route to a non-allowed callable we could think of."""
    touch = _system(marker)
    globals_of_utils = _call(
        _call(
            _global("gymnasium.spaces.dict", "typing.operator.attrgetter"),
            _str("__init__.__globals__"),
        ),
        _global("stable_baselines3.common.utils", "ConstantSchedule"),
    )
    os_module = _call(
        _call(_global("collections", "_itemgetter"), _str("os")), globals_of_utils
    )
    return {
        # The obvious one.
        "os.system": _program(_call(_global("os", "system"), touch)),
        "posix.system": _program(_call(_global("posix", "system"), touch)),
        "builtins.eval": _program(
            _call(_global("builtins", "eval"), _str(f"open({str(marker)!r}, 'w')"))
        ),
        "builtins.exec": _program(
            _call(_global("builtins", "exec"), _str(f"open({str(marker)!r}, 'w')"))
        ),
        "builtins.open": _program(
            _call(_global("builtins", "open"), _str(str(marker)), _str("w"))
        ),
        "builtins.getattr": _program(
            _call(_global("builtins", "getattr"), _global("os", "path"), _str("join"))
        ),
        "subprocess.Popen": _program(
            _call(
                _global("subprocess", "Popen"),
                pickle.MARK + _str("touch") + _str(str(marker)) + pickle.LIST,
            )
        ),
        # Dotted names walking out of allowed modules (pickle protocol 4).
        "dotted attrgetter chain": _program(
            _call(
                _call(
                    _global("gymnasium.spaces.dict", "typing.operator.methodcaller"),
                    _str("system"),
                    touch,
                ),
                os_module,
            )
        ),
        "dotted os.system from utils": _program(
            _call(_global("stable_baselines3.common.utils", "os.system"), touch)
        ),
        "dotted os.system from imitation": _program(
            _call(_global("imitation.util.util", "os.system"), touch)
        ),
        "dotted through a class": _program(
            _call(
                _global(
                    "stable_baselines3.common.policies",
                    "ActorCriticPolicy.__init__.__globals__",
                ),
                touch,
            )
        ),
        "dotted functools.partial": _program(
            _call(
                _global("torch.nn.modules.module", "functools.partial"),
                _global("os", "system"),
                touch,
            )
        ),
        "allowed module, private helper": _program(
            _call(_global("collections", "_itemgetter"), _str("os"))
        ),
        # Allowed classes may not be called with arguments of the file's choosing.
        "call an allowed class": _program(
            _call(_global("stable_baselines3.common.buffers", "ReplayBuffer"), touch)
        ),
        "call object": _program(_call(_global("builtins", "object"))),
        # Restoring state on a class (monkeypatching it) is refused.
        "BUILD on a class": _program(
            _global("gymnasium.spaces.box", "Box")
            + pickle.NONE
            + pickle.EMPTY_DICT
            + _str("sample")
            + _global("os", "system")
            + pickle.SETITEM
            + pickle.TUPLE2
            + pickle.BUILD
        ),
        "BUILD on a class, allowed value": _program(
            _global("gymnasium.spaces.box", "Box")
            + pickle.NONE
            + pickle.EMPTY_DICT
            + _str("__init__")
            + _global("numpy", "dtype")
            + pickle.SETITEM
            + pickle.TUPLE2
            + pickle.BUILD
        ),
        # Old protocols: INST and OBJ opcodes call their class.
        "INST os.system": b"("
        + b"S'touch "
        + str(marker).encode()
        + b"'\nios\nsystem\n.",
        "OBJ os.system": _program(
            pickle.MARK + _global("os", "system") + touch + pickle.OBJ
        ),
        # NEWOBJ on something that is not an allowed class.
        "NEWOBJ Popen": _program(
            _global("subprocess", "Popen")
            + pickle.MARK
            + touch
            + pickle.TUPLE
            + pickle.NEWOBJ
        ),
        # Allowed rebuilders misused.
        "codecs with another codec": _program(
            _call(_global("_codecs", "encode"), _str("x"), _str("zlib"))
        ),
        "reconstructor with a foreign base": _program(
            _call(
                _global("copyreg", "_reconstructor"),
                _global("gymnasium.spaces.box", "Box"),
                _global("collections", "OrderedDict"),
                pickle.NONE,
            )
        ),
        # Extension registry codes resolve through find_class as well.
        "EXT1": _program(pickle.EXT1 + b"\x01"),
        # A cloudpickled function (how SB3 stores lambda schedules).
        "cloudpickle function": _program(
            _call(_global("cloudpickle.cloudpickle", "_make_function"), touch)
        ),
    }


def test_the_attack_chain_is_live(tmp_path):
    """The main payload does run code under plain pickle: the allow-list stops it."""
    marker = tmp_path / "marker"
    pickle.loads(_payloads(marker)["dotted attrgetter chain"])
    assert marker.exists()


@pytest.mark.parametrize("name", sorted(_payloads("m")))
def test_payload_refused(name, tmp_path):
    marker = tmp_path / "marker"
    payload = _payloads(marker)[name]
    with pytest.raises((safe_pickle.UnsafePickleError, safe_pickle.CorruptFileError)):
        safe_pickle.safe_loads(payload)
    assert not marker.exists()


@pytest.mark.parametrize(
    "name", ["os.system", "dotted attrgetter chain", "BUILD on a class"]
)
def test_payload_error_is_clear(name, tmp_path):
    with pytest.raises(safe_pickle.UnsafePickleError, match="refusing"):
        safe_pickle.safe_loads(_payloads(tmp_path / "m")[name])


def test_build_on_class_leaves_class_untouched(tmp_path):
    import gymnasium as gym

    before = gym.spaces.Box.__dict__.get("__init__")
    with pytest.raises(safe_pickle.UnsafePickleError):
        safe_pickle.safe_loads(
            _payloads(tmp_path / "m")["BUILD on a class, allowed value"]
        )
    assert gym.spaces.Box.__dict__.get("__init__") is before


def test_allowed_names_are_exact_pairs():
    names = safe_pickle.allowed_names()
    assert ("numpy", "dtype") in names
    assert all(
        "." not in name or name == "BasePolicy._dummy_schedule" for _, name in names
    )
    # Nothing that runs code by being called is callable from a file.
    callables = {k for k, can_call in names.items() if can_call}
    assert not any(module in ("os", "posix", "subprocess") for module, _ in callables)
    assert ("builtins", "getattr") not in names and ("builtins", "type") not in names


def test_register_safe_class(tmp_path):
    payload = pickle.dumps(util.make_unique_timestamp)  # a function: refused
    with pytest.raises(safe_pickle.UnsafePickleError):
        safe_pickle.safe_loads(payload)
    with pytest.raises(TypeError, match="class"):
        safe_pickle.register_safe_class(util.make_unique_timestamp)  # type: ignore[arg-type]


# --- Through the public loaders ----------------------------------------------------


@pytest.fixture
def ppo_zip(tmp_path):
    venv = util.make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=1)
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=32, seed=0, device="cpu")
    path = tmp_path / "model.zip"
    model.save(path)
    return path, venv


def _replace_entry(src, dst, key, payload):
    with zipfile.ZipFile(src) as archive_in, zipfile.ZipFile(dst, "w") as archive_out:
        for item in archive_in.namelist():
            content = archive_in.read(item)
            if item == "data":
                data = json.loads(content)
                data[key] = {
                    ":type:": "x",
                    ":serialized:": base64.b64encode(payload).decode(),
                }
                content = json.dumps(data).encode()
            archive_out.writestr(item, content)


@pytest.mark.parametrize(
    "name", ["os.system", "dotted attrgetter chain", "BUILD on a class"]
)
@pytest.mark.parametrize(
    "key", ["policy_class", "observation_space", "lr_schedule", "clip_range"]
)
def test_sb3_zip_payloads(ppo_zip, tmp_path, name, key):
    src, venv = ppo_zip
    marker = tmp_path / "marker"
    evil = tmp_path / "evil.zip"
    _replace_entry(src, evil, key, _payloads(marker)[name])
    if key in ("policy_class", "observation_space"):
        with pytest.raises(serialize.PolicyLoadError, match="allow_unsafe_pickle"):
            serialize.load_policy("ppo", venv, path=evil)
    else:  # not needed to act: replaced, with a warning
        with pytest.warns(UserWarning, match="acting only"):
            serialize.load_policy("ppo", venv, path=evil)
    assert not marker.exists()


def test_torch_file_payloads(tmp_path):
    marker = tmp_path / "marker"

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    th.save({"policy": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(safe_pickle.UnsafePickleError):
        safe_pickle.safe_torch_load(tmp_path / "evil.pt")
    with pytest.raises(safe_pickle.UnsafePickleError):
        bc.reconstruct_policy(str(tmp_path / "evil.pt"))
    (tmp_path / "scratch").mkdir()
    th.save(
        {"format": "imitation.dagger.checkpoint/1", "x": Evil()},
        tmp_path / "scratch" / "checkpoint-latest.pt",
    )
    venv = util.make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=1)
    with pytest.raises(safe_pickle.UnsafePickleError):
        dagger.reconstruct_trainer(tmp_path / "scratch", venv)
    assert not marker.exists()


def test_tensor_with_hooks_refused(tmp_path):
    t = th.zeros(3)
    payload = io.BytesIO()
    th.save({"t": t}, payload)
    # A hook is an OrderedDict entry in _rebuild_tensor_v2's arguments; forge one.
    hooks = _call(_global("collections", "OrderedDict"))
    forged = _program(
        _call(
            _global("torch._utils", "_rebuild_tensor_v2"),
            pickle.NONE,
            pickle.NONE,
            pickle.NONE,
            pickle.NONE,
            pickle.NONE,
            pickle.EMPTY_DICT + _str("h") + _global("os", "system") + pickle.SETITEM,
        )
    )
    with pytest.raises(safe_pickle.UnsafePickleError):
        safe_pickle.safe_loads(forged)
    assert hooks  # the plain OrderedDict call alone is fine
    safe_pickle.safe_loads(_program(hooks))


def test_mutated_entries_never_escape(ppo_zip, tmp_path):
    """Random byte mutations of real entries fail with one of two errors, or load."""
    src, _ = ppo_zip
    data = json.loads(zipfile.ZipFile(src).read("data"))
    entries = [
        base64.b64decode(v[":serialized:"])
        for v in data.values()
        if isinstance(v, dict) and ":serialized:" in v
    ]
    rng = np.random.default_rng(0)
    for _ in range(400):
        raw = bytearray(entries[rng.integers(len(entries))])
        for _ in range(rng.integers(1, 4)):
            raw[rng.integers(len(raw))] = rng.integers(256)
        with contextlib.suppress(
            safe_pickle.UnsafePickleError, safe_pickle.CorruptFileError
        ):
            safe_pickle.safe_loads(bytes(raw))
