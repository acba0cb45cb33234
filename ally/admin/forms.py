"""WTForms for the admin's simple records. Pages use :mod:`ally.content` instead, the one
validation path they share with import and the API."""

from decimal import Decimal
from decimal import InvalidOperation

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from wtforms import BooleanField
from wtforms import EmailField
from wtforms import PasswordField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms import ValidationError
from wtforms.validators import DataRequired
from wtforms.validators import Email
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import Regexp

from ally.models import Role
from ally.models.pages import SLUG_PATTERN


def strip(value):
    return value.strip() if isinstance(value, str) else value


SLUG = [
    DataRequired(),
    Length(max=80),
    Regexp(SLUG_PATTERN, message="Use lower-case letters, digits and single hyphens."),
]


class LoginForm(FlaskForm):
    email = EmailField("Email", filters=[strip], validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def dollars_to_cents(text: str) -> int:
    """``"24.99"`` or ``"$1,024.5"`` → cents; refuses negatives and fractions of a cent."""
    cleaned = text.strip().lstrip("$").replace(",", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("Enter a price like 24.99.") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("The price cannot be negative.")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("Prices have at most two decimals (cents).")
    if amount > Decimal("100000"):
        raise ValueError("The price must be at most $100,000.00.")
    return int(amount * 100)


class ProductForm(FlaskForm):
    name = StringField("Name", filters=[strip], validators=[DataRequired(), Length(max=200)])
    slug = StringField("Slug", filters=[strip], validators=SLUG)
    price = StringField("Price (USD)", filters=[strip], validators=[DataRequired()])
    description = TextAreaField("Description", filters=[strip], validators=[Length(max=2000)])
    active = BooleanField("On sale", default=True)

    def validate_price(self, field):
        try:
            self.price_cents = dollars_to_cents(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None


class CategoryForm(FlaskForm):
    name = StringField("Name", filters=[strip], validators=[DataRequired(), Length(max=100)])
    slug = StringField("Slug", filters=[strip], validators=SLUG)
    description = TextAreaField("Description", filters=[strip], validators=[Length(max=1000)])


class ImageUploadForm(FlaskForm):
    file = FileField("Image file", validators=[FileRequired("Choose an image to upload.")])
    title = StringField("Title", filters=[strip], validators=[DataRequired(), Length(max=255)])
    alt = StringField(
        "Alt text",
        filters=[strip],
        validators=[
            DataRequired("Describe the image for people who cannot see it."),
            Length(max=255),
        ],
    )


class ImageEditForm(FlaskForm):
    title = StringField("Title", filters=[strip], validators=[DataRequired(), Length(max=255)])
    alt = StringField("Alt text", filters=[strip], validators=[DataRequired(), Length(max=255)])


ROLE_CHOICES = [SelectChoice(r.value, r.value.capitalize()) for r in Role]


class UserCreateForm(FlaskForm):
    email = EmailField(
        "Email", filters=[strip], validators=[DataRequired(), Email(), Length(max=254)]
    )
    name = StringField("Name", filters=[strip], validators=[Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.AUTHOR.value)
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=200)])


class UserEditForm(FlaskForm):
    name = StringField("Name", filters=[strip], validators=[Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    is_active = BooleanField("Active (can log in)")
    password = PasswordField(
        "New password",
        validators=[Optional(), Length(min=8, max=200)],
        description="Leave empty to keep the current password.",
    )
