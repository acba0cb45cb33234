"""``flask --app wsgi …`` commands for authors' data and for ops."""

import json
import secrets
import sys

import click
import sqlalchemy as sa
from flask import Flask

from ally import demo
from ally import pages_io
from ally import tree
from ally.extensions import cache
from ally.extensions import db
from ally.models import Page
from ally.models import Product
from ally.models import Role
from ally.models import User
from ally.models import references


@click.command("seed-demo")
def seed_demo_command():
    """Load the ALLY Essentials demo site; running it again changes nothing."""
    product_ids = {data["slug"]: _upsert_product(data).id for data in demo.PRODUCTS}
    document = demo.site_document(product_ids)
    existing = set(db.session.scalars(sa.select(Page.url_path)))
    document["pages"] = [p for p in document["pages"] if _path_of(p) not in existing]
    created = pages_io.import_site(document)
    db.session.commit()
    click.echo(f"Demo content: {len(created)} page(s) created, {len(existing)} already there.")
    if db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0:
        password = secrets.token_urlsafe(12)
        _create_user("admin@ally.example", Role.ADMIN, password)
        click.echo(f"Demo admin created: admin@ally.example / {password}")


def _upsert_product(data: dict) -> Product:
    product = db.session.scalar(sa.select(Product).where(Product.slug == data["slug"]))
    if product is None:
        fields = {k: v for k, v in data.items() if k != "id"}
        product = Product(**fields)
        db.session.add(product)
        db.session.flush()
    return product


def _path_of(page: dict) -> str:
    return "/" if page["parent"] is None else f"{page['parent']}{page['slug']}/"


@click.command("create-user")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.AUTHOR.value,
    show_default=True,
)
@click.option("--password", help="Prompted for (hidden, twice) when not given.")
def create_user_command(email: str, role: str, password: str | None):
    """Create an admin-site user."""
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("enter an e-mail address", param_hint="EMAIL")
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise click.ClickException(f"A user with the e-mail {email} already exists.")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise click.ClickException("The password must have at least 8 characters.")
    _create_user(email, Role(role), password)
    click.echo(f"Created {role} {email}.")


def _create_user(email: str, role: Role, password: str) -> User:
    user = User(email=email, role=role.value)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


@click.command("publish-scheduled")
def publish_scheduled_command():
    """Publish pages whose go-live time has come; unpublish expired ones (run from cron)."""
    published, expired = tree.publish_scheduled()
    db.session.commit()
    click.echo(f"Published {published}, unpublished {expired} expired page(s).")


@click.command("purge-cache")
def purge_cache_command():
    """Empty the page cache (every host's, when they share Redis).

    Saves purge what they change on their own; this is for the database edited by hand, or
    a store that was unreachable while something was saved.
    """
    cache.clear()
    click.echo("Page cache emptied.")


@click.command("rebuild-references")
def rebuild_references_command():
    """Record again which products every page's body promotes, in one transaction.

    Saves keep the record (``page_products``) up to date; this is for bodies written around
    ALLY (SQL by hand, a partial restore) or by an older release while it was being
    migrated. A stale record costs its page a query, never the wrong products.
    """
    pages, after = 0, 0
    while batch := db.session.execute(
        sa.select(Page.id, Page.body_json).where(Page.id > after).order_by(Page.id).limit(1000)
    ).all():
        references.record(db.session.connection(), dict(batch))
        pages, after = pages + len(batch), batch[-1].id
    db.session.commit()
    click.echo(f"Recorded the products of {pages} page(s).")


@click.command("export-pages")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Default: stdout.")
def export_pages_command(out: str | None):
    """Write every page (with categories and products) as JSON."""
    text = json.dumps(pages_io.export_site(), indent=2, ensure_ascii=False)
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        click.echo(f"Exported to {out}.", err=True)
    else:
        click.echo(text)


@click.command("import-pages")
@click.argument("file", type=click.File("rb"))
def import_pages_command(file):
    """Import pages from JSON in one transaction: one bad page and nothing is imported."""
    try:
        document = json.loads(file.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.ClickException(f"{file.name} is not valid UTF-8 JSON: {error}") from None
    try:
        pages = pages_io.import_site(document)
    except pages_io.PagesImportError as error:
        db.session.rollback()
        click.echo(f"Error: {error}\nNothing was imported.", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Imported {len(pages)} page(s).")


@click.command("seed-bench")
@click.option("--posts", type=click.IntRange(1, 1_000_000), default=1000, show_default=True)
def seed_bench_command(posts: int):
    """Fill the blog with realistic posts for benchmarks (after seed-demo)."""
    from ally import bench_data

    added = bench_data.seed_posts(posts)
    click.echo(f"Bench posts: {added} added, {posts} in all.")


def init_app(app: Flask) -> None:
    for command in (
        seed_demo_command,
        create_user_command,
        publish_scheduled_command,
        purge_cache_command,
        rebuild_references_command,
        export_pages_command,
        import_pages_command,
        seed_bench_command,
    ):
        app.cli.add_command(command)
