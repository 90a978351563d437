"""The domain errors of zeroloop, in one place.

Each says what was asked, what was found and what would be valid. The HTTP layer maps them to status codes
(``HTTP_STATUS``); everything else that escapes a route is a bug (500).
"""

from __future__ import annotations


class ZeroloopError(Exception):
    """Base of every error zeroloop raises on purpose."""


class NotFound(ZeroloopError, LookupError):
    """Something asked for by id does not exist."""


class ModelNotFound(NotFound):
    pass


class JobNotFound(NotFound):
    pass


class RunNotFound(NotFound):
    """No run of that name for the config key (runs are started with a fork, or are ``main``)."""


class AlreadyExists(ZeroloopError):
    """An id that must be new is taken."""


class InvalidTransition(ZeroloopError):
    """A model stage change the transition table forbids."""


class PromotionRejected(ZeroloopError):
    """A promotion policy refused the evidence given."""


class InvalidConfig(ZeroloopError, ValueError):
    """User input (a config, a key, a number) is malformed or out of range."""


class ArtifactOutsideHome(InvalidConfig):
    """A file to be recorded lies outside the data directory, so a copy of the directory would lose it."""


class ChecksumMismatch(ZeroloopError):
    """A stored artifact does not match its recorded sha256."""


class NodeUnreachable(ZeroloopError, ConnectionError):
    """No zeroloop node answers at the given address."""


HTTP_STATUS: dict[type[Exception], int] = {
    NotFound: 404,
    AlreadyExists: 409,
    InvalidTransition: 409,
    PromotionRejected: 409,
    InvalidConfig: 422,
    ValueError: 422,
}


def http_status(exc: Exception) -> int | None:
    """The status code for a domain error, or None when the error is not a known one (a bug: 500)."""
    for cls in type(exc).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return None
