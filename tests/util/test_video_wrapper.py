"""Tests for imitation.util.video_wrapper."""

from __future__ import annotations

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np
import pytest
from gymnasium import spaces

from imitation.util.video_wrapper import VideoWrapper


class _FrameEnv(gym.Env):
    """Episodes of ``episode_len`` steps; frame ``t`` is a grey image of level 20 t."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, episode_len: int = 4, render_mode: str | None = "rgb_array"):
        self.render_mode = render_mode
        self.episode_len = episode_len
        self.observation_space = spaces.Discrete(episode_len + 1)
        self.action_space = spaces.Discrete(2)
        self._t = 0
        self.closed = False

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._t = 0
        return 0, {}

    def step(self, action):
        self._t += 1
        return self._t, 0.0, self._t >= self.episode_len, False, {}

    def render(self):
        return np.full((24, 32, 3), 20 * self._t, dtype=np.uint8)

    def close(self):
        self.closed = True


def run_episodes(env: gym.Env, n: int) -> None:
    for _ in range(n):
        env.reset()
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            done = terminated or truncated


def read_levels(path) -> list[int]:
    """Grey level of each frame of a video (ffmpeg's compression is lossy)."""
    with imageio.get_reader(path) as reader:
        return [int(round(frame.mean())) for frame in reader]


def all_files(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def video_files(directory) -> list[str]:
    """Files visible under their final name (temporary files are hidden)."""
    return [name for name in all_files(directory) if not name.startswith(".")]


def test_one_video_per_episode(tmp_path):
    directory = tmp_path / "videos"
    env = VideoWrapper(
        _FrameEnv(episode_len=4), directory, single_video=False, delete_on_close=False
    )
    run_episodes(env, 1)
    # The first episode's video is complete as soon as the episode ends.
    assert video_files(directory) == ["video.000000.mp4"]
    run_episodes(env, 1)
    env.close()
    assert all_files(directory) == ["video.000000.mp4", "video.000001.mp4"]
    assert env.video_paths == [
        directory / "video.000000.mp4",
        directory / "video.000001.mp4",
    ]
    for path in env.video_paths:
        levels = read_levels(path)
        assert len(levels) == 5  # reset frame and one per step
        assert levels == pytest.approx([0, 20, 40, 60, 80], abs=3)
    with imageio.get_reader(env.video_paths[0]) as reader:
        assert reader.get_meta_data()["fps"] == 10
        assert reader.get_data(0).shape == (24, 32, 3)


def test_single_video_covers_all_episodes(tmp_path):
    env = VideoWrapper(_FrameEnv(episode_len=3), tmp_path, delete_on_close=False)
    run_episodes(env, 3)
    # Nothing is visible until the video is complete.
    assert video_files(tmp_path) == []
    env.close()
    assert all_files(tmp_path) == ["video.000000.mp4"]
    assert len(read_levels(tmp_path / "video.000000.mp4")) == 3 * 4


def test_reset_mid_episode_starts_a_new_video(tmp_path):
    env = VideoWrapper(
        _FrameEnv(episode_len=10), tmp_path, single_video=False, delete_on_close=False
    )
    env.reset()
    env.step(0)
    env.reset()
    env.step(0)
    env.step(0)
    env.close()
    assert [len(read_levels(p)) for p in env.video_paths] == [2, 3]


def test_delete_on_close_removes_only_its_videos(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("keep me")
    env = VideoWrapper(_FrameEnv(), tmp_path, single_video=False)
    run_episodes(env, 2)
    assert len(video_files(tmp_path)) == 3
    env.close()
    assert all_files(tmp_path) == ["notes.txt"]
    assert env.video_paths == []


def test_delete_on_close_removes_directory_it_created(tmp_path):
    directory = tmp_path / "new" / "videos"
    env = VideoWrapper(_FrameEnv(), directory)
    run_episodes(env, 1)
    env.close()
    assert not directory.exists()
    assert (tmp_path / "new").is_dir()
    env.close()  # closing twice is harmless


def test_close_closes_env_and_without_frames_writes_nothing(tmp_path):
    inner = _FrameEnv()
    env = VideoWrapper(inner, tmp_path, delete_on_close=False)
    env.close()
    assert inner.closed
    assert all_files(tmp_path) == []


def test_failed_frame_leaves_no_partial_file(tmp_path):
    inner = _FrameEnv()
    env = VideoWrapper(inner, tmp_path, delete_on_close=False)
    env.reset()
    inner.render = lambda: np.zeros((8, 8, 3), dtype=np.uint8)  # size changes
    with pytest.raises(ValueError, match="same size"):
        env.step(0)
    env.close()
    assert all_files(tmp_path) == []


@pytest.mark.parametrize("render_mode", [None, "human", "ansi"])
def test_rejects_env_without_rgb_array_rendering(tmp_path, render_mode):
    with pytest.raises(ValueError, match="render_mode='rgb_array'"):
        VideoWrapper(_FrameEnv(render_mode=render_mode), tmp_path / "v")
    assert not (tmp_path / "v").exists()


def test_rejects_gym_make_env_without_render_mode(tmp_path):
    env = gym.make("CartPole-v1")
    with pytest.raises(ValueError, match="render_mode=None"):
        VideoWrapper(env, tmp_path)
    env.close()
