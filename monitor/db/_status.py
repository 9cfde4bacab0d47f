"""The statuses stored in the database, as ``Literal`` types: a typo is a type error, not a silent new state.

The columns stay ``VARCHAR(20)`` (no database enum: adding a state needs no migration); these types are
what the code may write and compare.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "ALERT_STATUSES",
    "DELIVERY_STATUSES",
    "MODEL_STATUSES",
    "RUN_STATUSES",
    "AlertStatus",
    "DeliveryStatus",
    "ModelStatus",
    "RunStatus",
]

#: A watched model: ``active`` when its last poll read everything; ``gone``/``gated`` as the source says;
#: ``removed`` by whoever manages the watch list (polls leave it alone).
ModelStatus = Literal["active", "gone", "gated", "removed"]
#: A run: ``pending`` (created, not started), ``running``, then ``completed``, ``failed`` or
#: ``interrupted`` (a stop request; the next pass resumes it).
RunStatus = Literal["pending", "running", "completed", "failed", "interrupted"]
#: An alert: ``pending`` until every channel has it (``delivered``); ``unrouted`` when no channel takes it.
AlertStatus = Literal["pending", "delivered", "failed", "unrouted"]
#: One alert on one channel.
DeliveryStatus = Literal["pending", "sending", "delivered", "failed", "dropped"]

MODEL_STATUSES: tuple[str, ...] = get_args(ModelStatus)
RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)
ALERT_STATUSES: tuple[str, ...] = get_args(AlertStatus)
DELIVERY_STATUSES: tuple[str, ...] = get_args(DeliveryStatus)
