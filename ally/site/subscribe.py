"""The subscribe banner's form: stores an e-mail once and reveals the discount code."""

import sqlalchemy as sa
from flask import current_app
from flask import jsonify
from flask import render_template
from flask import request
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import EmailField
from wtforms.validators import DataRequired
from wtforms.validators import Email
from wtforms.validators import Length

from ally.extensions import db
from ally.models import Subscriber

from .views import bp


class SubscribeForm(FlaskForm):
    email = EmailField(
        "Email",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired("Enter your e-mail address."),
            Length(max=254),
            Email("Enter a valid e-mail address, like name@example.com."),
        ],
    )


def subscribe_email(email: str, code: str) -> bool:
    """Store ``email`` once (case-insensitively); True when it was new."""
    email = email.strip().lower()
    if db.session.scalar(sa.select(Subscriber.id).where(Subscriber.email == email)):
        return False
    db.session.add(Subscriber(email=email, code=code))
    try:
        db.session.commit()
    except IntegrityError:  # another request stored it first
        db.session.rollback()
        return False
    return True


@bp.route("/subscribe/", methods=["GET", "POST"])
def subscribe():
    """The banner's form. Answers JSON to the banner's script, a page to everyone else."""
    form = SubscribeForm()
    wants_json = request.accept_mimetypes.best == "application/json"
    if form.validate_on_submit():
        code = current_app.config["ALLY_SUBSCRIBE_CODE"]
        is_new = subscribe_email(form.email.data, code)
        if wants_json:
            return jsonify(code=code, new=is_new)
        return render_template("site/subscribe.html", form=form, code=code, is_new=is_new)
    status = 400 if form.is_submitted() else 200
    if wants_json and form.is_submitted():
        errors = [e for field in form for e in field.errors]
        return jsonify(message=errors[0] if errors else "Please try again."), status
    return render_template("site/subscribe.html", form=form, code=None, is_new=False), status
