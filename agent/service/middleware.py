"""Plain ASGI middleware (no BaseHTTPMiddleware: it would buffer event streams and hide disconnects):
a request id on every request and response, and a cap on how large and how slow a request body may be."""

import asyncio
import re
import time
import uuid
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quarry.agent.service.problems import problem
from quarry.errors import RequestTimeout, RequestTooLarge

REQUEST_ID = "x-request-id"
_GOOD_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Takes the caller's X-Request-Id when it is a plain token (else makes one), puts it in
    `request.state.request_id` and on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(REQUEST_ID.encode(), b"").decode("latin-1")
        request_id = given if _GOOD_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (REQUEST_ID.encode(), request_id.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


class BodyLimitMiddleware:
    """Refuses a body larger than its path's limit (413: at once when Content-Length says so, else as
    soon as the bytes pass it) or slower than `timeout_s` to arrive whole (408)."""

    def __init__(self, app: ASGIApp, *, limit_for: Callable[[str], int], timeout_s: float) -> None:
        self.app = app
        self.limit_for = limit_for
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = problem(413, "request_too_large", _too_large(int(declared), limit))
            await response(scope, receive, send)
            return
        deadline = time.monotonic() + self.timeout_s
        received = 0
        complete = False

        async def limited_receive() -> Message:
            nonlocal received, complete
            if complete:  # after the body, receive() only waits for the client to leave: no deadline
                return await receive()
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    message = await receive()
            except TimeoutError:
                raise RequestTimeout(
                    f"the request body did not arrive within {self.timeout_s:g} s (service.body_timeout_s)"
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge(_too_large(received, limit, at_least=True))
                complete = not message.get("more_body", False)
            return message

        await self.app(scope, limited_receive, send)


def _too_large(size: int, limit: int, *, at_least: bool = False) -> str:
    told = f"over {limit:,}" if at_least else f"{size:,}"
    return (
        f"the request body is {told} bytes; this endpoint accepts at most {limit:,} "
        "(service.max_body_bytes, or service.max_upload_bytes for uploads)"
    )
