"""Schemathesis over /api/openapi.json, in-process: no input gets a 5xx, every response matches the document.

Driven through Hypothesis directly: schemathesis' pytest plugin (4.x) does not run under pytest 9.
"""
from __future__ import annotations

import gc
import warnings
from contextlib import contextmanager

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_headers_conformance, response_schema_conformance, status_code_conformance,
)

from engine.accounts.users import add_user
from tests.api import probes
from tests.api.conftest import PASSWORD, make_app, seed, token_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXAMPLES_PER_OPERATION = 10  # per generation mode and backend; keeps the file well under a minute


def test_no_input_gets_a_server_error_and_every_response_matches_the_document(svc, tmp_path):
    seed(svc)
    app = make_app(svc, tmp_path)
    # A little of everything, so generated ids sometimes hit real rows.
    probes.claimed_task(svc, "admin")
    probes.errored_case(svc)
    probes.attachment(svc, app.extensions["expediente.attachments"])
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    failures = []
    with _downloads_left_open():
        _fuzz(svc, operations, failures)
    assert not failures, "\n\n".join(failures)


def _fuzz(svc, operations, failures: list) -> None:
    for operation in operations:
        # Fuzzed calls may revoke the admin's token or demote him: every operation starts as a fresh admin.
        add_user(svc, "admin", "admin", PASSWORD, replace=True)
        auth = {"Authorization": f"Bearer {token_for(svc, 'admin')}"}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def call(case):
                case.call_and_validate(headers=auth, checks=CHECKS)
            try:
                call()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to break in an operation without inputs
            except Exception as exc:  # collect them all: one report names every failing operation
                failures.append(f"{operation.label} [{mode.value}]: {exc}")


@contextmanager
def _downloads_left_open():
    """Schemathesis' WSGI client never closes a download's file (servers do, in production): drop them here,
    once for the whole run (a full collection per operation cost more than the calls themselves)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            yield
        finally:
            gc.collect()
