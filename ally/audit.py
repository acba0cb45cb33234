"""Recording admin actions. ``record`` adds to the caller's transaction, so an action and
its audit entry are committed (or rolled back) together."""

from flask import has_request_context
from flask import request
from flask_login import current_user

from ally.extensions import db
from ally.models import AuditEntry
from ally.models import User


def record(action: str, target=None, summary: str = "", user: User | None = None) -> AuditEntry:
    """Note that the current user (or ``user``) did ``action`` to ``target``."""
    actor = user or (
        current_user if has_request_context() and current_user.is_authenticated else None
    )
    entry = AuditEntry(
        user_id=actor.id if actor else None,
        actor=actor.email if actor else "",
        action=action,
        object_type=type(target).__name__ if target is not None else "",
        object_id=getattr(target, "id", None),
        summary=summary[:500],
        ip=(request.remote_addr or "")[:64] if has_request_context() else "",
    )
    db.session.add(entry)
    return entry
