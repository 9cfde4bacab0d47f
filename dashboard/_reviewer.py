"""Who is looking at the dashboard, and whether they may write (acknowledge alerts, relabel answers).

Writes feed the record of who decided and ``classifier train``, so the name on them must come from
something the reviewer cannot type. In order:

1. a **trusted proxy header** (``DRIFT_MONITOR_DASHBOARD_USER_HEADER``, or ``drift-monitor dashboard
   --user-header``): oauth2-proxy and most identity-aware proxies set the signed-in user on every
   request they forward (``X-Forwarded-Email``, ``X-Forwarded-User``, ``X-Auth-Request-Email``). The
   header is trusted only because the dashboard listens on 127.0.0.1 behind that proxy; when it is
   configured and a request arrives without it, the page is read-only (never a fallback to typing);
2. **Streamlit's own OIDC login** (``st.login``) when ``.streamlit/secrets.toml`` has an ``[auth]``
   section: the reviewer signs in, and ``st.user``'s e-mail (or name) is recorded;
3. with neither, the dashboard is **read-only**, unless it was started with ``--allow-unverified-writes``
   (``DRIFT_MONITOR_DASHBOARD_UNVERIFIED_WRITES``): then a typed name is stored with ``(unverified)``
   after it, so the record says how far to trust it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import streamlit as st

from monitor.config import Settings

__all__ = ["NAME_MAX", "Reviewer", "current_reviewer", "identity_panel", "stored_name"]

NAME_MAX = 100
"""Longest name stored (the columns ``acknowledged_by`` and ``reviewer`` hold 100 characters)."""

_UNVERIFIED = " (unverified)"

Source = Literal["proxy", "oidc", "unverified", "none"]


@dataclass(frozen=True)
class Reviewer:
    """The viewer: a verified name (proxy or OIDC), an unverified writer, or a read-only visitor."""

    source: Source
    name: str | None = None
    why_read_only: str = ""
    can_log_in: bool = False

    @property
    def can_write(self) -> bool:
        """Whether the forms that write (acknowledge, correct a label) are offered."""
        return self.source != "none"

    @property
    def verified(self) -> bool:
        """Whether the name comes from the proxy or the identity provider, not from typing."""
        return self.source in ("proxy", "oidc")


def _oidc_configured() -> bool:
    try:
        return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)
    except FileNotFoundError:  # an unreadable secrets file is "not configured", not a crash
        return False


def current_reviewer(settings: Settings) -> Reviewer:
    """Decide who the viewer is for this script run (see the module docstring for the order)."""
    header = (settings.dashboard_user_header or "").strip()
    if header:
        value = (st.context.headers.get(header) or "").strip()
        if value:
            return Reviewer("proxy", value[:NAME_MAX])
        return Reviewer(
            "none",
            why_read_only=f"Read-only: the request carries no {header} header (sign in through the team's proxy).",
        )
    if _oidc_configured():
        if st.user.get("is_logged_in"):
            who = st.user.get("email") or st.user.get("name") or st.user.get("sub")
            if who:
                return Reviewer("oidc", str(who)[:NAME_MAX])
        return Reviewer("none", why_read_only="Read-only until you log in.", can_log_in=True)
    if settings.dashboard_unverified_writes:
        return Reviewer("unverified")
    return Reviewer(
        "none",
        why_read_only=(
            "Read-only: no reviewer identity is configured. Put the dashboard behind a proxy that sets a user "
            "header (drift-monitor dashboard --user-header X-Forwarded-Email), configure st.login in "
            ".streamlit/secrets.toml, or start it with --allow-unverified-writes."
        ),
    )


def stored_name(reviewer: Reviewer, typed: str = "") -> str:
    """The name written with an acknowledgement or a relabel: the verified one, or the typed one marked.

    An empty string when an unverified writer typed nothing (the write then refuses, asking for a name).
    """
    if reviewer.verified:
        assert reviewer.name is not None
        return reviewer.name
    typed = typed.strip()
    return f"{typed[: NAME_MAX - len(_UNVERIFIED)]}{_UNVERIFIED}" if typed else ""


def identity_panel(reviewer: Reviewer) -> None:
    """The sidebar's line about the viewer, with the log-in or log-out button where OIDC is configured."""
    if reviewer.source == "proxy":
        st.text(f"Reviewer: {reviewer.name} (from the proxy)")
    elif reviewer.source == "oidc":
        st.text(f"Reviewer: {reviewer.name} (signed in)")
        if st.button("Log out", key="reviewer_logout"):
            st.logout()
    elif reviewer.source == "unverified":
        st.caption("Writes allowed under a typed, unverified name (--allow-unverified-writes).")
    else:
        if reviewer.can_log_in and st.button("Log in", key="reviewer_login"):
            st.login()
        st.caption("Read-only")
