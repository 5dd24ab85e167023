"""Files saved by imitation 1.0.0 still load, and compute what they did.

``tests/testdata/saved_1_0`` holds a saved policy, reward nets (normalised,
shaped by a policy's value function, GAIL's) and a DAgger checkpoint, written
by ``make_files.py`` there with the 1.0.0 code. Each is loaded in a fresh
interpreter, so the classes they name must be found although nothing has
imported their modules yet.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

SAVED = pathlib.Path(__file__).parent / "testdata" / "saved_1_0"
EXPECTED = json.loads((SAVED / "expected.json").read_text())

_HEADER = """
import json, pathlib, sys
import numpy as np
import torch as th
SAVED = pathlib.Path(sys.argv[1])
OBS = np.linspace(-0.9, 0.9, 12, dtype=np.float32).reshape(3, 4)
ACTS = np.array([0, 1, 1])
DONES = np.array([False, False, True])

def policy_outputs(policy):
    with th.no_grad():
        obs = th.as_tensor(OBS)
        return {
            "probs": policy.get_distribution(obs).distribution.probs.tolist(),
            "values": policy.predict_values(obs).flatten().tolist(),
        }

def rewards(net):
    return net.predict(OBS, ACTS, OBS[::-1].copy(), DONES).tolist()
"""

_SCRIPTS = {
    "policy, through the unpickler alone": """
from imitation.util import safe_pickle, policy_io
saved = safe_pickle.safe_torch_load(SAVED / "policy.pt")
out = policy_outputs(policy_io.policy_from_dict(saved, "cpu"))
""",
    "policy, through the original reader": """
from imitation.algorithms import bc
out = policy_outputs(bc.reconstruct_policy(str(SAVED / "policy.pt"), "cpu"))
""",
    "policy, through policies.serialize": """
from imitation.policies import serialize
out = policy_outputs(serialize.reconstruct_policy(str(SAVED / "policy.pt"), "cpu"))
""",
    "reward nets": """
from imitation.rewards import serialize
out = {
    name: rewards(serialize.load_reward_net(SAVED / name))
    for name in (
        "gail_reward_net.pt",
        "value_shaped_reward_net.pt",
        "normalized_reward_net.pt",
    )
}
""",
    "dagger checkpoint": """
import gymnasium as gym
from stable_baselines3.common import vec_env
from imitation.algorithms import dagger
import shutil, tempfile
scratch = pathlib.Path(tempfile.mkdtemp())
shutil.copy(SAVED / "dagger_checkpoint.pt", scratch / "checkpoint-latest.pt")
venv = vec_env.DummyVecEnv([lambda: gym.make("CartPole-v1")])
trainer = dagger.reconstruct_trainer(scratch, venv, device="cpu")
out = {
    "round_num": trainer.round_num,
    "beta": trainer.beta_schedule(trainer.round_num),
    "policy": policy_outputs(trainer.policy),
}
shutil.rmtree(scratch)
""",
}


def _run(body: str) -> object:
    script = _HEADER + body + "\nprint(json.dumps(out))\n"
    src = pathlib.Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), *sys.path])}
    result = subprocess.run(
        [sys.executable, "-c", script, str(SAVED)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def _assert_close(got: object, want: object) -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want)
        for key in want:
            _assert_close(got[key], want[key])
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)  # type: ignore[arg-type]


@pytest.mark.parametrize("case", list(_SCRIPTS))
def test_saved_file_loads_in_a_fresh_interpreter(case: str) -> None:
    got = _run(_SCRIPTS[case])
    if case.startswith("policy"):
        want: object = EXPECTED["policy.pt"]
    elif case == "reward nets":
        want = {
            name: EXPECTED[name]
            for name in (
                "gail_reward_net.pt",
                "value_shaped_reward_net.pt",
                "normalized_reward_net.pt",
            )
        }
    else:
        want = EXPECTED["dagger_checkpoint.pt"]
    _assert_close(got, want)
