"""Every command of the documentation's command-line pages, verbatim.

Each command is run exactly as documented, followed by overrides that shrink
its budget (fast mode); commands that name the HuggingFace Hub run against a
local Hub cache built from the bundled experts (``imitation.testing.
hub_cache``), with the network switched off.
"""

from __future__ import annotations

import os
import pathlib
import shlex
import subprocess
import sys

import pytest

from imitation.testing import hub_cache

REPO = pathlib.Path(__file__).parents[2]

FAST_ENV = ["environment.fast", "policy_evaluation.fast"]


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    cache = tmp_path_factory.mktemp("hub")
    hub_cache.populate_hub_cache(cache, env_names=["seals/CartPole-v0"], n_episodes=4)
    return cache


@pytest.fixture
def workdir(tmp_path):
    """A directory like the repository's root, where the docs run commands."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "testdata").symlink_to(REPO / "tests" / "testdata")
    return tmp_path


def cli(cwd, command: str, *fast: str, hub=None, ok: bool = True, extra_env=None):
    """Run a documented ``python -m ...`` command with fast-mode overrides."""
    args = shlex.split(command.replace("\\\n", " "))
    assert args[:2] == ["python", "-m"], command
    env = dict(os.environ, OMP_NUM_THREADS="1", SDL_VIDEODRIVER="dummy")
    env["HF_HUB_OFFLINE"] = "1"
    env["HF_HOME"] = str(cwd / ".hf")
    if hub is not None:
        env["HF_HUB_CACHE"] = str(hub)
    env.update(extra_env or {})
    result = subprocess.run(
        [sys.executable, *args[1:], *fast],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if ok:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_bc_with_expert_from_testdata(workdir):
    cli(
        workdir,
        """python -m imitation.scripts.train_imitation bc with \\
cartpole \\
demonstrations.n_expert_demos=50 \\
bc.train_kwargs.n_batches=2000 \\
expert.policy_type=ppo \\
expert.loader_kwargs.path=tests/testdata/expert_models/cartpole_0/policies/final/model.zip""",
        *FAST_ENV,
        "demonstrations.n_expert_demos=2",
        "bc.train_kwargs.n_batches=20",
    )


def test_dagger_with_random_expert(workdir):
    cli(
        workdir,
        """python -m imitation.scripts.train_imitation dagger with \\
cartpole \\
dagger.total_timesteps=2000 \\
demonstrations.n_expert_demos=10 \\
expert.policy_type=random""",
        *FAST_ENV,
        "dagger.total_timesteps=100",
    )


def test_airl_mountain_car_from_hub_fails_clearly(workdir, hub):
    """No PPO expert for seals/MountainCar-v0 in the cache: one clear line."""
    result = cli(
        workdir,
        """python -m imitation.scripts.train_adversarial airl with \\
seals_mountain_car \\
total_timesteps=5000 \\
expert.policy_type=ppo-huggingface \\
demonstrations.n_expert_demos=500""",
        hub=hub,
        ok=False,
    )
    assert result.returncode == 1
    assert "HubUnavailableError" in result.stderr
    assert "HumanCompatibleAI/ppo-seals-MountainCar-v0" in result.stderr


def test_gail_swimmer_v0_fails_clearly(workdir):
    """seals registers Swimmer-v1 only (and MuJoCo is an optional extra)."""
    result = cli(
        workdir,
        """python -m imitation.scripts.train_adversarial gail with \\
environment.gym_id="seals:seals/Swimmer-v0" \\
total_timesteps=5000 \\
demonstrations.n_expert_demos=50""",
        ok=False,
    )
    assert result.returncode == 1
    (line,) = [x for x in result.stderr.splitlines() if "error:" in x]
    assert "seals/Swimmer-v1" in line  # the error names the available version


def test_train_save_load_then_dagger(workdir, hub):
    """Train an expert, or load one from the Hub; then DAgger on saved rollouts."""
    cli(
        workdir,
        """python -m imitation.scripts.train_rl with seals_cartpole \\
total_timesteps=40000 \\
logging.log_dir=output/ppo/seals_cartpole/trained \\
rollout_save_n_episodes=50""",
        *FAST_ENV,
        "rl.fast",
        "total_timesteps=256",
        "rollout_save_n_episodes=2",
    )
    trained = workdir / "output" / "ppo" / "seals_cartpole" / "trained"
    assert (trained / "rollouts" / "final").is_dir()
    cli(
        workdir,
        """python -m imitation.scripts.eval_policy with seals_cartpole \\
expert.policy_type=ppo-huggingface \\
eval_n_episodes=50 \\
logging.log_dir=output/ppo/seals_cartpole/loaded \\
rollout_save_path=rollouts/final""",
        "environment.fast",
        "eval_n_episodes=2",
        hub=hub,
    )
    cli(
        workdir,
        """python -m imitation.scripts.train_imitation dagger with \\
seals_cartpole \\
dagger.total_timesteps=2000 \\
demonstrations.source=local \\
demonstrations.path=output/ppo/seals_cartpole/loaded/rollouts/final""",
        *FAST_ENV,
        "dagger.total_timesteps=100",
        hub=hub,
    )


def test_visualise_saved_policy(workdir):
    cli(
        workdir,
        "python -m imitation.scripts.train_rl with pendulum "
        "logging.log_dir=output/train_rl/Pendulum-v1/my_run",
        *FAST_ENV,
        "rl.fast",
        "fast",
    )
    cli(
        workdir,
        """python -m imitation.scripts.eval_policy with \\
expert.policy_type=ppo \\
expert.loader_kwargs.path=output/train_rl/Pendulum-v1/my_run/policies/final/model.zip \\
environment.num_vec=1 \\
render=True \\
environment.gym_id='Pendulum-v1'""",
        "eval_n_timesteps=30",
        "render_fps=1000",
    )


def test_comparing_algorithms(workdir):
    """Two agents, their evaluations, then the documented significance test."""
    for name, steps in (("expert", 10000), ("non_expert", 1000)):
        cli(
            workdir,
            f"""python -m imitation.scripts.train_rl with \\
cartpole \\
logging.log_dir=output/train_rl/CartPole-v1/{name} \\
total_timesteps={steps}""",
            "environment.num_vec=2",
            "environment.parallel=False",
            "rl.fast",
            "total_timesteps=64",
            "policy_evaluation.fast",
        )
        result = cli(
            workdir,
            f"""python -m imitation.scripts.eval_policy with \\
expert.policy_type=ppo \\
expert.loader_kwargs.path=output/train_rl/CartPole-v1/{name}/policies/final/model.zip \\
environment.gym_id='CartPole-v1' \\
environment.num_vec=1 \\
logging.log_dir=output/eval_policy/CartPole-v1/{name}""",
            "eval_n_timesteps=200",
        )
        assert "INFO - eval_policy - Result: {" in result.stderr
    snippet = """
from pathlib import Path
import pandas as pd
from imitation.testing.reward_improvement import is_significant_reward_improvement
expert_monitor = pd.concat(
    [
        pd.read_csv(f, skiprows=1)
        for f in Path("./output/train_rl/CartPole-v1/expert/monitor").glob(
            "mon*.monitor.csv"
        )
    ]
)
non_expert_monitor = pd.concat(
    [
        pd.read_csv(f, skiprows=1)
        for f in Path("./output/train_rl/CartPole-v1/non_expert/monitor").glob(
            "mon*.monitor.csv"
        )
    ]
)
if is_significant_reward_improvement(non_expert_monitor["r"], expert_monitor["r"], 0.05):
    print("The expert improved over the non-expert with >95% probability")
else:
    print("No significant (p=0.05) reward improvement of expert over non-expert")
"""  # noqa: E501 - the documentation's code, verbatim
    result = subprocess.run(
        [sys.executable, "-c", snippet],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "expert" in result.stdout


def test_expert_from_a_file_for_airl(workdir):
    """The Experts page: AIRL on a PPO expert loaded from a zip."""
    cli(
        workdir,
        """python -m imitation.scripts.train_adversarial airl \\
with expert.policy_type=ppo expert.loader_kwargs.path="path/to/model.zip\"""".replace(
            "path/to/model.zip",
            "tests/testdata/expert_models/cartpole_0/policies/final/model.zip",
        ),
        "environment.gym_id=CartPole-v1",
        "algorithm_kwargs.allow_variable_horizon=True",  # CartPole-v1 terminates
        *FAST_ENV,
        "demonstrations.fast",
        "rl.fast",
        "fast",
    )


def test_single_benchmark_runs_offline_on_the_bundled_expert(workdir, hub, tmp_path):
    """``<train_script> <algo> with <algo>_<env>``: the tuned configs name the
    Hub's expert and demonstrations; offline, without them in the cache, the
    bundled seals expert stands in, and one line says so."""
    pytest.importorskip("mujoco")
    result = cli(
        workdir,
        "python -m imitation.scripts.train_imitation bc with bc_seals_hopper",
        *FAST_ENV,
        "bc.train_kwargs.n_epochs=None",
        "bc.train_kwargs.n_batches=10",
        hub=hub,
        extra_env={"IMITATION_CACHE_DIR": str(tmp_path / "imitation-cache")},
    )
    notes = [x for x in result.stderr.splitlines() if "cannot be reached" in x]
    assert len(notes) == 1
    assert "HumanCompatibleAI/ppo-seals-Hopper-v1" in notes[0]
