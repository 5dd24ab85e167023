"""Collect trajectories from a policy in a vectorised environment."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv, VecTransposeImage

from imitation.data import types
from imitation.util import sb3_compat, util

PolicyCallable = Callable[[Any, Any, Any], tuple[np.ndarray, Any]]
"""``(observations, state, episode_start) -> (actions, state)``, batched over envs."""

AnyPolicy = BaseAlgorithm | BasePolicy | PolicyCallable | None
"""What the rollout functions accept as a policy (None: uniformly random)."""

GenTrajTerminationFn = Callable[[Sequence[types.TrajectoryWithRew]], bool]
"""Called with the trajectories so far; returns True when sampling may stop."""


def make_sample_until(
    min_timesteps: int | None = None,
    min_episodes: int | None = None,
) -> GenTrajTerminationFn:
    """A termination condition: stop once both minimums are reached.

    Args:
        min_timesteps: Minimum total number of transitions (None: no minimum).
        min_episodes: Minimum number of trajectories (None: no minimum).

    Returns:
        The condition, for ``generate_trajectories`` and ``rollout``.

    Raises:
        ValueError: If both are None, or either is not positive.
    """
    if min_timesteps is None and min_episodes is None:
        raise ValueError(
            "make_sample_until needs min_timesteps, min_episodes or both.",
        )
    for name, value in (
        ("min_timesteps", min_timesteps),
        ("min_episodes", min_episodes),
    ):
        if value is not None and value <= 0:
            raise ValueError(f"{name} must be positive, got {value}.")

    def sample_until(trajectories: Sequence[types.TrajectoryWithRew]) -> bool:
        if min_episodes is not None and len(trajectories) < min_episodes:
            return False
        if min_timesteps is not None:
            return sum(len(t) for t in trajectories) >= min_timesteps
        return True

    return sample_until


def make_min_episodes(n: int) -> GenTrajTerminationFn:
    """A termination condition: stop after at least ``n`` episodes."""
    return make_sample_until(min_episodes=n)


def make_min_timesteps(n: int) -> GenTrajTerminationFn:
    """A termination condition: stop after at least ``n`` transitions."""
    return make_sample_until(min_timesteps=n)


class TrajectoryAccumulator:
    """Assemble per-env trajectories from batched ``VecEnv`` steps.

    Each step is written into time-major arrays ``(rows, n_envs, ...)`` with one
    assignment per field (no per-env Python work); trajectories are cut out of
    those arrays when an episode ends. Rows no episode needs any more are
    dropped when the arrays fill up, which grow by doubling only when every
    row is still needed. Observations after a reset come from the ``VecEnv``;
    the true final observation of an episode comes from
    ``info["terminal_observation"]``.
    """

    def __init__(self, n_envs: int) -> None:
        """Make an accumulator for ``n_envs`` environments."""
        self.n_envs = n_envs
        self._obs: dict[str | None, np.ndarray] = {}
        # Per-step fields: row t holds the action taken at observation row t.
        self._steps: dict[str, np.ndarray] = {}
        self._t = 0  # index of the current observation row
        self._start = np.zeros(n_envs, dtype=np.int64)

    @staticmethod
    def _split(obs: types.Observation) -> dict[str | None, np.ndarray]:
        if isinstance(obs, types.DictObs):
            return dict(obs.items())
        return {None: obs}

    def reset(self, obs: types.Observation) -> None:
        """Start a new episode in every env, from the batch of observations ``obs``."""
        self._obs = {}
        for k, v in self._split(obs).items():
            self._obs[k] = np.empty((64, *v.shape), dtype=v.dtype)
            self._obs[k][0] = v
        self._steps = {}
        self._t = 0
        self._start[:] = 0

    def _make_room(self) -> None:
        """Ensure a row for one more step: drop unneeded rows, else double."""
        t, rows = self._t, len(next(iter(self._obs.values())))
        offset = int(self._start.min())
        if offset > 0:
            for arr in self._obs.values():
                arr[: t + 1 - offset] = arr[offset : t + 1]
            for arr in self._steps.values():
                arr[: t - offset] = arr[offset:t]
            self._start -= offset
            self._t -= offset
            return
        for group in (self._obs, self._steps):
            for key, arr in group.items():
                bigger = np.empty((2 * rows, *arr.shape[1:]), dtype=arr.dtype)
                bigger[:rows] = arr
                group[key] = bigger  # type: ignore[index]

    def _obs_slice(self, env: int, lo: int, hi: int) -> dict[str | None, np.ndarray]:
        return {k: b[lo:hi, env] for k, b in self._obs.items()}

    @staticmethod
    def _join(parts: dict[str | None, np.ndarray]) -> types.Observation:
        if None in parts:
            return parts[None]
        return types.DictObs(parts)  # type: ignore[arg-type]

    def add_step(
        self,
        acts: np.ndarray,
        next_obs: types.Observation,
        rews: np.ndarray,
        dones: np.ndarray,
        infos: Sequence[Mapping[str, Any]],
        emit: np.ndarray | None = None,
    ) -> list[types.TrajectoryWithRew]:
        """Record one batched step; return the trajectories it completed.

        Args:
            acts: Actions taken, shape ``(n_envs,) + action_shape``.
            next_obs: Observations returned by the step (after auto-reset for
                envs that are done).
            rews: Rewards, shape ``(n_envs,)``.
            dones: Episode-end flags, shape ``(n_envs,)``.
            infos: One info dict per env.
            emit: Optional boolean mask; completed episodes of envs where it is
                False are dropped instead of returned.

        Returns:
            The completed trajectories, in env order.
        """
        acts = np.asarray(acts)
        if not self._steps:
            rows = len(next(iter(self._obs.values())))
            self._steps = {
                "acts": np.empty((rows, *acts.shape), dtype=acts.dtype),
                "rews": np.empty((rows, self.n_envs), dtype=np.float64),
                "infos": np.empty((rows, self.n_envs), dtype=object),
            }
        if self._t + 2 > len(self._steps["acts"]):
            self._make_room()
        t = self._t
        steps = self._steps
        steps["acts"][t] = acts
        steps["rews"][t] = rews
        steps["infos"][t] = infos
        for k, v in self._split(next_obs).items():
            self._obs[k][t + 1] = v
        self._t = t + 1

        finished: list[types.TrajectoryWithRew] = []
        for i in np.flatnonzero(dones).tolist():
            lo = int(self._start[i])
            self._start[i] = t + 1
            if emit is not None and not emit[i]:
                continue
            info = infos[i]
            final = self._split(
                types.maybe_wrap_in_dictobs(
                    _add_batch_axis(info["terminal_observation"])
                ),
            )
            obs = {
                k: np.concatenate([v, final[k]])
                for k, v in self._obs_slice(i, lo, t + 1).items()
            }
            finished.append(
                types.TrajectoryWithRew(
                    obs=self._join(obs),
                    acts=steps["acts"][lo : t + 1, i].copy(),
                    infos=steps["infos"][lo : t + 1, i].copy(),
                    terminal=not info.get("TimeLimit.truncated", False),
                    rews=steps["rews"][lo : t + 1, i].copy(),
                ),
            )
        return finished

    def pop_partial(self) -> list[types.TrajectoryWithRew]:
        """Return the in-progress episode fragments, and restart them from now.

        Returns:
            One non-terminal trajectory per env with at least one step recorded
            since its episode (or the last pop) started.
        """
        out = []
        t = self._t
        for i in range(self.n_envs):
            lo = int(self._start[i])
            if lo == t:
                continue
            obs = {k: v.copy() for k, v in self._obs_slice(i, lo, t + 1).items()}
            out.append(
                types.TrajectoryWithRew(
                    obs=self._join(obs),
                    acts=self._steps["acts"][lo:t, i].copy(),
                    infos=self._steps["infos"][lo:t, i].copy(),
                    terminal=False,
                    rews=self._steps["rews"][lo:t, i].copy(),
                ),
            )
            self._start[i] = t
        return out


def _add_batch_axis(obs: Any) -> Any:
    if isinstance(obs, Mapping):
        return {k: np.asarray(v)[None] for k, v in obs.items()}
    return np.asarray(obs)[None]


def _check_policy_spaces(policy: BasePolicy | BaseAlgorithm, venv: VecEnv) -> bool:
    """Check that ``policy`` fits ``venv``; return whether to transpose images.

    SB3 trains on channels-last images transposed to channels first, so its
    image policies have the transposed space; observations of such an
    environment are transposed for the policy (as SB3's ``predict`` does).
    """
    transpose = False
    for name in ("observation_space", "action_space"):
        expected, got = getattr(policy, name), getattr(venv, name)
        if name == "observation_space" and util.is_transposed_image_space(
            expected, got
        ):
            transpose = True
        elif expected != got:
            raise ValueError(
                f"The policy's {name} {expected} does not match the environment's "
                f"{got}: use a policy trained on this environment (or wrap the "
                "environment to match).",
            )
    return transpose


def _fast_sb3_callable(
    policy: BasePolicy, deterministic: bool, transpose: bool = False
) -> PolicyCallable:
    """Act with an SB3 policy without ``predict``'s per-call checks.

    Same result as ``policy.predict`` (including clipping or unscaling Box
    actions, and transposing channels-last images if ``transpose``), computed
    with one no-grad forward per step.
    """
    policy.set_training_mode(False)
    action_space = policy.action_space
    is_box = isinstance(action_space, spaces.Box)
    squash = bool(getattr(policy, "squash_output", False))
    act_shape = action_space.shape or ()
    low = getattr(action_space, "low", None)
    high = getattr(action_space, "high", None)
    device = policy.device  # a property that scans the parameters: read it once

    def act(obs: Any, state: Any, episode_start: np.ndarray) -> tuple[np.ndarray, Any]:
        if transpose:
            obs = VecTransposeImage.transpose_image(obs)
        with th.no_grad():
            obs_t = obs_as_tensor(obs, device)
            acts = sb3_compat.predict_actions(policy, obs_t, deterministic)
        out = acts.cpu().numpy().reshape((-1, *act_shape))
        if is_box:
            out = policy.unscale_action(out) if squash else np.clip(out, low, high)
        return out, state

    return act


_CONVENTION = (
    "the PolicyCallable convention `(observations, state, episode_start) -> "
    "(actions, state)`, batched over the envs"
)


def _checked_callable(policy: Callable[..., Any], num_envs: int) -> PolicyCallable:
    """``policy``, checked to follow :data:`PolicyCallable` on every call.

    Raises:
        TypeError: If ``policy`` cannot be called with three arguments.
    """
    name = getattr(policy, "__qualname__", type(policy).__name__)
    try:
        signature = inspect.signature(policy)
    except (TypeError, ValueError):  # Some builtins have no signature.
        signature = None
    if signature is not None:
        try:
            signature.bind(None, None, None)
        except TypeError as exc:
            raise TypeError(
                f"The policy {name} cannot be called as {_CONVENTION} ({exc}). "
                "Wrap a function of the observations alone, e.g. `lambda obs, "
                "state, episode_start: (act(obs), None)`.",
            ) from exc

    def checked(obs: Any, state: Any, episode_start: Any) -> tuple[np.ndarray, Any]:
        result = policy(obs, state, episode_start)
        if not isinstance(result, tuple) or len(result) != 2:
            got = (
                f"a tuple of {len(result)}"
                if isinstance(result, tuple)
                else type(result).__name__
            )
            raise TypeError(
                f"The policy {name} returned {got}, which breaks {_CONVENTION}. "
                "Return a pair: the actions, one per env, and the new state "
                "(None for a policy without memory).",
            )
        actions = np.asarray(result[0])
        if actions.ndim == 0 or len(actions) != num_envs:
            raise ValueError(
                f"The policy {name} returned actions of shape {actions.shape} for "
                f"{num_envs} envs; {_CONVENTION} needs one action per env (the "
                "first dimension).",
            )
        return actions, result[1]

    return checked


def policy_to_callable(
    policy: AnyPolicy,
    venv: VecEnv,
    deterministic_policy: bool = False,
) -> PolicyCallable:
    """Turn any supported policy into a batched ``(obs, state, ep_start)`` callable.

    Args:
        policy: An SB3 algorithm or policy, a callable
            ``(obs, state, episode_start) -> (actions, state)``, or None for
            uniformly random actions.
        venv: The environment the policy will act in.
        deterministic_policy: Use the SB3 policy's most likely action.

    Returns:
        The callable.

    Raises:
        ValueError: If an SB3 policy's spaces do not match ``venv``'s.
        TypeError: If ``policy`` is none of the supported kinds, or a callable
            that cannot take ``(obs, state, episode_start)``. A callable is
            also checked on every call: one that does not return ``(actions,
            state)`` with one action per env raises ``TypeError`` or
            ``ValueError`` naming the convention.
    """
    if policy is None:
        space = venv.action_space
        n = venv.num_envs

        def random_policy(obs: Any, state: Any, ep_start: np.ndarray) -> tuple:
            return np.stack([space.sample() for _ in range(n)]), state

        return random_policy
    if isinstance(policy, BaseAlgorithm):
        _check_policy_spaces(policy, venv)
        policy = policy.policy
    if isinstance(policy, BasePolicy):
        transpose = _check_policy_spaces(policy, venv)
        if type(policy).predict is BasePolicy.predict:
            return _fast_sb3_callable(policy, deterministic_policy, transpose)
        sb3_policy = policy

        def predict(obs: Any, state: Any, ep_start: np.ndarray) -> tuple:
            return sb3_policy.predict(
                obs,
                state=state,
                episode_start=ep_start,
                deterministic=deterministic_policy,
            )

        return predict
    if callable(policy):
        if deterministic_policy:
            raise ValueError(
                "deterministic_policy=True has no effect on a plain callable "
                "policy; make the callable deterministic itself.",
            )
        return _checked_callable(policy, venv.num_envs)
    raise TypeError(
        "policy must be an SB3 algorithm or policy, a callable "
        f"(obs, state, episode_start) -> (actions, state), or None; got {policy!r}.",
    )


def generate_trajectories(
    policy: AnyPolicy,
    venv: VecEnv,
    sample_until: GenTrajTerminationFn,
    rng: np.random.Generator,
    *,
    deterministic_policy: bool = False,
) -> Sequence[types.TrajectoryWithRew]:
    """Run ``policy`` in ``venv`` until ``sample_until`` says to stop.

    Once the condition holds, envs whose episode just ended stop, while envs in
    the middle of an episode run on until it ends and it is included: ending
    at the condition would keep only the episodes that happened to finish first,
    biasing the sample towards short episodes.

    Args:
        policy: See :func:`policy_to_callable`.
        venv: The environment (reset at the start).
        sample_until: Termination condition, e.g. from :func:`make_sample_until`.
        rng: Generator used to shuffle the order of the returned trajectories.
        deterministic_policy: Use the SB3 policy's most likely action.

    Returns:
        Complete episodes, each with infos and rewards.

    Raises:
        TypeError: If ``venv`` is not a ``VecEnv`` or ``rng`` not a numpy
            ``Generator``.
    """
    util.check_vec_env(venv)
    util.check_rng(rng)
    get_actions = policy_to_callable(policy, venv, deterministic_policy)
    obs = venv.reset()
    acc = TrajectoryAccumulator(venv.num_envs)
    acc.reset(types.maybe_wrap_in_dictobs(obs))
    trajectories: list[types.TrajectoryWithRew] = []
    active = np.ones(venv.num_envs, dtype=bool)
    episode_start = np.ones(venv.num_envs, dtype=bool)
    state = None
    enough = False
    while active.any():
        acts, state = get_actions(obs, state, episode_start)
        obs, rews, dones, infos = venv.step(acts)
        new = acc.add_step(
            acts,
            types.maybe_wrap_in_dictobs(obs),
            rews,
            dones,
            infos,
            emit=active,
        )
        if new:
            trajectories.extend(new)
            enough = enough or sample_until(trajectories)
        if enough:
            active &= ~dones
        episode_start = dones
    order = rng.permutation(len(trajectories))
    return [trajectories[i] for i in order]
