"""Who is calling: the API key in `Authorization: Bearer <key>` names a principal, its access groups
and optionally a budget account. Nothing in a request can widen them. Failed attempts are counted
per client address (429 past the limit); the key itself is never logged or echoed."""

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from quarry.agent.service.state import ServiceState, service_state
from quarry.corpus.filters import Principal
from quarry.errors import AuthenticationFailed

_SCHEME = "bearer"


@dataclass(frozen=True, kw_only=True, slots=True)
class Caller:
    principal: Principal
    account: str | None
    key_prefix: str
    """The key's public prefix (for logs); never the key."""


async def authenticate(request: Request, state: Annotated[ServiceState, Depends(service_state)]) -> Caller:
    address = request.client.host if request.client else "unknown"
    state.limiter.check(address)
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    key = key.strip()
    if scheme.lower() != _SCHEME or not key:
        state.limiter.fail(address)
        raise AuthenticationFailed(
            "no API key: send 'Authorization: Bearer <key>' (create one with: quarry keys create --principal ID --groups G)"
        )
    found = await asyncio.to_thread(state.keys.verify, key)
    if found is None:
        state.limiter.fail(address)
        raise AuthenticationFailed("the API key is not valid (unknown or revoked); ask an operator for a live one")
    request.state.key_prefix = found.prefix
    return Caller(principal=found.principal, account=found.account, key_prefix=found.prefix)


CallerDep = Annotated[Caller, Depends(authenticate)]
StateDep = Annotated[ServiceState, Depends(service_state)]
