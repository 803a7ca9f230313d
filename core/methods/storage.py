"""Fitted methods on disk as weights plus a parameters JSON, never as pickles.

A pickle of a torch module names torch's and zuko's private classes, so a Run written today may not open after
an upgrade, and loading one runs whatever code it names. Here a fitted method is two files:

- ``<stem>.json``: the method's name, class and parameters, and its fitted state as plain JSON (arrays and
  networks replaced by keys into the weights file);
- ``<stem>.npz``: every array and every network's ``state_dict``, as numpy arrays.

Loading rebuilds each network from the object that owns it (``_network(attr)``: the architecture follows
from the parameters and the fitted scalers' shapes) and loads its weights. Only classes of this package are
made, and no code from the files runs.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from anomalyscope.core.errors import InputError
from anomalyscope.core.methods.device import DEVICE

FORMAT = 1
ALLOWED = ("anomalyscope.core.methods.", "anomalyscope.core.bumphunt.")


def _class_name(obj) -> str:
    t = type(obj)
    return f"{t.__module__}:{t.__qualname__}"


def _encode(obj, arrays: dict, where: str, owned: bool = False):
    """JSON for obj, its arrays into ``arrays``; ``owned``: obj is an attribute of an object (a network must be,
    so that its owner can rebuild it)."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        arrays[where] = obj
        return {"__array__": where}
    if isinstance(obj, nn.Module):
        if not owned:
            raise TypeError(f"{where}: a network must be an attribute of the object that builds it")
        for k, t in obj.state_dict().items():
            arrays[f"{where}/{k}"] = t.detach().cpu().numpy()
        return {"__network__": where}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(x, arrays, f"{where}.{i}") for i, x in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(x, arrays, f"{where}.{i}") for i, x in enumerate(obj)]
    if isinstance(obj, dict):
        return {"__dict__": [[_encode(k, arrays, where), _encode(v, arrays, f"{where}.{k}")] for k, v in obj.items()]}
    if type(obj).__module__.startswith(ALLOWED):
        if dataclasses.is_dataclass(obj):
            fields = {
                f.name: _encode(getattr(obj, f.name), arrays, f"{where}.{f.name}") for f in dataclasses.fields(obj)
            }
            return {"__dataclass__": _class_name(obj), "fields": fields}
        return {"__object__": _class_name(obj), "state": _state(obj, arrays, where)}
    raise TypeError(f"{where}: cannot store a {type(obj).__module__}.{type(obj).__qualname__}")


def _state(obj, arrays: dict, where: str, skip=()) -> dict:
    return {k: _encode(v, arrays, f"{where}.{k}", owned=True) for k, v in vars(obj).items() if k not in skip}


def _restore(obj, state: dict, arrays, source: str, pending: list) -> None:
    """Set obj's attributes; its networks are built once every object's attributes are in place."""
    for k, v in state.items():
        if isinstance(v, dict) and "__network__" in v:
            pending.append((obj, k, v["__network__"]))
        else:
            setattr(obj, k, _decode(v, arrays, source, pending))


def _class(name: str, source: str):
    module, _, qual = name.partition(":")
    if not module.startswith(ALLOWED):
        raise InputError(f"{source}: names the class {name}, which is not one of anomalyscope's")
    try:
        cls = importlib.import_module(module)
        for part in qual.split("."):
            cls = getattr(cls, part)
    except (ImportError, AttributeError):
        raise InputError(f"{source}: the class {name} does not exist in this version of anomalyscope") from None
    return cls


def _decode(obj, arrays, source: str, pending: list):
    if isinstance(obj, list):
        return [_decode(x, arrays, source, pending) for x in obj]
    if not isinstance(obj, dict):
        return obj
    if "__array__" in obj:
        return arrays[obj["__array__"]]
    if "__tuple__" in obj:
        return tuple(_decode(x, arrays, source, pending) for x in obj["__tuple__"])
    if "__dict__" in obj:
        return {_decode(k, arrays, source, pending): _decode(v, arrays, source, pending) for k, v in obj["__dict__"]}
    if "__dataclass__" in obj:
        cls = _class(obj["__dataclass__"], source)
        return cls(**{k: _decode(v, arrays, source, pending) for k, v in obj["fields"].items()})
    if "__object__" in obj:
        cls = _class(obj["__object__"], source)
        new = cls.__new__(cls)
        _restore(new, obj["state"], arrays, source, pending)
        return new
    raise InputError(f"{source}: an entry of unknown kind {sorted(obj)}")


def save(method, stem: Path) -> None:
    """``stem``.json and ``stem``.npz (each written to a temporary file, then renamed)."""
    stem = Path(stem)
    arrays: dict[str, np.ndarray] = {}
    meta = {
        "format": FORMAT,
        "method": method.name,
        "class": _class_name(method),
        "params": _encode(method.params, arrays, "params"),
        "state": _state(method, arrays, "state", skip=("params",)),
    }
    tmp = stem.with_name(stem.name + ".npz.tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    os.replace(tmp, stem.with_suffix(".npz"))
    tmp = stem.with_name(stem.name + ".json.tmp")
    tmp.write_text(json.dumps(meta, indent=1, allow_nan=True))
    os.replace(tmp, stem.with_suffix(".json"))


def load(stem: Path):
    """The fitted method saved at ``stem``: every network rebuilt by its owner and given its weights."""
    stem = Path(stem)
    source = str(stem.with_suffix(".json"))
    try:
        meta = json.loads(stem.with_suffix(".json").read_text())
        with np.load(stem.with_suffix(".npz"), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError as exc:
        raise InputError(f"{exc.filename}: no such file (a fitted model is a .json and a .npz)") from None
    except (ValueError, OSError) as exc:
        raise InputError(f"{stem}: not a stored model ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InputError(f"{source}: model format {meta.get('format') if isinstance(meta, dict) else meta!r}, "
                         f"this version reads {FORMAT}")  # fmt: skip
    cls = _class(meta["class"], source)
    pending: list = []
    method = cls.__new__(cls)
    method.params = _decode(meta["params"], arrays, source, pending)
    _restore(method, meta["state"], arrays, source, pending)
    for owner, attr, key in pending:
        net = owner._network(attr)
        weights = {k[len(key) + 1 :]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith(key + "/")}
        try:
            net.load_state_dict(weights)
        except RuntimeError as exc:
            raise InputError(f"{source}: the weights of {key} do not fit its network ({str(exc)[:200]})") from None
        setattr(owner, attr, net.to(DEVICE).eval())
    return method
