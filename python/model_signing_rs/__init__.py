"""model-signing-rs: sign and verify machine-learning models.

OpenSSF Model Signing (OMS) signatures, made and checked by a Rust library:
the modules ``hashing``, ``signing``, ``verifying`` and ``manifest`` have the
names and behaviour of the Python reference implementation's modules of the
same names (``model_signing`` 1.1.1), so migrating is one changed import::

    from model_signing_rs import signing, verifying  # was: from model_signing

The package's own API is one call each: :func:`sign`, :func:`verify`,
:func:`digest` and :func:`inspect`; :func:`verify_policy` decides a
deployment gate under a verification policy; :func:`open_verified` verifies files
as a loader reads them. Errors are the exceptions of
:mod:`model_signing_rs.errors`; a failed verification is a ``ValueError``,
as with the reference.
"""

from model_signing_rs import errors, hashing, manifest, signing, verifying
from model_signing_rs._api import (
    IncrementalReport,
    SignResult,
    Verification,
    attest,
    digest,
    inspect,
    sign,
    verify,
    verify_policy,
)
from model_signing_rs._loading import VerifiedFile, VerifiedModel, open_verified
from model_signing_rs._native import version as _native_version

__version__: str = _native_version()

__all__ = [
    "IncrementalReport",
    "SignResult",
    "Verification",
    "VerifiedFile",
    "VerifiedModel",
    "__version__",
    "attest",
    "digest",
    "errors",
    "hashing",
    "inspect",
    "manifest",
    "open_verified",
    "sign",
    "signing",
    "verify",
    "verify_policy",
    "verifying",
]
