"""Every error the service answers with has one shape, `{"error": {"code", "message", "field"}}`, and
the status its QuarryError class carries (quarry/errors.py). Request ids travel in X-Request-Id."""

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from quarry.errors import QuarryError, TooManyAuthFailures

log = logging.getLogger("quarry.service")

IDENTITY_FIELDS = frozenset({"groups", "principal", "principal_id", "principal_groups", "access_groups", "account"})
"""Fields a request might use to claim an identity; they come only from the API key."""


def problem(status: int, code: str, message: str, field: str | None = None, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "field": field}}, status_code=status, headers=headers or None
    )


def code_of(error: type[BaseException]) -> str:
    """`RunNotFound` → `run_not_found`."""
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", error.__name__).lower().replace("l_l_m", "llm")


def identity_refusal(field: str) -> str:
    return (
        f"the request names '{field}': over HTTP the principal, its groups and its account come only from the "
        "API key (for other groups, use a key created with them: quarry keys create)"
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(QuarryError, _quarry_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


async def _quarry_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, QuarryError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAuthFailures) else {}
    if exc.http_status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    field = getattr(exc, "field", None)
    return problem(
        int(exc.http_status), code_of(type(exc)), str(exc), field if isinstance(field, str) else None, **headers
    )


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, Any]] = list(exc.errors())
    first: dict[str, Any] = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
    field = ".".join(loc) or None
    kind = first.get("type", "")
    if kind == "json_invalid":
        ctx: dict[str, Any] = first.get("ctx") or {}
        return problem(400, "malformed_json", f"the request body is not valid JSON: {ctx.get('error', first['msg'])}")
    if kind == "extra_forbidden" and loc and loc[-1] in IDENTITY_FIELDS:
        return problem(400, "identity_in_request", identity_refusal(loc[-1]), field)
    if kind == "extra_forbidden":
        return problem(400, "unknown_field", f"unknown field '{field}'", field)
    if kind == "missing":
        return problem(400, "missing_field", f"'{field}' is required", field)
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return problem(400, "invalid_request", f"{field}: {message}" if field else message, field)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if isinstance(exc.__cause__, QuarryError):  # FastAPI wraps what reading the body raised (408, 413)
        return await _quarry_error(request, exc.__cause__)
    codes = {404: "not_found", 405: "method_not_allowed", 406: "not_acceptable"}
    return problem(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", "")
    log.exception("request %s failed", request_id)
    return problem(500, "internal_error", f"an unexpected error; quote request id {request_id} to the operator")
