"""Record videos of an environment's episodes."""

from __future__ import annotations

import pathlib
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from imitation.util import atomic, util
from imitation.util.paths import AnyPath


class _VideoFile(atomic.PendingFile):
    """An MP4 file being written, appearing at its path only once complete."""

    def __init__(self, path: pathlib.Path, fps: float) -> None:
        import imageio.v2 as imageio

        super().__init__(path)
        try:
            # Dimensions only need to be even (a yuv420p requirement), rather
            # than multiples of 16, so common frame sizes are not rescaled.
            self._writer = imageio.get_writer(
                self.tmp, format="FFMPEG", fps=fps, macro_block_size=2
            )
        except BaseException:
            self.tmp.unlink()
            raise

    def append(self, frame: np.ndarray) -> None:
        self._writer.append_data(frame)  # type: ignore[attr-defined]

    def _close(self, complete: bool) -> None:
        self._writer.close()


class VideoWrapper(gym.Wrapper):
    """Save the rendered frames of an environment's episodes as MP4 files.

    The wrapped env must be made with ``render_mode="rgb_array"``; the wrapper
    renders a frame after every ``reset`` and ``step``. Videos are written
    with ``imageio`` and its ``imageio-ffmpeg`` backend (``pip install imageio
    imageio-ffmpeg``) at the env's ``metadata["render_fps"]`` (30 if unset).
    A video file appears only once complete: frames stream to a hidden
    temporary file in ``directory`` that is then renamed onto the final name.

    With ``single_video=True`` everything is recorded into one video,
    ``video.000000.mp4``, completed when the wrapper is closed. Otherwise each
    episode gets its own ``video.<episode>.mp4`` (episodes numbered from 0),
    completed when the episode terminates or is truncated, or when ``reset``
    or ``close`` is called.
    """

    def __init__(
        self,
        env: gym.Env,
        directory: AnyPath,
        single_video: bool = True,
        delete_on_close: bool = True,
    ) -> None:
        """Wrap ``env``.

        Args:
            env: The environment to record, made with ``render_mode="rgb_array"``.
            directory: Where the videos are written (created if needed).
            single_video: Record one video of everything rather than one per
                episode.
            delete_on_close: On ``close``, delete the videos this wrapper wrote
                (and ``directory``, if the wrapper created it and it is then
                empty). Set to False to keep them.

        Raises:
            ValueError: If ``env`` does not render RGB arrays.
        """
        if env.render_mode != "rgb_array":
            raise ValueError(
                "VideoWrapper needs an env made with render_mode='rgb_array' "
                f"(e.g. gym.make(env_id, render_mode='rgb_array')), got "
                f"render_mode={env.render_mode!r}.",
            )
        super().__init__(env)
        self.directory = util.parse_path(directory)
        self._created_directory = not self.directory.exists()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.single_video = single_video
        self.delete_on_close = delete_on_close
        self.video_paths: list[pathlib.Path] = []
        """Videos completed so far, in order."""
        self._video_index = 0
        self._video: _VideoFile | None = None

    def _capture_frame(self) -> None:
        frame = self.env.render()
        if frame is None:
            return
        if self._video is None:
            fps = self.env.metadata.get("render_fps") or 30
            path = self.directory / f"video.{self._video_index:06d}.mp4"
            self._video = _VideoFile(path, fps)
        try:
            self._video.append(np.asarray(frame))
        except BaseException:
            self._video.abort()
            self._video = None
            raise

    def _finish_video(self) -> None:
        if self._video is None:
            return
        video, self._video = self._video, None
        video.commit()
        self.video_paths.append(video.path)
        self._video_index += 1

    def reset(
        self,
        *,
        seed: int | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the env and record the first frame.

        In per-episode mode, this completes the previous episode's video if it
        is still open, and starts a new one.

        Args:
            seed: Passed to the env's ``reset``.
            options: Passed to the env's ``reset``.

        Returns:
            The env's observation and info.
        """
        if not self.single_video:
            self._finish_video()
        obs, info = self.env.reset(seed=seed, options=options)
        self._capture_frame()
        return obs, info

    def step(
        self, action: Any
    ) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the env and record the frame.

        In per-episode mode, the video is completed when the episode ends.

        Args:
            action: Passed to the env's ``step``.

        Returns:
            The env's observation, reward, terminated, truncated and info.
        """
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._capture_frame()
        if not self.single_video and (terminated or truncated):
            self._finish_video()
        return obs, reward, terminated, truncated, info

    def close(self) -> None:
        """Complete the open video, close the env, and delete videos if asked."""
        try:
            self._finish_video()
        finally:
            super().close()
        if self.delete_on_close:
            for path in self.video_paths:
                path.unlink(missing_ok=True)
            self.video_paths = []
            if (
                self._created_directory
                and self.directory.is_dir()
                and not any(self.directory.iterdir())
            ):
                self.directory.rmdir()
