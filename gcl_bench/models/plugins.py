"""Plug-ins: importing ``path/to/file.py:Name`` / ``package.module:Name``, ``--model-arg`` values,
and the options :func:`~gcl_bench.models.load_model` passes to a factory.

:class:`FactoryOptions` is the one table of those options and their defaults; a plug-in factory is
given the options that differ from their default and that its signature accepts, plus its
``model_args``. :func:`plugin_failure` tells an exception raised inside a plug-in's code (its
constructor or any method gcl_bench calls) from gcl_bench's own, for a one-line error. This
module may import only the standard library, :mod:`gcl_bench.errors` and :mod:`gcl_bench.models.base`.
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
    """Call a plug-in factory with ``args`` plus the explicit options its signature accepts.

    Arguments its signature cannot take are a one-line error naming them; an exception raised
    inside the factory is the plug-in's (:func:`plugin_failure` turns it into one line at the CLI).
    """
    try:
        signature: inspect.Signature | None = inspect.signature(factory)
    except (TypeError, ValueError):
        signature = None
    params = signature.parameters if signature is not None else {}
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = dict(args)
    for key, value in options.explicit().items():
        if key in kwargs:
            continue
        if key in params or takes_kwargs:
            kwargs[key] = value
        elif key in EVALUATION_OPTIONS:
            raise GclBenchError(f"{spec} does not take {key.replace('_', '-')} (its constructor has no such argument)")
    if signature is not None:
        try:
            signature.bind(**kwargs)
        except TypeError as err:
            takes = ", ".join(name for name in params if name != "self") or "no arguments"
            raise GclBenchError(
                f"cannot build {spec!r} with --model-arg {', '.join(sorted(args)) or '(none)'}: "
                f"{first_line(err)} (it takes: {takes})"
            ) from None
    _remember_plugin(factory, spec)
    try:
        model = factory(**kwargs)
    except TypeError as err:
        if signature is not None:
            raise  # raised inside the factory: the plug-in's own error
        raise GclBenchError(f"cannot build {spec!r} with arguments {sorted(kwargs)}: {first_line(err)}") from None
    _remember_plugin(type(model), spec)
    return model


#: module name -> the ``--model`` spec that last brought it in (plug-in code, never gcl_bench's own)
_PLUGIN_MODULES: dict[str, str] = {}
#: plug-in class -> its spec (several plug-ins of one module keep their own names)
_PLUGIN_CLASSES: dict[type, str] = {}


def _remember_plugin(obj: Any, spec: str) -> None:
    module = getattr(obj, "__module__", None)
    if isinstance(module, str) and module != "gcl_bench" and not module.startswith("gcl_bench."):
        _PLUGIN_MODULES[module] = spec
        if isinstance(obj, type):
            _PLUGIN_CLASSES[obj] = spec


def plugin_failure(err: BaseException) -> GclBenchError | None:
    """The one-line error for an exception raised inside a plug-in's code, else None.

    The outermost frame of the traceback that lies in a plug-in's module names the method
    gcl_bench called (``__init__``, ``encode_corpus``, ``fingerprint``, ``search``...):
    ``plug-in x.py:X raised RuntimeError in encode_corpus: boom (--debug for the traceback)``.
    An exception with no plug-in frame is gcl_bench's (or a library's) and keeps its traceback.
    """
    trace = err.__traceback__
    while trace is not None:
        frame = trace.tb_frame
        spec = _PLUGIN_MODULES.get(frame.f_globals.get("__name__", ""))
        if spec is not None:
            spec = _PLUGIN_CLASSES.get(type(frame.f_locals.get("self")), spec)
            text = str(err).strip()
            detail = f": {text.splitlines()[0]}" if text else ""
            return GclBenchError(
                f"plug-in {spec} raised {type(err).__name__} in {frame.f_code.co_name}{detail} "
                "(--debug for the traceback)"
            )
        trace = trace.tb_next
    return None


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
