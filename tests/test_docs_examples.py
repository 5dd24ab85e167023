"""The documentation's Python examples, verbatim, run offline.

Each example of the original documentation (the tutorials and the examples
on the algorithm pages of ``../shared/spec/imitation-docs.txt``) is kept in
``tests/data/docs_examples/<name>.py``. The documentation's text is
flattened from HTML, which lost the indentation, so the files restore it by
hand; :func:`test_example_is_verbatim` checks that, indentation aside, every
line of a file is a line of the documentation, in order, inside the
example's line range (the lines left out there are printed output).

:func:`test_example_runs` runs each file in a fresh interpreter with the
network off and a HuggingFace cache filled by :mod:`imitation.testing.hub_cache`.
The only changes are the listed ``budgets``: training budgets replaced by tiny
ones, each checked to be in the file. Examples that run for more than about
half a minute are ``expensive`` (``pytest -m expensive``); the default suite
runs the others.

The snippets of the getting-started pages (experts, trajectories, reward
networks) are fragments with placeholders (``"your-env"``,
``your_trajectories``, ``path``), not programs, and are not listed.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

from imitation.testing import expert_trajectories, hub_cache

REPO = pathlib.Path(__file__).resolve().parents[1]
SPEC = REPO.parent / "shared" / "spec" / "imitation-docs.txt"
EXAMPLES_DIR = REPO / "tests" / "data" / "docs_examples"
HUB_ENVS = ("seals/CartPole-v0", "CartPole-v1", "Pendulum-v1")
"""The bundled experts (and their demonstrations) the examples load from the Hub."""


@dataclasses.dataclass(frozen=True)
class Example:
    """One documented example.

    Attributes:
        name: The file's stem in ``tests/data/docs_examples``.
        first_line: First line of the example in the documentation (1-based).
        last_line: Last line of the example in the documentation.
        budgets: ``(documented, tiny)`` replacements of training budgets.
        skip: Why the example cannot run yet, or None.
        expensive: Runs for long (more than about 30 seconds here).
    """

    name: str
    first_line: int
    last_line: int
    budgets: tuple[tuple[str, str], ...] = ()
    skip: str | None = None
    expensive: bool = False

    @property
    def path(self) -> pathlib.Path:
        return EXAMPLES_DIR / f"{self.name}.py"


EXAMPLES = [
    Example("quickstart", 86, 168, expensive=True),
    Example("bc_example", 971, 1007, expensive=True),
    Example("gail_example", 1116, 1183, expensive=True),
    Example("airl_example", 1462, 1529, expensive=True),
    Example("dagger_example", 1816, 1851),
    Example("density_example", 2225, 2261),
    Example("mce_irl_example", 2354, 2398),
    Example(
        "preference_comparisons_example",
        2530,
        2591,
        budgets=(
            (
                "pref_comparisons.train(total_timesteps=50_000, total_comparisons=200)",
                "pref_comparisons.train(total_timesteps=5_000, total_comparisons=20)",
            ),
        ),
    ),
    Example("sqil_example", 2690, 2707),
    Example("bc_tutorial", 2773, 2838),
    Example("dagger_tutorial", 2871, 2947, expensive=True),
    Example(
        "gail_tutorial",
        2953,
        4875,
        budgets=(("gail_trainer.train(200_000)", "gail_trainer.train(16_384)"),),
        expensive=True,
    ),
    Example(
        "airl_tutorial",
        4881,
        6508,
        budgets=(("N_RL_TRAIN_STEPS = 100_000", "N_RL_TRAIN_STEPS = 16_384"),),
        expensive=True,
    ),
    Example("preference_comparisons_tutorial", 6514, 7012, expensive=True),
    Example("preference_comparisons_atari_tutorial", 7019, 7306, expensive=True),
    Example("mce_irl_tutorial", 7311, 7467, expensive=True),
    Example("density_tutorial", 7514, 7666, expensive=True),
    Example("sqil_tutorial", 7677, 7712),
    Example("sqil_sac_tutorial", 7720, 7762, expensive=True),
    Example(
        "compare_algorithms_tutorial",
        7769,
        8213,
        budgets=(("expert.learn(10_000)", "expert.learn(2_000)"),),
        expensive=True,
    ),
    Example(
        "bc_custom_env_tutorial",
        8226,
        8377,
        budgets=(("expert.learn(10_000)", "expert.learn(2_000)"),),
        expensive=True,
    ),
]


def _params(examples: list[Example], mark_expensive: bool) -> list:
    return [
        pytest.param(
            ex,
            id=ex.name,
            marks=[pytest.mark.expensive] if mark_expensive and ex.expensive else [],
        )
        for ex in examples
    ]


def _normalise(line: str) -> str:
    """A line without indentation and with runs of spaces as one space."""
    return re.sub(r"\s+", " ", line).strip()


def test_examples_are_listed_once_and_exist():
    names = [ex.name for ex in EXAMPLES]
    assert len(names) == len(set(names))
    on_disk = {p.stem for p in EXAMPLES_DIR.glob("*.py")}
    assert on_disk == set(names), "every example file is listed, and only those"


def test_every_algorithm_page_example_is_covered():
    if not SPEC.exists():
        pytest.skip(f"no shared specification at {SPEC}")
    headings = [
        number
        for number, line in enumerate(SPEC.read_text(encoding="utf-8").split("\n"), 1)
        if line == "Example#"
    ]
    assert len(headings) == 8
    for heading in headings:
        assert any(heading < ex.first_line <= heading + 4 for ex in EXAMPLES), (
            f"the example under the heading on line {heading} is not listed"
        )


@pytest.mark.parametrize("example", _params(EXAMPLES, mark_expensive=False))
def test_example_is_verbatim(example: Example):
    if not SPEC.exists():
        pytest.skip(f"no shared specification at {SPEC}")
    spec_lines = SPEC.read_text(encoding="utf-8").split("\n")
    documented = [
        _normalise(line)
        for line in spec_lines[example.first_line - 1 : example.last_line]
    ]
    code = [
        _normalise(line)
        for line in example.path.read_text(encoding="utf-8").split("\n")
        if line.strip()
    ]
    # In order: each line of the file is the next matching documented line.
    position = 0
    for line in code:
        try:
            position = documented.index(line, position) + 1
        except ValueError:
            pytest.fail(
                f"{example.path.name}: {line!r} is not in lines "
                f"{example.first_line}-{example.last_line} of the documentation "
                "(after the lines matched before it).",
            )
    assert code[0] == documented[0], "the example starts where its range starts"


def _write_original_pendulum_rollouts(workdir: pathlib.Path) -> None:
    """Write ``tests/testdata/.../pendulum_0/rollouts/final.npz`` beside ``workdir``.

    In the layout the original library saved rollouts in, with the per-step
    infos as a pickled object array, from the bundled Pendulum expert.
    """
    trajs = expert_trajectories.generate_expert_trajectories(
        "Pendulum-v1", 4, np.random.default_rng(0)
    )
    path = workdir.parent / "tests/testdata/expert_models/pendulum_0/rollouts"
    path.mkdir(parents=True)
    np.savez_compressed(
        path / "final.npz",
        obs=np.concatenate([t.obs for t in trajs]),
        acts=np.concatenate([t.acts for t in trajs]),
        rews=np.concatenate([t.rews for t in trajs]),
        terminal=np.array([t.terminal for t in trajs]),
        indices=np.cumsum([len(t) for t in trajs[:-1]]),
        infos=np.array(
            [{"step": i} for t in trajs for i in range(len(t))], dtype=object
        ),
    )


@pytest.fixture(scope="module")
def caches(tmp_path_factory) -> tuple[pathlib.Path, pathlib.Path]:
    """A Hub cache and a ``datasets`` cache with the bundled experts' data."""
    root = tmp_path_factory.mktemp("hf")
    hub, datasets_cache = root / "hub", root / "datasets"
    hub_cache.populate_hub_cache(hub, n_episodes=10, datasets_cache_dir=datasets_cache)
    return hub, datasets_cache


@pytest.mark.parametrize("example", _params(EXAMPLES, mark_expensive=True))
def test_example_runs(example: Example, caches, tmp_path):
    if example.skip:
        pytest.skip(example.skip)
    source = example.path.read_text(encoding="utf-8")
    for documented, tiny in example.budgets:
        assert documented in source, f"budget {documented!r} not in the example"
        source = source.replace(documented, tiny)
    workdir = tmp_path / "docs"
    workdir.mkdir()
    if "pendulum_0/rollouts" in source:
        _write_original_pendulum_rollouts(workdir)
    script = workdir / f"{example.name}.py"
    script.write_text(source, encoding="utf-8")
    hub, datasets_cache = caches
    pythonpath = os.pathsep.join(
        p for p in [str(REPO / "src"), os.environ.get("PYTHONPATH")] if p
    )
    env = {
        **os.environ,
        "PYTHONPATH": pythonpath,
        "HF_HUB_CACHE": str(hub),
        "HF_DATASETS_CACHE": str(datasets_cache),
        "HF_HOME": str(tmp_path / "hf-home"),
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "SDL_VIDEODRIVER": "dummy",
        "SDL_AUDIODRIVER": "dummy",
    }
    result = subprocess.run(
        [sys.executable, script.name],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
