"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi``."""

from ally import create_app

app = create_app()
