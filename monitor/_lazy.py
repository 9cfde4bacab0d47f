"""Package attributes imported on first use (PEP 562), for packages whose parts have costly imports.

``monitor.pipeline``, ``monitor.service``, ``monitor.hub`` and ``monitor.alerts`` re-export names from
modules that pull in the database models, the Hub client, the git source, the webhook server, the
scheduler, the alert channels or the analysis stack; a command that needs one name should not pay for
the others. A package keeps its ``TYPE_CHECKING`` imports (for mypy and readers) and a table
of each public name's module, and takes its ``__getattr__`` / ``__dir__`` from here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    namespace: dict[str, Any], exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package whose ``globals()`` is ``namespace``.

    ``exports`` maps each public name to the module that defines it. A name is imported the first time
    it is asked for and then kept in ``namespace``, so later lookups are plain attribute reads.
    """
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    return __getattr__, __dir__
