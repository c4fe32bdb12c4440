"""The exceptions of model-signing-rs, one per kind of failure.

Every exception is a :class:`ModelSigningError` with the library's message
(``str(e)``), its ``kind`` and structured ``details``. The kinds follow the
library's error kinds, and those that the reference raises as ``ValueError``
are ``ValueError`` subclasses here too, so code written for the reference
keeps catching them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from model_signing_rs import _native


class ModelSigningError(Exception):
    """A failure of signing, verifying or hashing."""

    kind: str = "error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class UsageError(ModelSigningError, ValueError):
    """An invalid argument or configuration: fix the call."""

    kind = "usage"


class MalformedInputError(ModelSigningError, ValueError):
    """A signature, payload, key or certificate that is not well formed."""

    kind = "malformed"


class VerificationError(ModelSigningError, ValueError):
    """Verification ran and said no: the signature, the signer, the
    certificate chain or the model's files.

    For a model whose files differ from the signed ones, ``changed`` lists
    ``(name, expected_digest, actual_digest)``, ``missing`` and
    ``unexpected`` the names (shards as ``PATH:START:END``).
    """

    kind = "rejected"

    @property
    def changed(self) -> list[tuple[str, str, str]]:
        return [
            (c["name"], c["expected"], c["actual"]) for c in self.details.get("changed", [])
        ]

    @property
    def missing(self) -> list[str]:
        return list(self.details.get("missing", []))

    @property
    def unexpected(self) -> list[str]:
        return list(self.details.get("unexpected", []))


class PolicyDenied(VerificationError):
    """A verification policy denied the model (``verify_policy``): ``decision``
    is the whole decision, with every rule, its status and why (the object
    ``model-signing verify --policy --json`` prints, docs/json.md)."""

    @property
    def decision(self) -> dict[str, Any]:
        return self.details

    @property
    def failed_rules(self) -> list[dict[str, Any]]:
        return [r for r in self.details.get("rules", []) if r.get("status") != "pass"]


class EnvironmentFailure(ModelSigningError, OSError):
    """The environment failed: a file that cannot be read or written, a
    model that is not there, a token, a network service."""

    kind = "environment"


class InternalError(ModelSigningError, RuntimeError):
    """A defect of this package (please report it)."""

    kind = "internal"


_BY_KIND: dict[str, type[ModelSigningError]] = {
    cls.kind: cls
    for cls in (UsageError, MalformedInputError, VerificationError, EnvironmentFailure, InternalError)
}


def _convert(error: _native.NativeError) -> ModelSigningError:
    kind, message, details = error.args
    cls = _BY_KIND.get(kind, ModelSigningError)
    parsed = json.loads(details) if details else None
    return cls(message, parsed if isinstance(parsed, dict) else None)


_T = TypeVar("_T")


def _call(function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Calls a native function, raising this module's exceptions."""
    try:
        return function(*args, **kwargs)
    except _native.NativeError as e:
        raise _convert(e) from None


def _raise_usage(message: str) -> NoReturn:
    raise UsageError(message)
