"""Schema-driven fuzzing of the three HTTP APIs: whatever a client sends, no 5xx and answers as documented.

schemathesis generates valid and invalid requests from each service's OpenAPI document (with the
admin or conductor bearer token, so the guarded routes are reached too) and checks every answer.
Bounded in examples per operation, deterministic, so the run stays short and repeatable.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

EXAMPLES_PER_OPERATION = 25
TOKENS = {
    "registration": "REGISTRATION_ADMIN_TOKEN",
    "ticketing": "TICKETING_CONDUCTOR_TOKEN",
    "notifications": "NOTIFICATIONS_ADMIN_TOKEN",
}


# Business rules beyond the schema (a check digit, an unknown session) refuse valid-looking data, and
# FastAPI ignores unknown or repeated query parameters by design: neither is a fault. Every other check runs,
# `not_a_server_error` and the response schema and status code conformance among them.
NOT_CHECKED = [positive_data_acceptance, negative_data_rejection]
fuzz = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize("service", TOKENS)
def test_every_operation_answers_without_5xx_and_as_documented(service, services, infra):
    schema = schemathesis.openapi.from_url(f"{services[service]}/openapi.json")
    headers = {"Authorization": f"Bearer {infra[TOKENS[service]]}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    failures = []
    for operation in operations:
        for mode in GenerationMode:

            @fuzz
            @given(case=operation.as_strategy(mode))
            def answers_as_documented(case: schemathesis.Case) -> None:
                case.call_and_validate(headers=headers, timeout=10, excluded_checks=NOT_CHECKED)

            try:
                answers_as_documented()
            except Unsatisfiable:  # nothing in this operation can be made invalid
                pass
            except (Exception, BaseExceptionGroup) as failure:
                failures.append(f"{operation.label} ({mode.value}): {failure}")
    assert len(operations) > 3
    assert not failures, "\n\n".join(failures)
