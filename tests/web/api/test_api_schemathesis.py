"""Property-based checks of the JSON API against its own OpenAPI document (schemathesis 4).

Every GET operation is called with generated parameters and a valid token; the
responses must never be server errors and must match the documented schemas,
status codes, content types and headers. Examples are bounded to stay fast.

schemathesis' pytest loader (``schemathesis.pytest.from_fixture``) cannot run
under pytest 9.2 (it sets ``request.node._nodeid``, which pytest 9.2 no longer
has), so each operation's strategy is driven with Hypothesis directly, the
documented way to use schemathesis outside its pytest plugin.
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from residency.domain.accounts import tokens

GET_PATHS = [
    "/api/v1/calls",
    "/api/v1/calls/{call_id}",
    "/api/v1/applications",
    "/api/v1/applications/{application_id}",
    "/api/v1/placements",
    "/api/v1/placements/{placement_id}",
    "/api/v1/funding-applications",
    "/api/v1/funding-applications/{funding_id}",
    "/api/v1/reports/{report_id}",
]


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


# Bounded so the suite stays fast; raise it for a deeper run (RESIDENCY_API_FUZZ_EXAMPLES=500).
MAX_EXAMPLES = int(os.environ.get("RESIDENCY_API_FUZZ_EXAMPLES", "20"))


@pytest.fixture
def api_token(make):
    """A token of a founder with a granted funding application (placement, reports and all),
    so that small generated ids hit records the caller may see as well as ones it may not."""
    from tests.web.funder.test_funding_pages import granted

    _scheme, _startup, founder, _officer, _fa = granted(make)
    make.application(status="submitted")  # another startup's
    return tokens.create(actor=founder, name="schemathesis", days=30).secret


def test_the_document_lists_exactly_these_get_operations(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert sorted(op.path for op in operations if op.method.upper() == "GET") == sorted(GET_PATHS)


@pytest.mark.parametrize("path", GET_PATHS)
def test_get_operation_conforms_to_the_openapi_document(api_schema, api_token, path):
    operation = api_schema[path]["GET"]
    headers = {"Authorization": f"Bearer {api_token}"}

    @given(case=operation.as_strategy())
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    def check(case):
        case.call_and_validate(headers=headers)

    check()
