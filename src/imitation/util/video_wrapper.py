"""Record videos of an environment's episodes."""

from __future__ import annotations

import os
import pathlib
import shutil
from typing import Any

import gymnasium as gym
import numpy as np

from imitation.data import types
from imitation.util import util


class VideoWrapper(gym.Wrapper):
    """Save the rendered frames of episodes as MP4 files in ``directory``.

    The env must render ``rgb_array`` frames (``render_mode="rgb_array"``).
    Frames are written with ``imageio`` (``pip install imageio imageio-ffmpeg``).
    """

    def __init__(
        self,
        env: gym.Env,
        directory: types.AnyPath,
        single_video: bool = True,
        delete_on_close: bool = True,
    ) -> None:
        """Wrap ``env``.

        Args:
            env: The environment to record.
            directory: Where videos are written (created if needed).
            single_video: One video of everything (``video.000000.mp4``) rather
                than one file per episode (``video.<episode>.mp4``).
            delete_on_close: Delete ``directory`` when the wrapper is closed.

        Raises:
            ValueError: If the env does not render RGB frames.
        """
        super().__init__(env)
        if env.render_mode != "rgb_array":
            raise ValueError(
                "VideoWrapper needs an env made with render_mode='rgb_array', got "
                f"render_mode={env.render_mode!r}.",
            )
        self.directory = util.parse_path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.single_video = single_video
        self.delete_on_close = delete_on_close
        self.episode_id = 0
        self._frames: list[np.ndarray] = []

    @property
    def video_path(self) -> pathlib.Path:
        """The file the current frames are saved to."""
        index = 0 if self.single_video else self.episode_id
        return self.directory / f"video.{index:06d}.mp4"

    def _write(self) -> None:
        if not self._frames:
            return
        import imageio.v2 as imageio

        # The temporary file keeps the .mp4 name, which tells imageio the format.
        with (
            util.atomic_write_path(self.video_path) as tmp,
            imageio.get_writer(str(tmp), format="FFMPEG", fps=self._fps()) as writer,
        ):
            for frame in self._frames:
                writer.append_data(frame)  # type: ignore[attr-defined]

    def _fps(self) -> int:
        return int(self.env.metadata.get("render_fps", 30))

    def _capture(self) -> None:
        frame = self.env.render()
        if frame is not None:
            self._frames.append(np.asarray(frame, dtype=np.uint8))

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Reset the env; in per-episode mode, start a new video."""
        if not self.single_video and self._frames:
            self._write()
            self._frames = []
            self.episode_id += 1
        obs, info = self.env.reset(**kwargs)
        self._capture()
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Step the env and record the frame."""
        result = self.env.step(action)
        self._capture()
        return result

    def close(self) -> None:
        """Write the pending video, close the env, and delete files if asked."""
        self._write()
        self._frames = []
        super().close()
        if self.delete_on_close and os.path.isdir(self.directory):
            shutil.rmtree(self.directory)
