"""Tests for imitation.policies.interactive."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from imitation.data import rollout
from imitation.policies import interactive

OBS_SPACE = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
CARTPOLE_KEYS = {"a": ("left", 0), "d": ("right", 1)}


class ScriptedInput:
    """Stands in for ``input``: records prompts, answers from a script."""

    def __init__(self, answers):
        self.answers = iter(answers)
        self.prompts = []

    def __call__(self, prompt):
        self.prompts.append(prompt)
        return next(self.answers)


def _policy(answers, keys=CARTPOLE_KEYS, **kwargs):
    input_fn = ScriptedInput(answers)
    policy = interactive.DiscreteInteractivePolicy(
        OBS_SPACE, spaces.Discrete(len(keys)), keys, input_fn=input_fn, **kwargs
    )
    return policy, input_fn


def test_reads_keys_and_reasks_on_invalid(capsys):
    policy, input_fn = _policy(["x", " d ", "a"], clear_screen_on_query=False)
    obs = np.array([[0.25, -0.5]], dtype=np.float32)
    assert policy.predict(obs)[0].tolist() == [1]  # "x" rejected, then "d".
    assert policy.predict(obs)[0].tolist() == [0]
    assert len(input_fn.prompts) == 3
    assert "[a] left" in input_fn.prompts[0] and "[d] right" in input_fn.prompts[0]
    out = capsys.readouterr().out
    assert "Unknown key 'x'" in out
    assert "0.25" in out  # The observation is shown.
    assert "\033[2J" not in out


def test_clears_screen_by_default(capsys):
    policy, _ = _policy(["a"])
    policy.predict(np.zeros((1, 2), dtype=np.float32))
    assert capsys.readouterr().out.startswith("\033[2J")


def test_unbatched_observation():
    policy, _ = _policy(["d"], clear_screen_on_query=False)
    acts, _ = policy.predict(np.zeros(2, dtype=np.float32))
    assert acts.shape == () and int(acts) == 1


def test_batch_of_several_raises():
    policy, input_fn = _policy(["a"], clear_screen_on_query=False)
    with pytest.raises(ValueError, match="n_envs=1"):
        policy.predict(np.zeros((2, 2), dtype=np.float32))
    assert input_fn.prompts == []


def test_subset_of_actions_and_shared_keys():
    keys = {"j": ("jump", 4), "space": ("jump", 4), "n": ("noop", 1)}
    policy = interactive.DiscreteInteractivePolicy(
        OBS_SPACE,
        spaces.Discrete(5, start=1),
        keys,
        clear_screen_on_query=False,
        input_fn=ScriptedInput(["space", "n", "j"]),
    )
    obs = np.zeros((1, 2), dtype=np.float32)
    assert [int(policy.predict(obs)[0][0]) for _ in range(3)] == [4, 1, 4]


@pytest.mark.parametrize(
    ("action_space", "keys", "match"),
    [
        (OBS_SPACE, CARTPOLE_KEYS, "Discrete"),
        (spaces.Discrete(2), {}, "at least one key"),
        (spaces.Discrete(2), {"": ("left", 0)}, "non-empty"),
        (spaces.Discrete(2), {" a": ("left", 0)}, "whitespace"),
        (spaces.Discrete(2), {"a": "left", "d": "right"}, "action name, action"),
        (spaces.Discrete(2), {"a": ("left", 2)}, "not in Discrete"),
        (spaces.Discrete(2, start=1), {"a": ("left", 0)}, "not in Discrete"),
    ],
)
def test_validation(action_space, keys, match):
    with pytest.raises(ValueError, match=match):
        interactive.DiscreteInteractivePolicy(OBS_SPACE, action_space, keys)


def test_dict_observation_rendered_without_batch_axis():
    rendered = []

    class Recording(interactive.DiscreteInteractivePolicy):
        def _render(self, obs):
            rendered.append(obs)

    space = spaces.Dict({"pos": OBS_SPACE, "vel": OBS_SPACE})
    policy = Recording(
        space,
        spaces.Discrete(2),
        CARTPOLE_KEYS,
        clear_screen_on_query=False,
        input_fn=lambda _: "a",
    )
    obs = {"pos": np.ones((1, 2), np.float32), "vel": np.zeros((1, 2), np.float32)}
    assert policy.predict(obs)[0].tolist() == [0]
    assert rendered[0]["pos"].shape == (2,) and rendered[0]["vel"].shape == (2,)


def test_generates_trajectories(make_counting_venv):
    venv = make_counting_venv([3])
    keys = {"0": ("zero", 0), "1": ("one", 1), "2": ("two", 2)}
    policy = interactive.DiscreteInteractivePolicy(
        venv.observation_space,
        venv.action_space,
        keys,
        clear_screen_on_query=False,
        input_fn=ScriptedInput(["2", "oops", "0", "1"]),
    )
    rng = np.random.default_rng(0)
    (traj,) = rollout.generate_trajectories(
        policy, venv, rollout.make_min_episodes(1), rng=rng
    )
    np.testing.assert_array_equal(traj.acts, [2, 0, 1])
    venv.close()


@pytest.mark.parametrize(
    ("shape", "shown_shape"),
    [((6, 8, 3), (6, 8, 3)), ((3, 6, 8), (6, 8, 3)), ((6, 8, 1), (6, 8))],
)
def test_image_policy_shows_channels_last(shape, shown_shape):
    shown = []
    space = spaces.Box(0, 255, shape=shape, dtype=np.uint8)
    policy = interactive.ImageObsDiscreteInteractivePolicy(
        space,
        spaces.Discrete(2),
        CARTPOLE_KEYS,
        clear_screen_on_query=False,
        input_fn=ScriptedInput(["?", "d"]),
        show_fn=shown.append,
    )
    obs = np.arange(np.prod(shape), dtype=np.uint8).reshape((1, *shape))
    assert policy.predict(obs)[0].tolist() == [1]
    assert len(shown) == 1 and shown[0].shape == shown_shape
    # Same pixels, only the axes moved.
    assert shown[0].sum(dtype=np.int64) == obs.sum(dtype=np.int64)
    if shape == (3, 6, 8):
        np.testing.assert_array_equal(shown[0][..., 1], obs[0, 1])


@pytest.mark.parametrize(
    "space",
    [
        OBS_SPACE,
        spaces.Box(0, 255, shape=(6, 8, 5), dtype=np.uint8),
        spaces.Discrete(4),
    ],
)
def test_image_policy_rejects_non_images(space):
    with pytest.raises(ValueError, match="image"):
        interactive.ImageObsDiscreteInteractivePolicy(
            space, spaces.Discrete(2), CARTPOLE_KEYS
        )


def test_show_with_matplotlib_headless():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    interactive.show_with_matplotlib(np.zeros((4, 5, 3), dtype=np.uint8))
    image = plt.figure("observation").axes[0].images[0]
    assert image.get_array().shape == (4, 5, 3)
    plt.close("all")


def test_interactive_policies_are_non_trainable():
    from imitation.policies import base

    policy, _ = _policy(["a"])
    assert isinstance(policy, base.NonTrainablePolicy)


class _FakeAtari(gym.Env):
    """Stands in for an ALE environment: image observations, named actions."""

    observation_space = spaces.Box(0, 255, shape=(6, 8, 3), dtype=np.uint8)

    def __init__(self, names=("NOOP", "FIRE", "UP", "RIGHT", "LEFT", "DOWNFIRE")):
        self.names = list(names)
        self.action_space = spaces.Discrete(len(self.names))

    def get_action_meanings(self):
        return self.names

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action):
        return self.observation_space.sample(), 0.0, False, False, {}


def test_atari_action_keys_cover_the_ale_actions():
    assert len(interactive.ATARI_ACTION_KEYS) == 18
    assert len(set(interactive.ATARI_ACTION_KEYS.values())) == 18  # No shared key.
    assert interactive.ATARI_ACTION_KEYS["UPFIRE"] == "fw"


@pytest.mark.parametrize("vectorised", [False, True])
def test_atari_policy_keys_from_action_names(vectorised):
    env = _FakeAtari()
    if vectorised:
        from stable_baselines3.common.vec_env import DummyVecEnv

        env = DummyVecEnv([_FakeAtari])
    shown = []
    policy = interactive.AtariInteractivePolicy(
        env,
        clear_screen_on_query=False,
        input_fn=ScriptedInput(["fx", "d", "s"]),
        show_fn=shown.append,
    )
    assert policy.action_keys_names == {
        "s": ("NOOP", 0),
        "f": ("FIRE", 1),
        "w": ("UP", 2),
        "d": ("RIGHT", 3),
        "a": ("LEFT", 4),
        "fx": ("DOWNFIRE", 5),
    }
    obs = np.zeros((1, 6, 8, 3), dtype=np.uint8)
    assert [int(policy.predict(obs)[0][0]) for _ in range(3)] == [5, 3, 0]
    assert len(shown) == 3 and shown[0].shape == (6, 8, 3)


def test_atari_policy_rejects_other_envs():
    with pytest.raises(ValueError, match="not an Atari environment"):
        interactive.AtariInteractivePolicy(gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="No key for the Atari action 'JUMP'"):
        interactive.AtariInteractivePolicy(_FakeAtari(["NOOP", "JUMP"]))


def _pong_venv(episode_steps):
    import ale_py
    from gymnasium.wrappers import TimeLimit
    from stable_baselines3.common.vec_env import DummyVecEnv

    from imitation.data.wrappers import RolloutInfoWrapper

    gym.register_envs(ale_py)
    venv = DummyVecEnv(
        [
            lambda: RolloutInfoWrapper(
                TimeLimit(gym.make("ALE/Pong-v5"), max_episode_steps=episode_steps)
            )
        ]
    )
    venv.seed(0)
    return venv


@pytest.mark.parametrize("channels_first", [False, True])
def test_atari_policy_plays_pong_with_injected_key_presses(channels_first, capsys):
    """A real ALE game, played by scripted key presses (one unknown)."""
    from stable_baselines3.common.vec_env import VecTransposeImage

    venv = _pong_venv(episode_steps=3)
    if channels_first:
        venv = VecTransposeImage(venv)
    shown = []
    keys = ScriptedInput(["d", "zz", "fa", "s"])
    policy = interactive.AtariInteractivePolicy(
        venv, clear_screen_on_query=False, input_fn=keys, show_fn=shown.append
    )
    # Pong's actions: NOOP FIRE RIGHT LEFT RIGHTFIRE LEFTFIRE.
    assert policy.action_keys_names["fd"] == ("RIGHTFIRE", 4)
    (traj,) = rollout.generate_trajectories(
        policy, venv, rollout.make_min_episodes(1), rng=np.random.default_rng(0)
    )
    venv.close()
    np.testing.assert_array_equal(traj.acts, [2, 5, 0])  # RIGHT, LEFTFIRE, NOOP
    assert "Unknown key 'zz'" in capsys.readouterr().out
    assert len(keys.prompts) == 4 and "[fa] LEFTFIRE" in keys.prompts[0]
    # The player saw each frame the action was chosen on, channels last.
    assert [frame.shape for frame in shown] == [(210, 160, 3)] * 3
    frames = np.moveaxis(traj.obs, 1, -1) if channels_first else traj.obs
    for frame, obs in zip(shown, frames):
        np.testing.assert_array_equal(frame, obs)


@pytest.mark.parametrize("channels_first", [False, True])
def test_atari_policy_shows_newest_of_stacked_grey_frames(channels_first):
    """Four channels: the tutorial's four stacked 84x84 grey frames."""

    class _Stacked(_FakeAtari):
        observation_space = spaces.Box(
            0,
            255,
            shape=(4, 84, 84) if channels_first else (84, 84, 4),
            dtype=np.uint8,
        )

    shown = []
    policy = interactive.AtariInteractivePolicy(
        _Stacked(),
        clear_screen_on_query=False,
        input_fn=ScriptedInput(["f"]),
        show_fn=shown.append,
    )
    stack = np.stack([np.full((84, 84), i, np.uint8) for i in range(4)])
    obs = stack if channels_first else np.moveaxis(stack, 0, -1)
    assert policy.predict(obs[None])[0].tolist() == [1]
    assert shown[0].shape == (84, 84) and (shown[0] == 3).all()  # The newest.
