"""Bounds on what a request may send and on what an error answer echoes back.

Job configs and promotions are a few KB: a larger body is abuse. The cap is counted on the bytes received, so a
chunked body (no Content-Length) is held to it as well. Validation errors quote the input they refused; the quote
is cut to ``ECHO_CHARS``, so a megabyte of bad input never comes back as a megabyte of answer.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.encoders import jsonable_encoder
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1 << 20
ECHO_CHARS = 300
# Messages quote what they refused too ("unknown model stage '...'"), next to the valid choices: room for those.
MESSAGE_CHARS = 1000


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once the body passes the cap. An ``HTTPException``, so FastAPI's body parsing lets
    it through (any other error there becomes a 400) and its exception handler answers 413."""

    def __init__(self, max_bytes: int):
        super().__init__(
            413, detail=f"request body over {max_bytes} bytes (or a bad Content-Length): refused"
        )


class BodyLimit:
    """ASGI middleware: 413 for a body declared or received over ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        # isascii: str.isdigit also takes digits int() refuses ('²'), which a header may carry in latin-1.
        if declared is not None and not (
            declared.isascii() and declared.isdigit() and int(declared) <= self.max_bytes
        ):
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:  # the route answered before it read everything: nothing more to say
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse({"detail": BodyTooLarge(self.max_bytes).detail}, status_code=413)
        await response(scope, receive, send)


def brief(value: Any, limit: int = ECHO_CHARS) -> Any:
    """``value`` as it is when its JSON is short and finite; else that JSON (or its repr) as text, cut to
    ``limit`` characters and saying how long it was."""
    if isinstance(value, BaseException):  # pydantic's ctx holds the error a validator raised
        value = str(value)
    try:
        encoded = jsonable_encoder(value)
        text = (
            encoded if isinstance(encoded, str) else json.dumps(encoded, allow_nan=False, ensure_ascii=False)
        )
    except (TypeError, ValueError):  # NaN or infinity (not JSON), or an object JSON cannot hold
        encoded, text = None, repr(value)
    if encoded is not None and len(text) <= limit:
        return encoded
    return brief_text(text, limit)


def brief_text(text: str, limit: int = MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def brief_message(text: str, limit: int = MESSAGE_CHARS) -> str:
    """A message cut to about ``limit`` characters in its middle: the quoted input there goes, the start (what
    was wrong) and the end (often what would be valid) stay."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]} ... ({len(text) - 2 * half} characters cut) ... {text[-half:]}"


def brief_errors(errors: list[dict[str, Any]], limit: int = ECHO_CHARS) -> list[dict[str, Any]]:
    """Validation errors with each ``input``, ``ctx`` value and ``loc`` name cut by ``brief``, and each ``msg``
    (a validator's message may quote its input) by ``brief_message``."""
    out = []
    for error in errors:
        error = dict(error)
        if "input" in error:
            error["input"] = brief(error["input"], limit)
        if isinstance(error.get("ctx"), dict):
            error["ctx"] = {k: brief(v, limit) for k, v in error["ctx"].items()}
        if isinstance(error.get("msg"), str):
            error["msg"] = brief_message(error["msg"])
        if "loc" in error:  # a key of the body is part of the location
            error["loc"] = [brief_text(p, limit) if isinstance(p, str) else p for p in error["loc"]]
        out.append(error)
    return out
