"""Full definition validation for the API: Conductor's rules plus a parse of every script."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from conductor.api.keys import SANDBOX
from conductor.engine.validation import jq_queries_of, scripts_of, validate_workflow_def
from conductor.errors import FieldError, ValidationFailed
from conductor.services.jq_runner import check_syntax as jq_check_syntax


async def check_workflow_def(app: web.Application, definition: Any, path: str) -> None:
    """Raise ValidationFailed (400) naming every problem; scripts are parsed, never run."""
    errors = [
        FieldError(e.path, e.message, e.invalid_value)
        for e in validate_workflow_def(definition, path)
    ]
    if not errors:
        sandbox = app[SANDBOX]
        for field, code in scripts_of(definition, path):
            problem = await sandbox.check_syntax(code)
            if problem is not None:
                errors.append(FieldError(field, f"Script has a syntax error: {problem}", code))
        for field, query in jq_queries_of(definition, path):
            problem = jq_check_syntax(query)
            if problem is not None:
                errors.append(FieldError(field, f"jq query does not compile: {problem}", query))
    if errors:
        raise ValidationFailed(errors)
