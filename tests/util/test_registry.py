"""Tests for imitation.util.registry."""

from __future__ import annotations

import collections
import math
import os.path
import sys

import pytest

from imitation.util import registry


def test_load_attr():
    assert registry.load_attr("math:pi") is math.pi
    assert registry.load_attr("os.path:join") is os.path.join
    assert registry.load_attr("collections:OrderedDict.fromkeys") == (
        collections.OrderedDict.fromkeys
    )


@pytest.mark.parametrize("spec", ["math", "math:", ":pi", "", "math.pi"])
def test_load_attr_rejects_malformed_spec(spec):
    with pytest.raises(ValueError, match="module.path:attr"):
        registry.load_attr(spec)


def test_load_attr_missing_module_or_attribute():
    with pytest.raises(ImportError):
        registry.load_attr("no_such_module_for_imitation_tests:x")
    with pytest.raises(AttributeError):
        registry.load_attr("math:no_such_attribute")


def test_register_and_get():
    reg: registry.Registry[int] = registry.Registry()
    reg.register("one", 1)
    reg.register("two", value=2)
    reg.register("zero", 0)  # falsy values are values too
    assert reg.get("one") == 1 and reg.get("two") == 2 and reg.get("zero") == 0
    assert "one" in reg and "three" not in reg and 1 not in reg
    assert reg.keys() == ["one", "two", "zero"]


def test_get_unknown_key_lists_known_keys():
    reg: registry.Registry[int] = registry.Registry()
    reg.register("alpha", 1)
    reg.register("beta", indirect="math:tau")
    with pytest.raises(KeyError, match="'gamma' is not registered.*alpha, beta"):
        reg.get("gamma")


def test_duplicate_key_is_rejected():
    reg: registry.Registry[int] = registry.Registry()
    reg.register("x", 1)
    with pytest.raises(KeyError, match="already registered"):
        reg.register("x", 2)
    with pytest.raises(KeyError, match="already registered"):
        reg.register("x", indirect="math:pi")
    reg.register("lazy", indirect="math:pi")
    with pytest.raises(KeyError, match="already registered"):
        reg.register("lazy", 3)
    assert reg.get("x") == 1


def test_register_needs_exactly_one_of_value_and_indirect():
    reg: registry.Registry[float] = registry.Registry()
    with pytest.raises(ValueError, match="exactly one"):
        reg.register("neither")
    with pytest.raises(ValueError, match="exactly one"):
        reg.register("both", 1.0, indirect="math:pi")
    with pytest.raises(ValueError, match="module.path:attr"):
        reg.register("malformed", indirect="math.pi")
    assert reg.keys() == []


def test_indirect_value_is_loaded_lazily_and_once(tmp_path, monkeypatch):
    module = tmp_path / "imitation_registry_lazy_mod.py"
    module.write_text("LOADS = []\nLOADS.append(1)\nVALUE = object()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "imitation_registry_lazy_mod", raising=False)
    reg: registry.Registry[object] = registry.Registry()
    reg.register("lazy", indirect="imitation_registry_lazy_mod:VALUE")
    assert "lazy" in reg and reg.keys() == ["lazy"]
    assert "imitation_registry_lazy_mod" not in sys.modules
    value = reg.get("lazy")
    loaded = sys.modules["imitation_registry_lazy_mod"]
    assert value is loaded.VALUE
    assert reg.get("lazy") is value
    assert loaded.LOADS == [1]


def test_failed_indirect_load_can_be_retried(tmp_path, monkeypatch):
    reg: registry.Registry[int] = registry.Registry()
    reg.register("later", indirect="imitation_registry_later_mod:VALUE")
    monkeypatch.delitem(sys.modules, "imitation_registry_later_mod", raising=False)
    with pytest.raises(ImportError):
        reg.get("later")
    assert "later" in reg
    (tmp_path / "imitation_registry_later_mod.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert reg.get("later") == 42


def test_registries_are_independent():
    first: registry.Registry[int] = registry.Registry()
    second: registry.Registry[int] = registry.Registry()
    first.register("k", 1)
    assert "k" not in second
    second.register("k", 2)
    assert (first.get("k"), second.get("k")) == (1, 2)


def test_callables_as_values():
    def loader(x: int) -> int:
        return x + 1

    reg: registry.Registry[object] = registry.Registry()
    reg.register("loader", loader)
    fn = reg.get("loader")
    assert fn is loader


class _Spaces:
    def __init__(self, observation_space, action_space, scale=1, offset=0):
        self.spaces = (observation_space, action_space)
        self.scale = scale
        self.offset = offset


class _FakeVenv:
    observation_space = "obs-space"
    action_space = "act-space"


def test_build_loader_fn_require_space():
    loader = registry.build_loader_fn_require_space(_Spaces, scale=2)
    built = loader(_FakeVenv())
    assert built.spaces == ("obs-space", "act-space")
    assert (built.scale, built.offset) == (2, 0)
    overridden = loader(_FakeVenv(), scale=3, offset=1)
    assert (overridden.scale, overridden.offset) == (3, 1)


def test_build_loader_fn_require_env():
    def factory(venv, k=0):
        return venv, k

    loader = registry.build_loader_fn_require_env(factory, k=5)
    venv = _FakeVenv()
    assert loader(venv) == (venv, 5)
    assert loader(venv, k=6) == (venv, 6)
    assert loader.__name__ == "factory"  # functools.wraps keeps the name.


def test_loaders_in_a_registry():
    loaders: registry.Registry[registry.LoaderFn[_Spaces]] = registry.Registry()
    loaders.register("spaces", registry.build_loader_fn_require_space(_Spaces))
    assert loaders.get("spaces")(_FakeVenv()).spaces == ("obs-space", "act-space")
