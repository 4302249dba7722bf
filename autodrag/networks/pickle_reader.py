"""Read NVIDIA StyleGAN network pickles without executing anything stored in them.

A restricted `pickle.Unpickler` resolves only the globals a genuine snapshot contains
(see `ALLOWED_GLOBALS`), each mapped to a local, side-effect-free constructor:
persistent network objects become `PersistentRecord`s (class name, init args, state),
tensor storages are decoded from their legacy `torch.save` blobs by hand, numpy
scalars/arrays are rebuilt from raw bytes. The `module_src` source code inside the
file is ignored, never executed.
"""

from __future__ import annotations

import io
import pickle
import struct
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["ALLOWED_GLOBALS", "PersistentRecord", "UnsafePickleError", "read_network_pickle"]


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle references a global (function or class) that a network snapshot never needs."""


@dataclass
class PersistentRecord:
    """A persistent object from `torch_utils.persistence`, reduced to data."""

    class_name: str  # e.g. 'Generator', 'SynthesisBlock'
    state: dict[str, Any]  # the module's __dict__ as pickled
    version: int = 0

    @property
    def init_args(self) -> tuple:
        return tuple(self.state.get("_init_args", ()))

    @property
    def init_kwargs(self) -> dict:
        return dict(self.state.get("_init_kwargs", {}))

    @property
    def children(self) -> dict[str, PersistentRecord | None]:
        return dict(self.state.get("_modules", {}))

    @property
    def parameters(self) -> dict[str, torch.Tensor | None]:
        return dict(self.state.get("_parameters", {}))

    @property
    def buffers(self) -> dict[str, torch.Tensor | None]:
        return dict(self.state.get("_buffers", {}))

    def attribute(self, name: str, default: Any = None) -> Any:
        return self.state.get(name, default)

    def tensors(self, prefix: str = "") -> dict[str, torch.Tensor | None]:
        """Every parameter and buffer below this record, by dotted name (None for buffers set to None)."""
        out: dict[str, torch.Tensor | None] = {}
        for name, value in {**self.parameters, **self.buffers}.items():
            out[prefix + name] = value
        for name, child in self.children.items():
            if isinstance(child, PersistentRecord):
                out.update(child.tensors(prefix + name + "."))
        return out


class EasyDict(dict):
    """Stand-in for dnnlib.util.EasyDict: a plain dict with attribute access."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class _FlatStorage:
    """A decoded tensor storage: a flat tensor of the storage's dtype."""

    data: torch.Tensor


def _reconstruct_persistent_obj(meta: dict) -> PersistentRecord:
    if not isinstance(meta, dict) or meta.get("type") != "class":
        raise pickle.UnpicklingError("persistent object with unexpected metadata")
    return PersistentRecord(
        class_name=str(meta["class_name"]),
        state=dict(meta.get("state") or {}),
        version=int(meta.get("version", 0)),
    )


def _rebuild_tensor_v2(
    storage: _FlatStorage,
    storage_offset: int,
    size: tuple,
    stride: tuple,
    requires_grad: bool = False,
    backward_hooks: Any = None,
    metadata: Any = None,
) -> torch.Tensor:
    if not isinstance(storage, _FlatStorage):
        raise pickle.UnpicklingError("tensor rebuilt from something that is not a storage")
    return torch.as_strided(storage.data, tuple(size), tuple(stride), int(storage_offset)).clone()


def _rebuild_parameter(
    data: torch.Tensor, requires_grad: bool = False, backward_hooks: Any = None
) -> torch.Tensor:
    if not isinstance(data, torch.Tensor):
        raise pickle.UnpicklingError("parameter rebuilt from something that is not a tensor")
    return data


_STORAGE_DTYPES = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class _StorageType:
    """What `torch.FloatStorage` etc. resolve to inside a storage blob: just the dtype."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


class _BlobUnpickler(pickle.Unpickler):
    """Reads the pickled header of a legacy `torch.save` storage blob."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise UnsafePickleError(f"storage blob references disallowed global {module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id in storage blob: {pid!r}")
        storage_type, key, numel = pid[1], str(pid[2]), int(pid[4])
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError("storage blob without a storage type")
        return ("storage", storage_type.dtype, key, numel)


def _load_from_bytes(blob: bytes) -> _FlatStorage:
    """Decode a legacy (non-zip) `torch.save` stream that holds one storage."""
    if not isinstance(blob, (bytes, bytearray)):
        raise pickle.UnpicklingError("storage blob is not bytes")
    stream = io.BytesIO(blob)
    header = [_BlobUnpickler(stream).load() for _ in range(3)]
    if header[0] != _LEGACY_MAGIC or header[1] != 1001:
        raise pickle.UnpicklingError("storage blob has an unknown header")
    if not header[2].get("little_endian", True):
        raise pickle.UnpicklingError("big-endian storage blobs are not supported")
    root = _BlobUnpickler(stream).load()
    keys = _BlobUnpickler(stream).load()
    if not (isinstance(root, tuple) and root[0] == "storage"):
        raise pickle.UnpicklingError("storage blob does not hold a storage")
    _, dtype, root_key, numel = root
    if [str(k) for k in keys] != [root_key]:
        raise pickle.UnpicklingError("storage blob must hold exactly one storage")
    (count,) = struct.unpack("<q", stream.read(8))
    itemsize = torch.empty((), dtype=dtype).element_size()
    raw = stream.read(count * itemsize)
    if count != numel or len(raw) != count * itemsize:
        raise pickle.UnpicklingError("storage blob is truncated")
    data = torch.frombuffer(bytearray(raw), dtype=dtype) if count else torch.empty(0, dtype=dtype)
    return _FlatStorage(data)


def _numpy_dtype(*args: Any) -> np.dtype:
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise UnsafePickleError("numpy object dtypes are not allowed in a network pickle")
    return dtype


def _numpy_scalar(dtype: np.dtype, data: bytes = b"") -> Any:
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(data, bytes):
        raise UnsafePickleError("numpy scalar of a disallowed type")
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def _numpy_reconstruct(subtype: Any, shape: Any, dtype_code: Any) -> np.ndarray:
    if subtype is not np.ndarray:
        raise UnsafePickleError("numpy array subclass is not allowed")
    return np.ndarray.__new__(np.ndarray, shape, dtype_code)


_NUMPY_MODULES = ("numpy.core.multiarray", "numpy._core.multiarray")

ALLOWED_GLOBALS: dict[tuple[str, str], Callable[..., Any] | type] = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent_obj,
    ("dnnlib.util", "EasyDict"): EasyDict,
    ("collections", "OrderedDict"): OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch.storage", "_load_from_bytes"): _load_from_bytes,
    ("numpy", "dtype"): _numpy_dtype,
    ("numpy", "ndarray"): np.ndarray,
    **{(m, "scalar"): _numpy_scalar for m in _NUMPY_MODULES},
    **{(m, "_reconstruct"): _numpy_reconstruct for m in _NUMPY_MODULES},
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(f"disallowed global {module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("persistent ids are not allowed in the outer pickle stream")


def read_network_pickle(stream: io.BufferedIOBase) -> Any:
    """Unpickle a network snapshot into plain data and `PersistentRecord`s. Raises on anything else."""
    return _RestrictedUnpickler(stream).load()
