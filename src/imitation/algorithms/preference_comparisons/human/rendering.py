"""Turning fragments into short videos a person can watch.

Fragments (:class:`~imitation.data.types.TrajectoryWithRew`) carry
observations, not pictures, so a *renderer* turns each observation into an
RGB frame: any callable ``obs -> uint8 array (height, width, 3)``.
:class:`StateRenderer` is the built-in one, for environments whose
observation determines their whole physical state: it writes the state back
into an ``rgb_array`` environment and renders it. Other environments need a
renderer of your own (for instance one that looks frames up in a table you
filled while rolling out).

:func:`write_clips` encodes the frames as H.264 MP4 clips with the ffmpeg
that ``imageio-ffmpeg`` ships, or as animated GIFs (with Pillow) where that is
not installed.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import io
import pathlib
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from imitation.data import types
from imitation.util import atomic

Renderer = Callable[[np.ndarray], np.ndarray]
"""Maps one observation to an RGB frame, ``uint8`` of shape ``(H, W, 3)``."""


def _cartpole_state(obs: np.ndarray) -> np.ndarray:
    # The observation is the state: position, velocity, angle, angular velocity.
    state = np.array(obs, dtype=np.float64)
    # Off screen beyond |x| > 2.4 either way; far beyond, pygame's pixel
    # coordinates overflow (seals' CartPole never terminates, so carts roam).
    state[0] = np.clip(state[0], -10.0, 10.0)
    return state


def _pendulum_state(obs: np.ndarray) -> np.ndarray:
    # The observation is (cos theta, sin theta, angular velocity).
    return np.array([np.arctan2(obs[1], obs[0]), obs[2]], dtype=np.float64)


def _mountain_car_state(obs: np.ndarray) -> np.ndarray:
    # The observation is the state: position, velocity.
    return np.asarray(obs, dtype=np.float64)


_STATE_FROM_OBS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "CartPoleEnv": _cartpole_state,
    "PendulumEnv": _pendulum_state,
    "MountainCarEnv": _mountain_car_state,
    "Continuous_MountainCarEnv": _mountain_car_state,
}
"""Environment classes (by name, subclasses included) with a built-in renderer."""


def rgb_array_env(env: str | gym.Env, why: str) -> gym.Env:
    """An environment rendering ``rgb_array`` frames: made from an id, or checked.

    Args:
        env: A Gymnasium id (made with ``render_mode="rgb_array"``), or an
            environment.
        why: What the frames are for, ending the error message.

    Returns:
        The environment.

    Raises:
        ValueError: If the given environment renders in another mode.
    """
    if isinstance(env, str):
        env = gym.make(env, render_mode="rgb_array")
    if env.render_mode != "rgb_array":
        raise ValueError(
            f"The environment renders in mode {env.render_mode!r}; make it with "
            f'render_mode="rgb_array" {why}.'
        )
    return env


class StateRenderer:
    """Renders an observation by writing it into an environment's ``state``.

    Built in for Gymnasium's CartPole (and seals' fixed-horizon CartPole),
    Pendulum and MountainCar (discrete and continuous), whose ``unwrapped.state``
    the observation determines. For another environment whose state can be
    set from the observation, pass ``state_from_obs``.
    """

    def __init__(
        self,
        env: str | gym.Env,
        state_from_obs: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        """Make the renderer.

        Args:
            env: A Gymnasium id (made with ``render_mode="rgb_array"``), or an
                environment made with that render mode. It is reset once and
                then only rendered, never stepped.
            state_from_obs: Maps an observation to the value assigned to
                ``env.unwrapped.state``; default: the built-in mapping for
                the environment's class.

        Raises:
            ValueError: If the environment does not render ``rgb_array``
                frames, or has no built-in mapping and none is given.
        """
        env = rgb_array_env(env, "so frames can be recorded")
        if state_from_obs is None:
            for cls in type(env.unwrapped).__mro__:
                if cls.__name__ in _STATE_FROM_OBS:
                    state_from_obs = _STATE_FROM_OBS[cls.__name__]
                    break
            else:
                raise ValueError(
                    f"No built-in renderer for {type(env.unwrapped).__name__} "
                    f"(built in: {sorted(_STATE_FROM_OBS)}). Pass state_from_obs "
                    "if its observation determines its state, or give the gatherer "
                    "your own renderer: a callable obs -> RGB frame."
                )
        self.env = env
        self.state_from_obs = state_from_obs
        self.env.reset(seed=0)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """The frame showing the state that ``obs`` was observed in."""
        unwrapped = self.env.unwrapped
        unwrapped.state = self.state_from_obs(np.asarray(obs))  # type: ignore[attr-defined]
        if hasattr(unwrapped, "last_u"):
            unwrapped.last_u = None  # Pendulum: draw no torque arrow.
        frame = self.env.render()
        assert isinstance(frame, np.ndarray)
        return frame

    def close(self) -> None:
        """Close the environment."""
        self.env.close()


class BackgroundRenderer:
    """A renderer and the one background thread that renders with it.

    Closing it stops the thread (dropping renders not started) and closes the
    renderer if it is a :class:`StateRenderer`.
    """

    def __init__(self, renderer: Renderer | str, thread_name: str) -> None:
        """Make the renderer (a :class:`StateRenderer` for a Gymnasium id).

        Args:
            renderer: Observation -> RGB frame, or a Gymnasium id.
            thread_name: Prefix of the thread's name.
        """
        self.renderer: Renderer = (
            StateRenderer(renderer) if isinstance(renderer, str) else renderer
        )
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=thread_name
        )

    def submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
        """Run ``fn(*args)`` on the thread, after the renders queued before it."""
        return self._executor.submit(fn, *args)

    def close(self) -> None:
        """Wait for the render under way, drop the others, close the renderer."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        if isinstance(self.renderer, StateRenderer):
            self.renderer.close()


class ImageRenderer:
    """Shows image observations as they are, enlarged for a person to see.

    For environments observed through pictures (pixel wrappers, Atari, ...)
    the observation is itself the frame. Accepted layouts, ``uint8``: grey
    ``(H, W)``; channels last ``(H, W, C)`` or first ``(C, H, W)`` (the
    smallest axis is taken as the channels, as Stable-Baselines3 does).
    Three channels are RGB; any other number is a stack of grey frames (e.g.
    Atari's four), of which the last, the newest, is shown. The picture is
    enlarged by the smallest whole factor that makes its shorter side at
    least ``min_size`` pixels, each pixel a block (no blurring).
    """

    def __init__(self, key: str | None = None, min_size: int = 300) -> None:
        """Make the renderer.

        Args:
            key: For dict observations: the key holding the image.
            min_size: Shorter side of the shown picture, at least, in pixels.

        Raises:
            ValueError: If ``min_size`` is not positive.
        """
        if min_size <= 0:
            raise ValueError(f"min_size={min_size} must be positive.")
        self.key = key
        self.min_size = min_size

    def __call__(self, obs: Any) -> np.ndarray:
        """The observation's image as an enlarged RGB frame.

        Raises:
            TypeError: If the image (under ``key`` for a dict observation)
                is not a ``uint8`` array of one of the accepted layouts.
        """
        if self.key is not None:
            obs = obs[self.key]
        image = np.asarray(obs)
        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise TypeError(
                "ImageRenderer shows uint8 images (H, W), (H, W, C) or (C, H, W); "
                f"got {image.dtype} of shape {image.shape}. Pass a renderer of your "
                "own for other observations."
            )
        if image.ndim == 3 and int(np.argmin(image.shape)) == 0:
            image = np.moveaxis(image, 0, -1)
        if image.ndim == 2:
            image = image[..., None]
        if image.shape[-1] != 3:
            image = np.repeat(image[..., -1:], 3, axis=-1)
        factor = max(1, -(-self.min_size // min(image.shape[:2])))
        return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def check_frame(frame: object) -> np.ndarray:
    """A renderer's frame, checked and cropped to even dimensions.

    Raises:
        TypeError: If ``frame`` is not a ``uint8`` RGB array ``(H, W, 3)``.
    """
    if not (
        isinstance(frame, np.ndarray)
        and frame.dtype == np.uint8
        and frame.ndim == 3
        and frame.shape[2] == 3
    ):
        raise TypeError(
            "The renderer must return uint8 RGB frames of shape (H, W, 3); got "
            f"{type(frame).__name__} {getattr(frame, 'dtype', '')} "
            f"{getattr(frame, 'shape', '')}."
        )
    # yuv420p needs even dimensions: drop an odd last row or column.
    height, width = frame.shape[:2]
    return np.ascontiguousarray(frame[: height - height % 2, : width - width % 2])


def _observations(fragment: types.TrajectoryWithRew) -> np.ndarray:
    if isinstance(fragment.obs, types.DictObs):
        raise TypeError(
            "Fragments with dict observations cannot be rendered by an obs -> frame "
            "renderer; flatten the observations first."
        )
    return fragment.obs


def render_fragment(
    fragment: types.TrajectoryWithRew, renderer: Renderer
) -> list[np.ndarray]:
    """The frames of a fragment: one per observation, the last one included.

    Raises:
        TypeError: If the fragment has dict observations, or the renderer
            returns something other than ``uint8`` frames of shape
            ``(H, W, 3)``.
    """
    return [check_frame(renderer(obs)) for obs in _observations(fragment)]


def has_video_codec() -> bool:
    """Whether MP4 videos can be written (``imageio-ffmpeg`` is installed)."""
    return importlib.util.find_spec("imageio_ffmpeg") is not None


def video_suffix(use_video: bool) -> str:
    """The file suffix clips get: ``.mp4``, or ``.gif`` without a video codec."""
    return ".mp4" if use_video else ".gif"


class _ClipWriter(atomic.PendingFile):
    """A clip being written, appearing at its path only once complete.

    MP4 frames stream to an ffmpeg process as they come, so encoding runs in
    parallel with rendering; GIF frames are collected and written at the end.
    """

    def __init__(
        self, path: pathlib.Path, shape: tuple[int, ...], fps: float, use_video: bool
    ) -> None:
        super().__init__(path)
        self.shape = shape
        self.fps = fps
        self._frames: list[np.ndarray] | None = None
        self._encoder: Any = None
        if use_video:
            import imageio_ffmpeg

            height, width = shape[:2]
            self._encoder = imageio_ffmpeg.write_frames(
                str(self.tmp),
                (width, height),
                fps=fps,
                codec="libx264",
                quality=None,
                pix_fmt_out="yuv420p",
                macro_block_size=1,
                ffmpeg_log_level="error",
                # ultrafast: tens of milliseconds for 50 frames; faststart
                # puts the index first so the browser starts playing at once.
                output_params=["-preset", "ultrafast", "-movflags", "+faststart"],
            )
            self._encoder.send(None)
        else:
            self._frames = []

    def append(self, frame: np.ndarray) -> None:
        if frame.shape != self.shape:
            raise ValueError(
                f"The renderer returned frames of shapes {self.shape} and "
                f"{frame.shape}; all frames of a clip must have one shape."
            )
        if self._encoder is not None:
            self._encoder.send(frame)
        else:
            assert self._frames is not None
            self._frames.append(frame)

    def _close(self, complete: bool) -> None:
        if self._encoder is not None:
            self._encoder.close()
        elif complete:
            assert self._frames is not None
            _write_gif(self._frames, self.tmp, self.fps)


def write_clips(
    fragments: Sequence[types.TrajectoryWithRew],
    renderer: Renderer,
    paths: Sequence[pathlib.Path],
    fps: float,
    use_video: bool = True,
) -> None:
    """Render each fragment to a clip at the matching path.

    Frames are rendered in turn for all fragments and streamed to one ffmpeg
    process per clip, so encoding overlaps rendering. A clip appears at its
    path only once complete.

    Args:
        fragments: The fragments.
        renderer: Observation -> ``uint8`` RGB frame.
        paths: One destination per fragment, ending in :func:`video_suffix`.
        fps: Frames per second.
        use_video: Encode H.264 MP4 (needs ``imageio-ffmpeg``); else GIF.

    Raises:
        TypeError: If a fragment has dict observations or the renderer
            returns something other than ``uint8`` RGB frames.
        ValueError: If a renderer's frames change shape within a clip, or
            the numbers of fragments and paths differ.
    """
    if len(fragments) != len(paths):
        raise ValueError(f"{len(fragments)} fragments but {len(paths)} paths.")
    observations = [_observations(f) for f in fragments]
    firsts = [check_frame(renderer(obs[0])) for obs in observations]
    writers: list[_ClipWriter] = []
    try:
        for path, first in zip(paths, firsts):
            writers.append(_ClipWriter(path, first.shape, fps, use_video))
            writers[-1].append(first)
        for t in range(1, max(len(obs) for obs in observations)):
            for writer, obs in zip(writers, observations):
                if t < len(obs):
                    writer.append(check_frame(renderer(obs[t])))
        for writer in writers:
            writer.commit()
    except BaseException:
        for writer in writers:
            writer.abort()
        raise


def _write_gif(frames: Sequence[np.ndarray], path: pathlib.Path, fps: float) -> None:
    from PIL import Image

    images = [Image.fromarray(f) for f in frames]
    images[0].save(
        path,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=max(1, round(1000 / fps)),
        loop=0,
    )


def onion_skin(frames: Sequence[np.ndarray]) -> np.ndarray:
    """One picture of a short motion: the last frame over faded earlier ones.

    On a light picture (the last frame's mean brightness at least half), each
    earlier frame is lightened towards white, the more the older it is, and
    the frames are combined by their darkest pixel, so what moved leaves a
    fading trail behind the current picture. On a dark picture (e.g. Atari's)
    light and dark swap roles: earlier frames are darkened and the lightest
    pixel wins, so bright things leave the trail. Integer arithmetic
    throughout (a few milliseconds for 600x400 frames).
    """
    last = np.asarray(frames[-1], dtype=np.uint8)
    light = last.mean() >= 128

    def ink(frame: np.ndarray) -> np.ndarray:
        """How far each pixel is from the background's end of the scale."""
        frame = np.asarray(frame, dtype=np.uint8)
        return 255 - frame if light else frame.copy()

    strongest = ink(last)
    count = len(frames)
    for age, frame in enumerate(frames[:-1]):
        # Out of 256: the oldest frame keeps a quarter of its ink.
        strength = 64 + (90 * age) // max(1, count - 1)
        faded = (ink(frame).astype(np.uint16) * strength) >> 8
        np.maximum(strongest, faded.astype(np.uint8), out=strongest)
    return 255 - strongest if light else strongest


def encode_jpeg(frame: np.ndarray) -> bytes:
    """A ``uint8`` RGB frame as JPEG bytes (quality 90: fast, a few KB)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()
