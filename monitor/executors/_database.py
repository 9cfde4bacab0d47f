"""How a cluster task reaches the database without the database password travelling through Ray.

Everything handed to ``.remote()`` is part of the task's spec: the submitting service keeps it for
retries, it crosses the cluster's RPC (plain text unless Ray's TLS is on) to the node's raylet and
worker, and any Ray error that shows an argument shows it. So the service sends a task the database
URL with the password removed (``task_url``) and the node that runs the task supplies the password
itself (``node_url``), by one rule:

1. the node's own ``DRIFT_MONITOR_DATABASE_URL``, when it names the same database (user, host, port,
   database name), lends its password;
2. otherwise the URL goes to libpq as it is, and libpq finds the password where it always looks:
   ``PGPASSWORD``, the file ``PGPASSFILE`` names, or ``~/.pgpass`` of the user the Ray worker runs as.

Either way the password is given to each node once, by whoever deploys it, in the environment of
``ray start`` (which Ray workers inherit) or in a file on the node, never by the service per task.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

__all__ = ["node_url", "task_url"]

_POSTGRES_PORT = 5432


def task_url(url: URL | str) -> str:
    """``url`` without its password: what a Ray task is given (the rest says which database it is)."""
    return make_url(url)._replace(password=None).render_as_string(hide_password=False)  # set() ignores None


def node_url(url: str, node_database_url: str | None) -> str:
    """The URL a task connects with on its node: ``url`` plus the node's password for the same database.

    ``node_database_url`` is the node's ``DRIFT_MONITOR_DATABASE_URL`` (None when unset). When it names
    another database, or has no password, ``url`` is returned unchanged and libpq looks the password up
    (``PGPASSWORD``, ``PGPASSFILE``, ``~/.pgpass``).
    """
    target = make_url(url)
    if target.password is not None or not node_database_url:
        return url
    try:
        local = make_url(node_database_url)
    except Exception:  # not a URL at all: nothing to lend; libpq's own lookup still applies
        return url
    if local.password is None or _identity(local) != _identity(target):
        return url
    return target.set(password=local.password).render_as_string(hide_password=False)


def _identity(url: URL) -> tuple[str, str | None, str | None, int, str | None]:
    """What makes two URLs the same database login, whatever driver each one names."""
    return (url.get_backend_name(), url.username, url.host, url.port or _POSTGRES_PORT, url.database)
