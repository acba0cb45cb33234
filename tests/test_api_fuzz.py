"""A schema-driven fuzzer (Schemathesis) over every /api/v2/ operation: no 500s, and no
status code, content type or body outside the OpenAPI document the API serves."""

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.checks import status_code_conformance

from ally import create_app
from ally.api import openapi

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _document() -> dict:
    # The document depends only on configuration; the real app serves the same one (below).
    with create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}).app_context():
        return openapi.build()


schema = schemathesis.openapi.from_dict(_document())


def test_served_document_is_the_fuzzed_one(client, db_session):
    assert client.get("/api/v2/openapi.json").json == schema.raw_schema


@pytest.fixture
def seeded(demo_site, db_session):
    db_session.commit()


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_its_openapi_document(case, app, seeded, db_session):
    case.call_and_validate(checks=CHECKS, app=app)
    db_session.rollback()
