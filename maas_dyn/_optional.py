"""Optional dependencies: a missing one is an error that names the extra to install.

The run-time install is ``requests``, ``urllib3``, ``oauthlib`` and ``websocket-client``.
The simulators need the ``sim`` extra (``websockets``) and recording or replaying
cassettes needs the ``record`` extra (``vcrpy``, ``PyYAML``). Importing a feature without
its extra raises :class:`MissingExtraError` saying which ``pip install`` fixes it, instead
of a bare ``No module named 'vcr'``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRAS", "MissingExtraError", "optional_module", "require"]

# extra -> {module imported: distribution that provides it}; setup.cfg declares the same
# (tests/test_dependencies.py checks the two agree).
EXTRAS: dict[str, dict[str, str]] = {
    "sim": {"websockets": "websockets"},
    "record": {"vcr": "vcrpy", "yaml": "PyYAML"},
    "metrics": {"prometheus_client": "prometheus-client"},
}


class MissingExtraError(ModuleNotFoundError):
    """An optional dependency of a feature is not installed.

    A :class:`ModuleNotFoundError`, so code that catches ``ImportError`` keeps working.

    Args:
        feature: What the user tried to use, e.g. ``"recording cassettes"``.
        extra: The extra that installs its dependencies, e.g. ``"record"``.
        module: The module that could not be imported.
    """

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        super().__init__(
            f"{feature} needs the '{extra}' extra ({module!r} is not installed): "
            f"pip install 'maas-dyn[{extra}]'", name=module)


def require(extra: str, feature: str) -> dict[str, ModuleType]:
    """Import every module of an extra, or say which extra to install.

    Args:
        extra: A key of :data:`EXTRAS`.
        feature: What needs it, for the message.

    Returns:
        The imported modules by name.

    Raises:
        MissingExtraError: One of them is not installed.
    """
    modules = {}
    for name in EXTRAS[extra]:
        try:
            modules[name] = importlib.import_module(name)
        except ImportError as exc:
            # Only a module of the extra missing is ours to explain (vcrpy fails on a missing
            # yaml, one of the extra's own); any other import error inside an installed
            # package is a real bug and keeps its own message.
            missing = exc.name or name
            if missing not in EXTRAS[extra]:
                raise
            raise MissingExtraError(feature, extra, missing) from exc
    return modules


def optional_module(extra: str, module: str) -> ModuleType | None:
    """Import one module of an extra for a feature that can do without it.

    Unlike :func:`require`, a missing module is not an error: the caller falls back
    (the OpenAPI overlay reads a region's YAML only when PyYAML is there).

    Args:
        extra: A key of :data:`EXTRAS` that declares ``module``.
        module: The module to import.

    Returns:
        The module, or ``None`` when it is not installed.
    """
    assert module in EXTRAS[extra], f"{module!r} is not declared by the {extra!r} extra"
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if (exc.name or module) != module:
            raise  # an installed module failing inside keeps its own error
        return None
