"""Exceptions raised by the client.

Every error the node answers is a :class:`HyperspaceError` carrying the gRPC status
(``status``, a :class:`grpc.StatusCode`) and the DESIGN.md §5 error code (``code``, e.g.
``"not_found"``) that the node sends in the ``x-error-code`` trailer. The class tells the
code, so ``except NotFoundError`` works as well as ``if e.code == "not_found"``.

Bad arguments caught before anything is sent (a payload that is not a JSON object, an id
outside u64) raise the usual ``TypeError`` / ``ValueError`` instead.
"""

from __future__ import annotations

from typing import Any, Optional

import grpc

__all__ = [
    "HyperspaceError",
    "InvalidArgumentError",
    "UnauthenticatedError",
    "NotFoundError",
    "MethodNotAllowedError",
    "AlreadyExistsError",
    "NotLeaderError",
    "PayloadTooLargeError",
    "UnavailableError",
    "error_from_rpc",
]


class HyperspaceError(Exception):
    """An error answered by the node (or by the transport, when it could not be reached).

    Attributes:
        code: the §5 error code (``invalid_argument``, ``not_found``, …). Taken from the
            node's ``x-error-code`` trailer; when the node sent none (the transport failed,
            e.g. nothing listens at the address) it is derived from the gRPC status.
        status: the gRPC status code, or ``None``.
        message: the node's message.
    """

    code: str
    status: Optional[grpc.StatusCode]
    message: str

    def __init__(
        self, message: str, *, code: str = "unknown", status: Optional[grpc.StatusCode] = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    def __str__(self) -> str:
        status = self.status.name if self.status is not None else "?"
        return f"{self.code} ({status}): {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status}, message={self.message!r})"


class InvalidArgumentError(HyperspaceError):
    """`invalid_argument`: bad input of any kind (wrong dimension, bad name, …)."""


class UnauthenticatedError(HyperspaceError):
    """`unauthenticated`: the API key is missing or wrong."""


class NotFoundError(HyperspaceError):
    """`not_found`: unknown collection or point."""


class MethodNotAllowedError(HyperspaceError):
    """`method_not_allowed` (gRPC UNIMPLEMENTED)."""


class AlreadyExistsError(HyperspaceError):
    """`already_exists`: the collection exists."""


class NotLeaderError(HyperspaceError):
    """`not_leader` (FAILED_PRECONDITION): a write sent to a follower; the message names the leader."""


class PayloadTooLargeError(HyperspaceError):
    """`payload_too_large` (RESOURCE_EXHAUSTED): a size limit of DESIGN.md §8."""


class UnavailableError(HyperspaceError):
    """`unavailable`: the node cannot write, or (with no `x-error-code`) cannot be reached."""


_BY_CODE: dict[str, type[HyperspaceError]] = {
    "invalid_argument": InvalidArgumentError,
    "unauthenticated": UnauthenticatedError,
    "not_found": NotFoundError,
    "method_not_allowed": MethodNotAllowedError,
    "already_exists": AlreadyExistsError,
    "not_leader": NotLeaderError,
    "payload_too_large": PayloadTooLargeError,
    "unavailable": UnavailableError,
}

# The §5 table read backwards, for answers without an `x-error-code` (transport errors).
_CODE_OF_STATUS: dict[grpc.StatusCode, str] = {
    grpc.StatusCode.INVALID_ARGUMENT: "invalid_argument",
    grpc.StatusCode.UNAUTHENTICATED: "unauthenticated",
    grpc.StatusCode.NOT_FOUND: "not_found",
    grpc.StatusCode.UNIMPLEMENTED: "method_not_allowed",
    grpc.StatusCode.ALREADY_EXISTS: "already_exists",
    grpc.StatusCode.FAILED_PRECONDITION: "not_leader",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "payload_too_large",
    grpc.StatusCode.UNAVAILABLE: "unavailable",
}


def _metadata_value(metadata: object, key: str) -> Optional[str]:
    items: Any = metadata or ()
    for item in items:
        k, v = item[0], item[1]
        if k == key:
            return v.decode() if isinstance(v, bytes) else str(v)
    return None


def error_from_status(
    status: Optional[grpc.StatusCode], message: str, trailing_metadata: object
) -> HyperspaceError:
    """Builds the exception for one failed call."""
    code = _metadata_value(trailing_metadata, "x-error-code")
    if code is None:
        if status is not None:
            code = _CODE_OF_STATUS.get(status, status.name.lower())
        else:
            code = "unknown"
    cls = _BY_CODE.get(code, HyperspaceError)
    return cls(message, code=code, status=status)


def error_from_rpc(error: grpc.RpcError) -> HyperspaceError:
    """Converts a :class:`grpc.RpcError` (a failed synchronous call) to a HyperspaceError."""
    # grpc.RpcError itself declares no methods; the errors raised by calls are also
    # grpc.Call (sync) or grpc.aio.AioRpcError, which have these.
    call: Any = error
    status = call.code() if hasattr(call, "code") else None
    details = call.details() if hasattr(call, "details") else None
    trailers = call.trailing_metadata() if hasattr(call, "trailing_metadata") else None
    return error_from_status(status, details or str(error), trailers)
