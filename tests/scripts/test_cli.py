"""The command-line scripts, run as subprocesses exactly as documented."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from cli_helpers import run, sacred_run

# train_rl on Pendulum with the smallest budgets.
TRAIN_RL_FAST = [
    "with",
    "pendulum",
    "environment.fast",
    "policy_evaluation.fast",
    "rl.fast",
    "fast",
]

FAST = [
    "environment.fast",
    "demonstrations.fast",
    "policy_evaluation.fast",
    "rl.fast",
    "fast",
]


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    """The README's CLI quickstart: an expert, then GAIL and AIRL on its rollouts."""
    cwd = tmp_path_factory.mktemp("cli")
    run(
        cwd,
        "train_rl",
        *TRAIN_RL_FAST,
        "logging.log_dir=quickstart/rl/",
    )
    for algo in ("gail", "airl"):
        run(
            cwd,
            "train_adversarial",
            algo,
            "with",
            "pendulum",
            *FAST,
            "demonstrations.path=quickstart/rl/rollouts/final.npz",
            "demonstrations.source=local",
        )
    return cwd


def test_train_rl_layout(quickstart):
    rl_dir = quickstart / "quickstart" / "rl"
    assert (rl_dir / "policies" / "final" / "model.zip").is_file()
    checkpoints = sorted(p.name for p in (rl_dir / "policies").iterdir())
    assert checkpoints == ["000000000128", "000000000256", "final"]
    assert (rl_dir / "rollouts" / "final.npz").is_file()
    assert (rl_dir / "rollouts" / "final").is_dir()
    assert list((rl_dir / "log").glob("events.out.tfevents.*"))
    assert sorted(p.name for p in (rl_dir / "monitor").iterdir()) == [
        "mon000.monitor.csv",
        "mon001.monitor.csv",
    ]
    link = rl_dir / "sacred"
    assert link.is_symlink()
    assert os.readlink(link) == "../../output/sacred/train_rl/1"
    info = sacred_run(rl_dir)
    assert info["status"] == "COMPLETED" and info["command"] == "train_rl"
    for name in ("config.json", "cout.txt"):
        assert (link / name).is_file()


@pytest.mark.parametrize("algo", ["gail", "airl"])
def test_adversarial_output_layout(quickstart, algo):
    """output/<algo>/<env>/<timestamp>/ with a link to output/sacred/<script>/<id>."""
    (run_dir,) = (quickstart / "output" / algo / "Pendulum-v1").iterdir()
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "checkpoints",
        "log",
        "monitor",
        "sacred",
    ]
    final = run_dir / "checkpoints" / "final"
    assert {p.name for p in final.iterdir()} == {
        "gen_policy",
        "reward_test.pt",
        "reward_train.pt",
    }
    target = os.readlink(run_dir / "sacred")
    assert target.startswith("../../../sacred/train_adversarial/")
    info = sacred_run(run_dir)
    assert info["command"] == algo and info["status"] == "COMPLETED"
    assert isinstance(info["result"]["imit_stats"]["monitor_return_mean"], float)
    assert isinstance(info["result"]["expert_stats"]["monitor_return_mean"], float)
    # The run's CPU time (the benchmark tables' compute figures come from it).
    cpu = json.loads((run_dir / "sacred" / "info.json").read_text())["cpu_seconds"]
    assert 0 < cpu < 600

    from imitation.rewards import serialize

    serialize.load_reward_net(final / "reward_test.pt")


def test_eval_policy_of_trained_expert(quickstart):
    result = run(
        quickstart,
        "eval_policy",
        "with",
        "expert.policy_type=ppo",
        "expert.loader_kwargs.path=quickstart/rl/policies/final/model.zip",
        "environment.num_vec=1",
        "environment.gym_id=Pendulum-v1",
        "eval_n_timesteps=400",
        "logging.log_dir=output/eval_policy/Pendulum-v1/mine",
        "rollout_save_path=rollouts/final",
    )
    assert "Result: {" in result.stdout + result.stderr
    out = quickstart / "output" / "eval_policy" / "Pendulum-v1" / "mine"
    assert [p.name for p in (out / "monitor").iterdir()] == ["mon000.monitor.csv"]
    stats = sacred_run(out)["result"]
    assert stats["n_traj"] == stats["monitor_return_len"] == 2  # 200-step episodes
    from imitation.data import serialize

    assert len(serialize.load(out / "rollouts" / "final")) == 2


@pytest.mark.parametrize("command", ["bc", "dagger", "sqil"])
def test_train_imitation_commands(tmp_path, command):
    run(
        tmp_path,
        "train_imitation",
        command,
        "with",
        "seals_cartpole",
        "fast",
        "expert.policy_type=bundled",
        "demonstrations.source=generated",
    )
    (run_dir,) = (tmp_path / "output" / command / "seals-CartPole-v0").iterdir()
    info = sacred_run(run_dir)
    assert info["status"] == "COMPLETED"
    result = info["result"]
    assert result["imit_stats"]["n_traj"] >= 1
    # What a benchmark summary normalises with (DAgger: its expert's own
    # evaluation; episodes are cut short in the fast config).
    expert = result["expert_stats"]["monitor_return_mean"]
    assert expert >= result["random_stats"]["monitor_return_mean"]
    assert expert == result["expert_stats"]["monitor_return_max"]  # all full


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train_rl", "with", "no_such_config"], "no_such_config"),
        (["train_rl", "with", "total_timestep=5"], "total_timestep"),
        (
            ["train_imitation", "bc", "with", "fast", "demonstrations.source=local",
             "demonstrations.path=missing.npz"],
            "missing.npz does not exist",
        ),
        (
            ["eval_policy", "with", "fast", "expert.policy_type=no-such-type"],
            "no-such-type",
        ),
        (
            ["eval_policy", "with", "fast", "environment.gym_id=Pendulum-v1",
             "expert.policy_type=bundled",
             "expert.loader_kwargs.env_name=seals/CartPole-v0"],
            "space",
        ),
    ],
)  # fmt: skip
def test_bad_input_is_one_line(tmp_path, args, message):
    result = run(tmp_path, *args, ok=False)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and message in errors[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_failed_run_is_marked(tmp_path):
    run(
        tmp_path,
        "train_imitation",
        "bc",
        "with",
        "fast",
        "demonstrations.source=local",
        "demonstrations.path=missing.npz",
        ok=False,
    )
    (run_dir,) = (tmp_path / "output" / "sacred" / "train_imitation").glob("[0-9]*")
    assert json.loads((run_dir / "run.json").read_text())["status"] == "FAILED"


def test_train_preference_comparisons(tmp_path):
    run(
        tmp_path,
        "train_preference_comparisons",
        "with",
        "seals_cartpole",
        "environment.fast",
        "rl.fast",
        "policy_evaluation.fast",
        "fast",
        "save_preferences=True",
    )
    (run_dir,) = (
        tmp_path / "output" / "train_preference_comparisons" / "seals-CartPole-v0"
    ).iterdir()
    final = run_dir / "checkpoints" / "final"
    assert (final / "policy" / "model.zip").is_file()
    assert (run_dir / "preferences").exists()
    result = sacred_run(run_dir)["result"]
    assert 0.0 <= result["reward_accuracy"] <= 1.0 and "rollout" in result

    from imitation.rewards import serialize

    serialize.load_reward_net(final / "reward_net.pt")


def test_eval_policy_videos_and_exploration(tmp_path):
    run(
        tmp_path,
        "eval_policy",
        "with",
        "seals_cartpole",
        "environment.fast",
        "explore_eps_greedy",
        "expert.policy_type=bundled",
        "videos=True",
        "eval_n_timesteps=40",
        "logging.log_dir=out",
    )
    assert list((tmp_path / "out" / "videos").glob("*.mp4"))


def test_wandb_format_needs_wandb(tmp_path):
    try:
        import wandb  # noqa: F401

        pytest.skip("wandb is installed")
    except ImportError:
        pass
    result = run(
        tmp_path, "train_rl", "with", "fast", "logging.wandb_logging", ok=False
    )
    (line,) = [x for x in result.stderr.splitlines() if "error:" in x]
    assert "pip install wandb" in line


def test_print_named_configs_lists_tuned_configs(tmp_path):
    result = run(tmp_path, "train_adversarial", "print_named_configs")
    for name in ("airl_seals_hopper", "gail_seals_ant", "seals_cartpole", "fast"):
        assert name in result.stdout


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_keeps_checkpoints_and_marks_interrupted(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-X",
            "faulthandler",  # SIGABRT dumps every thread's stack (see below)
            "-m",
            "imitation.scripts.train_rl",
            "with",
            "seals_cartpole",
            "environment.fast",
            "rl.fast",
            "total_timesteps=10000000",
            "policy_save_interval=64",
            "logging.log_dir=run",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as from a terminal: an ignored SIGINT is inherited across
        # exec, and Python then never raises KeyboardInterrupt. Twice in the
        # full suite the run trained on for 60 s after SIGINT (faulthandler's
        # stacks: inside PPO.train), never when run alone.
        preexec_fn=_default_sigint,
    )
    policies = tmp_path / "run" / "policies"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (
            policies.is_dir() and len(list(policies.glob("0*/model.zip"))) >= 2
        ):
            time.sleep(0.2)
        saved = len(list(policies.glob("0*/model.zip"))) if policies.is_dir() else 0
        proc.send_signal(signal.SIGINT)
        try:
            _, stderr = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            # Say where the process was, not only that it did not stop.
            proc.send_signal(signal.SIGABRT)
            _, stderr = proc.communicate(timeout=60)
            pytest.fail(
                f"no exit 60 s after SIGINT (sent with {saved} checkpoints "
                f"saved); stacks:\n{stderr[-6000:]}"
            )
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2, stderr[-2000:]
    assert "interrupted" in stderr
    assert len(list(policies.glob("0*/model.zip"))) >= 2
    assert sacred_run(tmp_path / "run")["status"] == "INTERRUPTED"


def test_train_rl_on_a_learned_reward_with_checkpoints(quickstart):
    """GAIL with checkpoints, then train_rl on GAIL's learned reward."""
    run(
        quickstart,
        "train_adversarial",
        "gail",
        "with",
        "pendulum",
        *FAST,
        "total_timesteps=64",
        "checkpoint_interval=1",
        "demonstrations.path=quickstart/rl/rollouts/final.npz",
        "demonstrations.source=local",
        "logging.log_dir=gail_checkpoints",
    )
    checkpoints = sorted(
        p.name for p in (quickstart / "gail_checkpoints" / "checkpoints").iterdir()
    )
    assert checkpoints[-1] == "final" and len(checkpoints) >= 3  # rounds 0, 1, ...
    run(
        quickstart,
        "train_rl",
        *TRAIN_RL_FAST,
        "reward_type=RewardNet_unshaped",
        "reward_path=gail_checkpoints/checkpoints/final/reward_test.pt",
        "logging.log_dir=rl_on_learned_reward",
    )
    assert sacred_run(quickstart / "rl_on_learned_reward")["status"] == "COMPLETED"


def test_dict_observation_env_through_the_cli(tmp_path):
    """GAIL from dict-form demonstrations, train_rl and eval_policy on a Dict env."""
    import numpy as np

    from imitation.data import rollout, serialize
    from imitation.policies.serialize import load_policy
    from imitation.testing import dict_obs
    from imitation.util.util import make_vec_env

    flat = make_vec_env(
        "seals:seals/CartPole-v0",
        rng=np.random.default_rng(0),
        n_envs=2,
        max_episode_steps=20,  # as environment.fast
    )
    expert = load_policy("bundled", flat, env_name="seals/CartPole-v0")
    trajs = rollout.rollout(
        expert,
        flat,
        rollout.make_min_episodes(2),
        rng=np.random.default_rng(0),
        unwrap=False,
    )
    serialize.save(tmp_path / "demos", dict_obs.dict_trajectories_from_flat(trajs))
    env_id = "environment.gym_id=imitation.testing.envs:imitation/DictCartPole-v0"
    run(
        tmp_path,
        "train_adversarial",
        "gail",
        "with",
        env_id,
        *FAST,
        "demonstrations.source=local",
        "demonstrations.path=demos",
        "logging.log_dir=gail",
    )
    assert sacred_run(tmp_path / "gail")["status"] == "COMPLETED"
    rl_fast = [x for x in FAST if not x.startswith("demonstrations")]
    run(tmp_path, "train_rl", "with", env_id, *rl_fast, "logging.log_dir=rl")
    run(
        tmp_path,
        "eval_policy",
        "with",
        env_id,
        "environment.fast",
        "expert.policy_type=ppo",
        "expert.loader_kwargs.path=rl/policies/final/model.zip",
        "eval_n_timesteps=40",
        "logging.log_dir=eval",
    )
    assert sacred_run(tmp_path / "eval")["result"]["n_traj"] >= 2


def test_train_rl_resumes_a_saved_agent(quickstart):
    """``agent_path``: continue training the quickstart's saved agent."""
    run(
        quickstart,
        "train_rl",
        *TRAIN_RL_FAST,
        "agent_path=quickstart/rl/policies/final/model.zip",
        "logging.log_dir=resumed",
    )
    info = sacred_run(quickstart / "resumed")
    assert info["status"] == "COMPLETED"
    assert (quickstart / "resumed" / "policies" / "final" / "model.zip").is_file()
