"""How a step records a fault: one line in the row it belongs to, one traceback in the log.

A step's failure for one model is that model's: it is written to its poll or run row, counted, and
alerted like any other failure, and the pass goes on with the other models and the later steps.
``MonitorError`` messages are written for users already; anything else is unexpected, so its
traceback is logged (once, here) and the row gets ``TypeName: first line``.
"""

from __future__ import annotations

import logging

from monitor._redact import redact
from monitor.errors import MonitorError

__all__ = ["fault_text"]

_MAX_CHARS = 500


def fault_text(exc: BaseException, logger: logging.Logger, what: str) -> str:
    """The one-line error text for ``exc``; an unexpected exception's traceback goes to ``logger``."""
    if isinstance(exc, MonitorError):
        text = str(exc)
    else:
        logger.error("%s: unexpected %s", what, type(exc).__name__, exc_info=exc)
        first = next((line for line in str(exc).splitlines() if line.strip()), "")
        text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    text = redact(" ".join(text.split()))  # an OSError or a library's message may quote a URL's credential
    return text if len(text) <= _MAX_CHARS else text[: _MAX_CHARS - 1] + "…"
