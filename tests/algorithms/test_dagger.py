"""Tests for imitation.algorithms.dagger."""

from __future__ import annotations

import pathlib
import pickletools
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest
import torch as th

from imitation.algorithms import bc, dagger
from imitation.data import rollout, serialize
from imitation.policies.serialize import load_policy
from imitation.util import logger, safe_pickle
from imitation.util.util import make_vec_env


@pytest.fixture
def cartpole(rng):
    venv = make_vec_env("seals:seals/CartPole-v0", rng=rng, n_envs=4)
    yield venv
    venv.close()


@pytest.fixture
def expert(cartpole):
    return load_policy("bundled", cartpole, env_name="seals/CartPole-v0")


def _bc(venv, rng):
    return bc.BC(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        rng=rng,
        custom_logger=logger.configure(format_strs=[]),
    )


def _simple(venv, expert, tmp_path, rng, **kwargs):
    return dagger.SimpleDAggerTrainer(
        venv=venv,
        scratch_dir=tmp_path,
        expert_policy=expert,
        bc_trainer=_bc(venv, rng),
        rng=rng,
        custom_logger=logger.configure(format_strs=[]),
        **kwargs,
    )


def _mean_return(policy, venv, n=20, seed=1):
    trajs = rollout.generate_trajectories(
        policy, venv, rollout.make_min_episodes(n), rng=np.random.default_rng(seed)
    )
    return float(np.mean([t.rews.sum() for t in trajs[:n]]))


def test_dagger_learns_cartpole_within_4000_steps(cartpole, expert, tmp_path, rng):
    trainer = _simple(cartpole, expert, tmp_path, rng)
    random_return = _mean_return(None, cartpole)
    expert_return = _mean_return(expert, cartpole)
    assert _mean_return(trainer.policy, cartpole) < 0.5 * expert_return
    trainer.train(4000, bc_train_kwargs={"progress_bar": False})
    score = _mean_return(trainer.policy, cartpole)
    normalized = (score - random_return) / (expert_return - random_return)
    assert normalized >= 0.9, (score, random_return, expert_return)


def test_beta_schedules():
    linear = dagger.LinearBetaSchedule(4)
    assert [linear(i) for i in range(6)] == [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    expo = dagger.ExponentialBetaSchedule(0.5)
    assert [expo(i) for i in range(3)] == [1.0, 0.5, 0.25]
    with pytest.raises(ValueError):
        dagger.LinearBetaSchedule(0)
    with pytest.raises(ValueError):
        dagger.ExponentialBetaSchedule(1.5)


def test_needs_demos(cartpole, tmp_path, rng):
    trainer = dagger.DAggerTrainer(
        venv=cartpole, scratch_dir=tmp_path, rng=rng, bc_trainer=_bc(cartpole, rng)
    )
    with pytest.raises(dagger.NeedsDemosException):
        trainer.extend_and_update()


def test_collector_records_expert_actions(cartpole, tmp_path, rng):
    """With beta=0 the robot always acts, yet the expert's actions are saved."""
    collector = dagger.InteractiveTrajectoryCollector(
        venv=cartpole,
        get_robot_acts=lambda obs: np.zeros(len(obs), dtype=np.int64),
        beta=0.0,
        save_dir=tmp_path / "round-002",
        rng=rng,
    )
    trajs = rollout.generate_trajectories(
        lambda obs, state, ep: (np.ones(len(obs), dtype=np.int64), state),
        collector,
        rollout.make_min_episodes(4),
        rng=rng,
    )
    assert all(np.all(t.acts == 1) for t in trajs)
    files = sorted(p.name for p in (tmp_path / "round-002").iterdir())
    assert files[0] == "demos_round_002_000.npz"
    assert len(files) == 4
    saved = serialize.load(tmp_path / "round-002" / files[0])
    assert np.all(saved[0].acts == 1)
    # The robot (always action 0) pushes the cart off balance: low returns.
    assert np.mean([t.rews.sum() for t in trajs]) < 100


def test_collector_validates(cartpole, tmp_path, rng):
    with pytest.raises(ValueError, match="beta"):
        dagger.InteractiveTrajectoryCollector(
            cartpole, lambda o: o, beta=1.5, save_dir=tmp_path, rng=rng
        )
    collector = dagger.InteractiveTrajectoryCollector(
        cartpole, lambda o: o, beta=0.5, save_dir=tmp_path, rng=rng
    )
    with pytest.raises(RuntimeError, match="reset"):
        collector.step(np.zeros(4, dtype=np.int64))


def test_expert_space_mismatch(cartpole, tmp_path, rng):
    pendulum = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
    other = load_policy("bundled", pendulum, env_name="Pendulum-v1")
    with pytest.raises(ValueError, match="observation_space"):
        _simple(cartpole, other, tmp_path, rng)


def test_expert_trajs_seed_round_zero(
    cartpole, expert, tmp_path, cartpole_expert_trajectories, rng
):
    trainer = _simple(
        cartpole, expert, tmp_path, rng, expert_trajs=cartpole_expert_trajectories[:3]
    )
    files = list((tmp_path / "demos" / "round-000").iterdir())
    assert len(files) == 3
    trainer.extend_and_update({"n_batches": 2, "progress_bar": False})
    assert trainer.round_num == 1


def test_save_and_reconstruct(cartpole, expert, tmp_path, rng):
    trainer = _simple(cartpole, expert, tmp_path, rng)
    trainer.train(2000, bc_train_kwargs={"n_batches": 20, "progress_bar": False})
    checkpoint, policy_path = trainer.save_trainer()
    assert checkpoint.exists() and policy_path.exists()
    assert (tmp_path / "checkpoint-latest.pt").exists()
    restored = dagger.reconstruct_trainer(tmp_path, cartpole)
    assert restored.round_num == trainer.round_num
    for a, b in zip(trainer.policy.parameters(), restored.policy.parameters()):
        assert th.equal(a, b)
    policy = bc.reconstruct_policy(str(policy_path))
    obs = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    np.testing.assert_array_equal(
        policy.predict(obs, deterministic=True)[0],
        trainer.policy.predict(obs, deterministic=True)[0],
    )


def test_partial_write_left_by_a_kill_is_ignored(cartpole, expert, tmp_path, rng):
    """A kill during a demo write leaves a temp directory; it is never loaded."""
    trainer = _simple(cartpole, expert, tmp_path, rng)
    trainer.train(2000, bc_train_kwargs={"n_batches": 2, "progress_bar": False})
    tmp_dir = tmp_path / "demos" / "round-000" / ".demos_round_000_099.npz.ab.tmp"
    tmp_dir.mkdir()
    (tmp_dir / "demos_round_000_099.npz").write_bytes(b"PK\x03\x04 half a file")
    restored = dagger.reconstruct_trainer(tmp_path, cartpole)
    collector = restored.create_trajectory_collector()
    rollout.generate_trajectories(
        expert, collector, rollout.make_min_episodes(1), rng=rng
    )
    restored.extend_and_update({"n_batches": 1, "progress_bar": False})
    complete = list(tmp_path.glob("demos/round-*/demos_round_*.npz"))
    assert len(restored._all_demos) == len(complete)


@pytest.mark.parametrize("cut", [0.05, 0.5, 0.95])
def test_truncated_checkpoint(cartpole, tmp_path, rng, cut):
    trainer = dagger.DAggerTrainer(
        venv=cartpole, scratch_dir=tmp_path, rng=rng, bc_trainer=_bc(cartpole, rng)
    )
    checkpoint, policy_path = trainer.save_trainer()
    for path in (checkpoint, tmp_path / "checkpoint-latest.pt", policy_path):
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(safe_pickle.CorruptFileError, match="truncated or corrupt"):
        dagger.reconstruct_trainer(tmp_path, cartpole)
    with pytest.raises(safe_pickle.CorruptFileError, match="truncated or corrupt"):
        bc.reconstruct_policy(str(policy_path))


def test_corrupt_checkpoint_contents(cartpole, tmp_path, rng):
    trainer = dagger.DAggerTrainer(
        venv=cartpole, scratch_dir=tmp_path, rng=rng, bc_trainer=_bc(cartpole, rng)
    )
    trainer.save_trainer()
    path = tmp_path / "checkpoint-latest.pt"
    state = safe_pickle.safe_torch_load(path)
    del state["optimizer_state"]
    th.save(state, path)
    with pytest.raises(ValueError, match="corrupt DAgger checkpoint.*optimizer_state"):
        dagger.reconstruct_trainer(tmp_path, cartpole)
    state["optimizer_state"] = {}
    state["policy"] = {"policy_class": state["policy"]["policy_class"], "data": {}}
    th.save(state, path)
    with pytest.raises(ValueError, match="policy cannot be rebuilt"):
        dagger.reconstruct_trainer(tmp_path, cartpole)
    th.save([1, 2, 3], path)
    with pytest.raises(ValueError, match="not a DAgger checkpoint"):
        dagger.reconstruct_trainer(tmp_path, cartpole)


def test_bad_rng_and_plain_env(cartpole, tmp_path, rng):
    with pytest.raises(TypeError, match="default_rng"):
        dagger.DAggerTrainer(
            venv=cartpole, scratch_dir=tmp_path, rng=0, bc_trainer=_bc(cartpole, rng)
        )
    env = cartpole.envs[0]
    with pytest.raises(TypeError, match="make_vec_env"):
        dagger.DAggerTrainer(
            venv=env, scratch_dir=tmp_path, rng=rng, bc_trainer=_bc(cartpole, rng)
        )


def test_reconstruct_without_checkpoint(cartpole, tmp_path):
    with pytest.raises(FileNotFoundError, match="checkpoint"):
        dagger.reconstruct_trainer(tmp_path, cartpole)


KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import torch as th
    from imitation.algorithms import bc, dagger
    from imitation.policies.serialize import load_policy
    from imitation.util import logger, safe_pickle
    from imitation.util.util import make_vec_env

    th.set_num_threads(1)
    rng = np.random.default_rng(0)
    venv = make_vec_env("seals:seals/CartPole-v0", rng=rng, n_envs=4)
    expert = load_policy("bundled", venv, env_name="seals/CartPole-v0")
    trainer = dagger.SimpleDAggerTrainer(
        venv=venv,
        scratch_dir=sys.argv[1],
        expert_policy=expert,
        bc_trainer=bc.BC(
            observation_space=venv.observation_space,
            action_space=venv.action_space,
            rng=rng,
            custom_logger=logger.configure(format_strs=[]),
        ),
        rng=rng,
        custom_logger=logger.configure(format_strs=[]),
    )
    trainer.train(10**9, bc_train_kwargs={"n_epochs": 200, "progress_bar": False})
    """
)


def test_killed_run_resumes_without_losing_demos(cartpole, tmp_path):
    """Kill a run mid-round (during BC training); every saved demo survives."""
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(tmp_path)])
    try:
        deadline = time.time() + 300  # generous: the child imports torch and SB3
        # Wait until round 1 has started collecting: a checkpoint exists and
        # round-001 has demonstrations, so the kill lands mid-run.
        while time.time() < deadline:
            if (tmp_path / "checkpoint-latest.pt").exists() and any(
                (tmp_path / "demos" / "round-001").glob("*.npz")
            ):
                break
            assert proc.poll() is None, "training process exited early"
            time.sleep(0.05)
        else:
            pytest.fail("training made no progress")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # The files the trainer reads: a kill mid-write leaves a hidden temporary
    # directory (``.demos_round_...npz.XXXX.tmp/``) holding a partial file,
    # which must neither be counted here nor be loaded by the trainer.
    demo_files = sorted(tmp_path.glob("demos/round-*/demos_round_*.npz"))
    for path in demo_files:
        assert len(serialize.load(path)) == 1  # every file is complete
    trainer = dagger.reconstruct_trainer(tmp_path, cartpole)
    assert trainer.round_num >= 1
    trainer.extend_and_update({"n_batches": 1, "progress_bar": False})
    # All demonstrations of the finished and the interrupted round were used.
    n_used = sum(
        1 for p in demo_files if int(p.parent.name.split("-")[1]) < trainer.round_num
    )
    assert len(trainer._all_demos) == n_used == len(demo_files)
    assert not [
        p for p in tmp_path.rglob("*") if p.name.endswith(".tmp") and p.is_file()
    ]


def _one_round_labels(trainer, venv):
    """Run one short round; the saved (observations, labels) of round 0."""
    trainer.train(
        100,
        rollout_round_min_episodes=1,
        rollout_round_min_timesteps=100,
        bc_train_kwargs={"n_batches": 1, "log_rollouts_venv": None},
        progress_bar=False,
    )
    demos = []
    for path in sorted((trainer.scratch_dir / "demos" / "round-000").iterdir()):
        demos.extend(serialize.load(path))
    flat = rollout.flatten_trajectories(demos)
    return flat.obs, flat.acts


def _pole_leans_right(obs):
    return (np.asarray(obs)[:, 2] > 0).astype(np.int64)


@pytest.mark.parametrize(
    "kind", ["sb3-deterministic", "sb3-sampled", "callable", "stochastic-callable"]
)
def test_any_expert_labels_the_states(cartpole, tmp_path, rng, kind):
    from stable_baselines3 import PPO

    # An untrained PPO policy: both actions about equally likely.
    ppo = PPO("MlpPolicy", cartpole, seed=0, device="cpu").policy
    label_rng = np.random.default_rng(5)
    experts = {
        "sb3-deterministic": (ppo, True),
        "sb3-sampled": (ppo, False),
        "callable": (lambda obs, state, ep: (_pole_leans_right(obs), state), True),
        "stochastic-callable": (
            lambda obs, state, ep: (label_rng.integers(0, 2, len(obs)), state),
            True,
        ),
    }
    expert, deterministic = experts[kind]
    trainer = _simple(
        cartpole, expert, tmp_path, rng, deterministic_expert=deterministic
    )
    obs, labels = _one_round_labels(trainer, cartpole)
    assert len(labels) >= 100
    if kind.startswith("sb3"):
        most_likely, _ = ppo.predict(obs, deterministic=True)
        disagree = np.mean(labels != most_likely)
        if kind == "sb3-deterministic":
            assert disagree == 0
        else:
            assert 0.2 < disagree < 0.8, disagree  # Sampled, about half the time.
    elif kind == "callable":
        np.testing.assert_array_equal(labels, _pole_leans_right(obs))
    else:
        assert 0.3 < np.mean(labels) < 0.7


def test_callable_breaking_the_convention_is_named(cartpole, tmp_path, rng):
    with pytest.raises(TypeError, match="PolicyCallable convention"):
        _simple(cartpole, lambda obs: _pole_leans_right(obs), tmp_path, rng)
    with pytest.raises(ValueError, match="SB3 experts only"):
        _simple(
            cartpole,
            lambda obs, state, ep: (_pole_leans_right(obs), state),
            tmp_path,
            rng,
            deterministic_expert=False,
        )
    actions_only = _simple(
        cartpole, lambda obs, state, ep: _pole_leans_right(obs), tmp_path, rng
    )
    with pytest.raises(TypeError, match=r"returned ndarray.*PolicyCallable convention"):
        _one_round_labels(actions_only, cartpole)
    one_action = _simple(
        cartpole, lambda obs, state, ep: (np.zeros(1, np.int64), None), tmp_path, rng
    )
    with pytest.raises(ValueError, match=r"shape \(1,\) for 4 envs.*one action per"):
        _one_round_labels(one_action, cartpole)
    triple = _simple(
        cartpole,
        lambda obs, state, ep: (_pole_leans_right(obs), state, 0),
        tmp_path,
        rng,
    )
    with pytest.raises(TypeError, match="a tuple of 3"):
        _one_round_labels(triple, cartpole)


PRE_SPLIT = (
    pathlib.Path(__file__).parents[1] / "testdata" / "dagger_checkpoint_pre_split"
)


def _pickled_globals(checkpoint: pathlib.Path) -> set[str]:
    """The ``module name`` pairs a torch checkpoint's pickle refers to."""
    with zipfile.ZipFile(checkpoint) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        data = archive.read(name)
    return {str(arg) for op, arg, _ in pickletools.genops(data) if op.name == "GLOBAL"}


@pytest.mark.parametrize(
    ("kind", "schedule", "betas"),
    [
        ("linear", dagger.LinearBetaSchedule, [1.0, 6 / 7, 0.0]),
        ("exponential", dagger.ExponentialBetaSchedule, [1.0, 0.5, 0.5**7]),
    ],
)
def test_checkpoint_saved_before_the_package_split_resumes(
    cartpole, tmp_path, rng, kind, schedule, betas
):
    """Checkpoints written when ``dagger`` was one module load and train on.

    They were saved by commit dba682b (``tests/testdata/README.md``) and name
    their schedule ``imitation.algorithms.dagger.<Class>``; new checkpoints
    name it the same way, so either version of the library reads the other's.
    """
    scratch = tmp_path / kind
    shutil.copytree(PRE_SPLIT / kind, scratch)
    old_globals = _pickled_globals(scratch / "checkpoint-latest.pt")
    assert f"imitation.algorithms.dagger {schedule.__name__}" in old_globals
    trainer = dagger.reconstruct_trainer(scratch, cartpole, rng=rng)
    assert type(trainer.beta_schedule) is schedule
    assert [trainer.beta_schedule(r) for r in (0, 1, 7)] == pytest.approx(betas)
    assert trainer.round_num == 1
    saved = bc.reconstruct_policy(str(scratch / "policy-latest.pt"))
    for a, b in zip(saved.parameters(), trainer.policy.parameters()):
        assert th.equal(a, b)
    # The resumed trainer collects a round and trains on it.
    collector = trainer.create_trajectory_collector()
    rollout.generate_trajectories(
        lambda obs, state, ep: (_pole_leans_right(obs), state),
        collector,
        rollout.make_min_episodes(1),
        rng=rng,
    )
    assert trainer.extend_and_update({"n_batches": 2, "progress_bar": False}) == 2
    checkpoint, _ = trainer.save_trainer()
    assert _pickled_globals(checkpoint) == old_globals
