"""Logging in and out of the admin."""

from functools import cache

import sqlalchemy as sa
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_login import login_user
from flask_login import logout_user
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from ally import audit
from ally.extensions import db
from ally.extensions import limiter
from ally.models import User
from ally.safe_redirect import same_site_path

from .base import bp
from .forms import LoginForm

THROTTLED = "Too many login attempts. Please wait a few minutes, then try again."


def _account_key() -> str:
    # Keyed on the e-mail as typed, whether or not such an account exists: a lockout
    # must not tell anyone which addresses have accounts.
    return "login-account:" + request.form.get("email", "").strip().lower()[:254]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["ALLY_LOGIN_LIMITS"],
    methods=["POST"],
    key_func=_account_key,
    error_message=THROTTLED,
)
@limiter.limit(
    lambda: current_app.config["ALLY_LOGIN_ADDRESS_LIMITS"],
    methods=["POST"],
    key_func=lambda: "login-address:" + get_remote_address(),
    error_message=THROTTLED,
)
def login():
    target = same_site_path(request.args.get("next"), url_for("admin.dashboard"))
    if current_user.is_authenticated:
        return redirect(target)
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(sa.select(User).where(User.email == form.email.data.lower()))
        ok = user.check_password(form.password.data) if user else _spend_time(form.password.data)
        if ok and user.is_active:
            login_user(user)
            audit.record("login", user, user=user)
            db.session.commit()
            return redirect(target)
        audit.record("login_failed", summary=f"for {form.email.data.lower()[:200]}")
        db.session.commit()
        # One message for every failure: it never tells whether the account exists.
        flash("That e-mail and password don't match an active account.", "error")
        return render_template("admin/login.html", form=form), 401
    return render_template("admin/login.html", form=form), 400 if form.is_submitted() else 200


@cache
def _dummy_hash() -> str:
    return generate_password_hash("not-a-password")


def _spend_time(password: str) -> bool:
    """Check ``password`` against a dummy hash so an unknown e-mail takes as long as a known one."""
    check_password_hash(_dummy_hash(), password)
    return False


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        audit.record("logout", current_user._get_current_object())
        db.session.commit()
    logout_user()
    flash("You are logged out.", "success")
    return redirect(url_for("admin.login"))


@bp.get("/")
def dashboard():
    return redirect(url_for("admin.explore_root"))
