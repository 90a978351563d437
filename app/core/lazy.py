"""Package facades that import their names on first use (PEP 562).

A stage's config module must be cheap to import — the CLI builds its options from it — while the package also
offers the stage function, which pulls in torch or numba. ``lazy_exports`` gives a package ``__getattr__`` and
``__dir__`` over a module → names map, so ``from app.selfplay import SelfplayConfig`` stays as it was.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    namespace: dict[str, Any], modules: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for the package whose globals are ``namespace``, its names listed per
    module in ``modules``; each is read from its module when first used and then kept in ``namespace``."""
    package = namespace["__name__"]
    exports = {name: module for module, names in modules.items() for name in names}
    names = sorted(exports)

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return names

    return __getattr__, __dir__, names
