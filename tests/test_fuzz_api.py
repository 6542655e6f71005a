"""Schemathesis against /openapi.json of a live `tracuu serve`: a few hundred generated requests,
valid and invalid by the schema; any 5xx, undocumented status or content type, or response body
that violates the schema fails the test. The schema is precise because it comes from the models
that validate: retrieval.contract.SearchParams for the parameters, SearchResult and the web app's own
models (search_api.schemas) for the responses.

Set TRACUU_FUZZ_EXAMPLES for a longer run (the default keeps the suite quick)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("TRACUU_FUZZ_EXAMPLES", "150"))  # per generation mode, over all operations
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_matches_its_schema(live_server, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(live_server.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {"GET /api/search", "GET /", "GET /health"}
    calls = []

    @given(case=schema.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        checks = CHECKS
        if mode is GenerationMode.NEGATIVE and case.operation.path != "/":
            # What the schema forbids must be refused with a 4xx. Not on the page: a form that shows
            # the search box whatever else the URL carries, and checks the filters only with a query.
            checks = [*CHECKS, negative_data_rejection]
        calls.append(case.call_and_validate(checks=checks, timeout=60).status_code)

    run()
    assert len(calls) >= EXAMPLES // 2
    assert 500 not in calls
