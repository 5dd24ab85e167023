"""Writing and checking ONNX and TorchScript files."""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from collections.abc import Iterator

import numpy as np
import torch as th
from torch import nn

from imitation.data import types
from imitation.policies.export.modules import (
    Exportable,
    ExportError,
    ExportMismatchError,
    PolicyActionModule,
    RewardModule,
    as_module,
    as_tensors,
    example_args,
    input_names,
    no_distribution_validation,
    random_inputs,
    unwrap,
)
from imitation.util import networks, util

_MISSING_OP = re.compile(r"No ONNX function found for <OpOverload\(op='([\w.]+)'")


def _describe_failure(
    module: nn.Module, args: tuple[th.Tensor, ...], exc: BaseException
) -> str:
    """What failed: the unsupported op and the module using it, and the fix."""
    chain = list(_exception_chain(exc))
    match = _MISSING_OP.search("".join(str(e) for e in chain))
    if match is None:
        root = chain[-1]
        return (
            f"{type(root).__name__}: {_first_lines(str(root))}. Fix: make the "
            "model traceable by torch.export, or use export_torchscript."
        )
    op = match.group(1)
    where = _module_using(module, args, op.split(".")[1])
    place = f" used in {where}" if where else ""
    return (
        f"the op {op}{place} has no ONNX translation. Fix: replace that op "
        "with ones ONNX supports, or use export_torchscript (runs wherever "
        "libtorch does)."
    )


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _first_lines(text: str, n: int = 3) -> str:
    return " ".join(line.strip() for line in text.strip().splitlines()[:n])


def _module_using(
    module: nn.Module, args: tuple[th.Tensor, ...], op: str
) -> str | None:
    """The submodule (path and class) whose graph calls ``op``, if it can be found."""
    wanted = op.replace("_", "")
    try:
        with (
            networks.evaluating(module),
            no_distribution_validation(),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            program = th.export.export(module, args, strict=False)
            graphs = [program.graph, program.run_decompositions().graph]
    except Exception:  # noqa: BLE001 - only a better message is at stake
        return None
    for graph in graphs:
        for node in graph.nodes:
            name = str(node.target).split(".")
            if node.op != "call_function" or len(name) < 2:
                continue
            if name[1].replace("_", "") != wanted:
                continue
            stack = node.meta.get("nn_module_stack") or {}
            if stack:
                path, cls = list(stack.values())[-1]
                cls_name = getattr(cls, "__name__", str(cls).rsplit(".", 1)[-1])
                cls_name = cls_name.strip("'>")
                # Paths start at the wrapper's ``net`` / ``policy`` attribute.
                inner = path.partition(".")[2]
                if not inner:
                    return f"{cls_name}.forward (the exported model itself)"
                return f"its submodule {inner!r} ({cls_name})"
    return None


def export_onnx(
    model: Exportable,
    path: types.AnyPath,
    *,
    processed: bool = True,
    opset_version: int | None = None,
) -> PolicyActionModule | RewardModule:
    """Export ``model`` to a self-contained ONNX file (written atomically).

    Args:
        model: A policy, an SB3 algorithm (its policy) or a reward net.
        path: The ``.onnx`` file to write.
        processed: For reward nets, see :func:`as_module`.
        opset_version: ONNX opset; None for the exporter's default.

    Returns:
        The exported module (use it with :func:`check_onnx` or
        :func:`input_names`).

    Raises:
        ExportError: If the model, or an op it uses, cannot be exported; the
            message names the op, the module using it and the fix.
    """
    module = as_module(model, processed)
    args = example_args(module)
    names = input_names(module)
    batch = th.export.Dim("batch", min=1)
    # ``forward(*inputs)``: the varargs are one tuple argument to torch.export.
    dynamic = (tuple({0: batch} for _ in names),)
    try:
        with (
            networks.evaluating(module),
            no_distribution_validation(),
            util.atomic_write_path(path) as tmp,
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            th.onnx.export(
                module,
                args,
                str(tmp),
                input_names=names,
                output_names=[
                    "action" if isinstance(module, PolicyActionModule) else "reward"
                ],
                dynamic_shapes=dynamic,
                opset_version=opset_version,
                external_data=False,
                dynamo=True,
                verbose=False,
            )
    except ExportError:
        raise
    except Exception as exc:  # The exporter raises many kinds of errors.
        raise ExportError(
            f"Cannot export {type(unwrap(model)).__name__} to ONNX: "
            f"{_describe_failure(module, args, exc)}",
        ) from exc
    return module


def _torch_outputs(
    module: PolicyActionModule | RewardModule, inputs: dict[str, np.ndarray]
) -> np.ndarray:
    with networks.predicting(module), no_distribution_validation():
        out = module(*as_tensors(module, inputs))
    return out.cpu().numpy()


def _compare(expected: np.ndarray, got: np.ndarray, atol: float, what: str) -> float:
    if expected.shape != got.shape or expected.dtype != got.dtype:
        raise ExportMismatchError(
            f"{what} gives shape {got.shape} and dtype {got.dtype}; PyTorch "
            f"{expected.shape} and {expected.dtype}.",
        )
    diff = float(np.max(np.abs(got.astype(np.float64) - expected), initial=0.0))
    if not diff <= atol:
        raise ExportMismatchError(
            f"{what} differs from PyTorch by up to {diff:.3g} (tolerance {atol:g}).",
        )
    return diff


def check_onnx(
    model: Exportable,
    path: types.AnyPath,
    *,
    processed: bool = True,
    n: int = 64,
    atol: float = 1e-5,
    seed: int = 0,
) -> float:
    """Check that ``onnxruntime`` on ``path`` agrees with PyTorch on ``model``.

    Args:
        model: The model exported to ``path``.
        path: The ``.onnx`` file.
        processed: As passed to :func:`export_onnx`.
        n: Batch size of the random inputs (see :func:`random_inputs`).
        atol: Largest absolute difference allowed.
        seed: Seed of the random inputs.

    Returns:
        The largest absolute difference found.

    Raises:
        ExportMismatchError: If outputs differ by more than ``atol``, or in
            shape or dtype.
    """
    import onnxruntime  # noqa: PLC0415 - optional dependency

    module = as_module(model, processed)
    inputs = random_inputs(module, n, seed)
    session = onnxruntime.InferenceSession(
        str(util.parse_path(path)), providers=["CPUExecutionProvider"]
    )
    (got,) = session.run(None, inputs)
    return _compare(
        _torch_outputs(module, inputs),
        got,
        atol,
        f"ONNX model {util.path_to_str(path)}",
    )


def export_torchscript(
    model: Exportable, path: types.AnyPath, *, processed: bool = True
) -> PolicyActionModule | RewardModule:
    """Trace ``model`` to a TorchScript file (written atomically).

    The file loads with ``torch.jit.load(path)`` and takes the raw inputs
    positionally, in :func:`input_names` order.

    Args:
        model: A policy, an SB3 algorithm (its policy) or a reward net.
        path: The file to write (e.g. ``model.pt``).
        processed: For reward nets, see :func:`as_module`.

    Returns:
        The traced module's source (see :func:`export_onnx`).

    Raises:
        ExportError: If tracing fails.
    """
    module = as_module(model, processed)
    args = example_args(module)
    try:
        with (
            networks.evaluating(module),
            no_distribution_validation(),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            traced = th.jit.trace(module, args, check_trace=False)
            with util.atomic_write_path(path) as tmp:
                th.jit.save(traced, str(tmp))
    except Exception as exc:  # Tracing raises many kinds of errors.
        raise ExportError(
            f"Cannot trace {type(unwrap(model)).__name__} to TorchScript "
            f"({type(exc).__name__}: {_first_lines(str(exc))}).",
        ) from exc
    return module


def check_torchscript(
    model: Exportable,
    path: types.AnyPath,
    *,
    processed: bool = True,
    n: int = 64,
    atol: float = 1e-5,
    seed: int = 0,
) -> float:
    """Like :func:`check_onnx`, for a file written by :func:`export_torchscript`."""
    module = as_module(model, processed)
    inputs = random_inputs(module, n, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        loaded = th.jit.load(str(util.parse_path(path)))
    with th.no_grad():
        got = loaded(*as_tensors(module, inputs)).cpu().numpy()
    return _compare(
        _torch_outputs(module, inputs),
        got,
        atol,
        f"TorchScript {util.path_to_str(path)}",
    )
