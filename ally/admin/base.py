"""The admin blueprint, its login guard and the role → permission table.

Every admin URL requires a logged-in, active user (anonymous → the login page with a
same-site ``next``); each view then names the permission it needs (a role without it → 403).
"""

from functools import wraps

from flask import Blueprint
from flask import abort
from flask import redirect
from flask import request
from flask import url_for
from flask_login import current_user

from ally.models import Page
from ally.models import Role

bp = Blueprint("admin", __name__, url_prefix="/admin")

# What each role may do. Authors write and save drafts of their own pages; editors
# publish and run the catalogue; admins also manage people.
PERMISSIONS: dict[str, set[Role]] = {
    "pages.edit_any": {Role.ADMIN, Role.EDITOR},
    "pages.publish": {Role.ADMIN, Role.EDITOR},
    "pages.structure": {Role.ADMIN, Role.EDITOR},  # move and delete
    "images": {Role.ADMIN, Role.EDITOR, Role.AUTHOR},
    "catalog": {Role.ADMIN, Role.EDITOR},  # products and categories
    "subscribers": {Role.ADMIN, Role.EDITOR},
    "users": {Role.ADMIN},
}

PUBLIC_ENDPOINTS = {"admin.login"}


def can(permission: str, user=None) -> bool:
    user = user or current_user
    return user.is_authenticated and Role(user.role) in PERMISSIONS[permission]


def requires(permission: str):
    """Refuse the view with 403 unless the current user's role has ``permission``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not can(permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def can_edit(page: Page, user=None) -> bool:
    user = user or current_user
    return can("pages.edit_any", user) or (user.is_authenticated and page.owner_id == user.id)


@bp.before_request
def require_login():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
    return None


@bp.after_request
def never_cache(response):
    """Admin pages show private, changing data: no shared or browser caching."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_template_global("admin_can")
def admin_can(permission: str) -> bool:
    return can(permission)
