"""Plug-ins: importing ``path/to/file.py:Name`` / ``package.module:Name``, ``--model-arg`` values,
and the options :func:`~gcl_bench.models.load_model` passes to a factory.

:class:`FactoryOptions` is the one table of those options and their defaults; a plug-in factory is
given the options that differ from their default and that its signature accepts, plus its
``model_args``. This module may import only the standard library, :mod:`gcl_bench.errors` and
:mod:`gcl_bench.models.base`.
"""
from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from gcl_bench.errors import GclBenchError
from gcl_bench.models.base import first_line

ModelArgs = Mapping[str, Any] | list[str] | tuple[str, ...]


@dataclass(frozen=True)
class FactoryOptions:
    """The options every model factory may take, with their defaults (``load_model``'s keywords)."""

    pretrained: str | None = None
    device: str = "auto"
    query_fields: str | Mapping[str, float] | None = None
    doc_fields: str | Mapping[str, float] | None = None
    trust_checkpoint: bool = False
    context_length: int | None = None
    precision: str = "auto"
    num_workers: int = 0
    decode: str = "cpu"

    def explicit(self) -> dict[str, Any]:
        """The options given a value other than their default, by name."""
        return {
            option.name: getattr(self, option.name)
            for option in fields(self)
            if getattr(self, option.name) != option.default
        }

    def pick(self, names: tuple[str, ...]) -> dict[str, Any]:
        """The options ``names`` (defaults included), by name."""
        return {name: getattr(self, name) for name in names}


DEFAULT_OPTIONS = FactoryOptions()

#: Options that change what is evaluated: a factory that cannot take one given is an error
#: (the others, such as ``device``, are dropped for factories without them).
EVALUATION_OPTIONS = ("pretrained", "query_fields", "doc_fields", "context_length")


def call_factory(
    factory: Callable[..., Any], spec: str, options: FactoryOptions, args: Mapping[str, Any]
) -> Any:
    """Call a plug-in factory with ``args`` plus the explicit options its signature accepts."""
    try:
        params = inspect.signature(factory).parameters
        takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    except (TypeError, ValueError):
        params, takes_kwargs = {}, False
    kwargs = dict(args)
    for key, value in options.explicit().items():
        if key in kwargs:
            continue
        if key in params or takes_kwargs:
            kwargs[key] = value
        elif key in EVALUATION_OPTIONS:
            raise GclBenchError(f"{spec} does not take {key.replace('_', '-')} (its constructor has no such argument)")
    try:
        return factory(**kwargs)
    except GclBenchError:
        raise
    except TypeError as err:
        raise GclBenchError(f"cannot build {spec!r} with arguments {sorted(kwargs)}: {first_line(err)}") from None


def is_plugin_spec(target: str) -> bool:
    """Whether the part before ``:`` of a spec can name a plug-in (a ``.py`` file or a module)."""
    return (
        target.endswith(".py") or "/" in target or os.sep in target
        or target.replace(".", "").replace("_", "").isalnum()
    )


def resolve_factory(factory: Callable[..., Any] | str) -> Callable[..., Any]:
    """A registry factory as a callable (a ``"module:attr"`` string is imported now)."""
    return factory if callable(factory) else load_plugin(factory)


def load_plugin(spec: str) -> Any:
    """Import the object named by ``path/to/file.py:Name`` or ``package.module:Name``."""
    target, _, attr = spec.rpartition(":")
    if not target or not attr:
        raise GclBenchError(f"plug-in {spec!r} must look like path/to/file.py:ClassName or package.module:ClassName")
    try:
        if target.endswith(".py") or "/" in target or os.sep in target:
            module = _import_file(Path(target).expanduser())
        else:
            module = importlib.import_module(target)
    except GclBenchError:
        raise
    except Exception as err:  # any import failure is one line for the user
        raise GclBenchError(f"cannot import plug-in {spec!r}: {type(err).__name__}: {first_line(err)}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        names = [n for n in dir(module) if not n.startswith("_")]
        close = difflib.get_close_matches(attr, names, n=3)
        hint = f" (close matches: {', '.join(close)})" if close else ""
        raise GclBenchError(f"plug-in {spec!r}: {target} has no attribute {attr!r}{hint}") from None


def _import_file(path: Path) -> Any:
    if not path.is_file():
        raise GclBenchError("plug-in file not found", path)
    module_name = f"gcl_bench_plugin_{abs(hash(str(path.resolve())))}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise GclBenchError("cannot import this file as Python", path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


# -- --model-arg ------------------------------------------------------------------------------
def parse_model_args(model_args: ModelArgs | None) -> dict[str, Any]:
    """``["dim=64", "scale=0.5", "normalize=true", 'names=["a"]']`` -> typed dict.

    Values become ``int``, ``float``, ``bool`` (true/false/yes/no/on/off), ``None`` (none/null),
    JSON lists/objects/quoted strings, or stay strings. In a mapping (what the CLI collects from
    ``--model-arg``), string values are parsed the same way and other values kept as they are.
    """
    if model_args is None:
        return {}
    if isinstance(model_args, Mapping):
        pairs = [(str(k), v) for k, v in model_args.items()]
    else:
        pairs = []
        for item in model_args:
            key, sep, raw = str(item).partition("=")
            if not sep:
                raise GclBenchError(f"--model-arg {item!r} must look like key=value")
            pairs.append((key, raw))
    parsed: dict[str, Any] = {}
    for key, value in pairs:
        name = key.strip().replace("-", "_")
        if not name.isidentifier():
            raise GclBenchError(f"--model-arg {key!r}={value!r}: {key!r} is not a valid argument name")
        parsed[name] = _parse_value(value.strip()) if isinstance(value, str) else value
    return parsed


def _parse_value(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    if lowered in ("none", "null"):
        return None
    for convert in (int, float):
        try:
            return convert(raw)
        except ValueError:
            pass
    if raw[:1] in ("[", "{", '"'):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            raise GclBenchError(f"--model-arg value {raw!r} is not valid JSON") from None
    return raw
