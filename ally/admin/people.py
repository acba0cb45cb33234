"""People: admin-site users (admins only) and the newsletter's subscribers."""

import csv
import io

import sqlalchemy as sa
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_login import current_user

from ally import audit
from ally.extensions import db
from ally.models import AuditEntry
from ally.models import Subscriber
from ally.models import User
from ally.site.paging import page_number_arg
from ally.site.paging import paginate

from .base import bp
from .base import requires
from .editor import to_local_input
from .forms import UserCreateForm
from .forms import UserEditForm


@bp.get("/users/")
@requires("users")
def user_list():
    users = db.session.scalars(sa.select(User).order_by(User.email)).all()
    return render_template("admin/users/list.html", users=users)


@bp.route("/users/add/", methods=["GET", "POST"])
@requires("users")
def user_create():
    """Invite someone by creating their account; tell them the password another way."""
    form = UserCreateForm()
    if form.validate_on_submit():
        email = form.email.data.lower()
        if db.session.scalar(sa.select(User.id).where(User.email == email)):
            form.email.errors.append("A user with this e-mail already exists.")
        else:
            user = User(email=email, name=form.name.data, role=form.role.data)
            user.set_password(form.password.data)
            db.session.add(user)
            db.session.flush()
            audit.record("user_create", user, f"{user.email} as {user.role}")
            db.session.commit()
            flash(f"{user.email} can now log in as {user.role}.", "success")
            return redirect(url_for("admin.user_list"), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("admin/users/edit.html", form=form, user=None), status


@bp.route("/users/<int:user_id>/", methods=["GET", "POST"])
@requires("users")
def user_edit(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserEditForm(obj=user)
    if form.validate_on_submit():
        if user.id == current_user.id and (form.role.data != "admin" or not form.is_active.data):
            form.role.errors.append("You cannot remove your own admin access.")
        else:
            user.name, user.role, user.is_active = (
                form.name.data,
                form.role.data,
                form.is_active.data,
            )
            if form.password.data:
                user.set_password(form.password.data)
            changes = ", ".join(
                f"{k}={v}" for k, v in (("role", user.role), ("active", user.is_active))
            )
            reset = "; password reset" if form.password.data else ""
            audit.record("user_update", user, f"{user.email}: {changes}{reset}")
            db.session.commit()
            flash(f"{user.email} saved.", "success")
            return redirect(url_for("admin.user_list"), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("admin/users/edit.html", form=form, user=user), status


@bp.get("/subscribers/")
@requires("subscribers")
def subscriber_list():
    subscribers = db.session.scalars(sa.select(Subscriber).order_by(Subscriber.id.desc())).all()
    return render_template("admin/users/subscribers.html", subscribers=subscribers)


@bp.get("/subscribers.csv")
@requires("subscribers")
def subscriber_export():
    """Subscribers as CSV for the mailing tool; cells never start a spreadsheet formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "code", "subscribed_at"])
    for row in db.session.scalars(sa.select(Subscriber).order_by(Subscriber.id)):
        writer.writerow(
            [
                _safe_cell(row.email),
                _safe_cell(row.code),
                to_local_input(row.created_at).replace("T", " "),
            ]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=ally-subscribers.csv"},
    )


def _safe_cell(value: str) -> str:
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@bp.get("/audit/")
@requires("users")
def audit_log():
    """Every admin action, newest first: who, what, when, and from which address."""
    entries = paginate(sa.select(AuditEntry).order_by(AuditEntry.id.desc()), page_number_arg(), 50)
    return render_template("admin/users/audit.html", entries=entries)
