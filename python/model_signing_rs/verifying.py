"""Verifying models: the reference's ``model_signing.verifying``.

::

    model_signing_rs.verifying.Config().use_elliptic_key_verifier(
        public_key="key.pub"
    ).verify("finbert", "finbert.sig")

``verify`` returns nothing and raises
:class:`model_signing_rs.errors.VerificationError` (a ``ValueError``) when
the signature, the signer or the model does not verify.

Difference from the reference: the model is always hashed as the signature
says it was signed (method, hash, shard size, ignore paths, links), never
with a configuration the caller sets or guesses; a hashing configuration
given with :meth:`Config.set_hashing_config` only adds paths to leave out.
So signatures made per shard or with BLAKE2/BLAKE3 verify here without
telling how they were made.
"""

from __future__ import annotations

import json
import pathlib
import sys
from collections.abc import Iterable
from typing import Any

from model_signing_rs import _native, errors, hashing

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover
    from typing_extensions import Self


class Config:
    """Who must have signed, and how to compare the model."""

    def __init__(self) -> None:
        self._hashing_config: hashing.Config | None = None
        self._verifier: dict[str, Any] | None = None
        self._ignore_unsigned_files = False

    def verify(self, model_path: hashing.PathLike, signature_path: hashing.PathLike) -> None:
        """Verifies the signature and its signer, then that the model's files
        are the signed ones.

        Args:
            model_path: The path to the model.
            signature_path: The path to the signature.

        Raises:
            VerificationError: The signature, its signer or the model does
              not verify (a ``ValueError``).
            UsageError: No verifier was configured (a ``ValueError``).
        """
        if self._verifier is None:
            raise errors.UsageError("Attempting to verify with no configured verifier")
        model = hashing._fspath(model_path)
        extra: list[str] = []
        if self._hashing_config is not None:
            extra = [str(p) for p in self._hashing_config._ignored_paths]
        options = {
            "ignore_unsigned_files": self._ignore_unsigned_files,
            "ignore_paths": extra,
        }
        errors._call(
            _native.verify,
            model,
            hashing._fspath(signature_path),
            json.dumps(self._verifier),
            json.dumps(options),
        )

    def set_hashing_config(self, hashing_config: hashing.Config) -> Self:
        """Sets a hashing configuration: its ignored paths are left out too;
        everything else follows the signature.

        Returns:
            This configuration.
        """
        self._hashing_config = hashing_config
        return self

    def set_ignore_unsigned_files(self, ignore_unsigned_files: bool) -> Self:
        """Checks only the files the signature lists (others are skipped).

        Returns:
            This configuration.
        """
        self._ignore_unsigned_files = ignore_unsigned_files
        return self

    def use_sigstore_verifier(
        self,
        *,
        identity: str,
        oidc_issuer: str,
        use_staging: bool = False,
        trust_config: pathlib.Path | None = None,
    ) -> Self:
        """Verifies Sigstore signatures by `identity` from `oidc_issuer`.

        Args:
            identity: The signer's identity (email, URI), exactly.
            oidc_issuer: The identity provider, exactly.
            use_staging: Trust Sigstore's staging instance.
            trust_config: A ClientTrustConfig file of another instance.

        Returns:
            This configuration.
        """
        self._verifier = {
            "kind": "sigstore",
            "identity": identity,
            "oidc_issuer": oidc_issuer,
            "use_staging": use_staging,
            "trust_config": None if trust_config is None else hashing._fspath(trust_config),
        }
        return self

    def use_elliptic_key_verifier(self, *, public_key: hashing.PathLike) -> Self:
        """Verifies signatures made with the private key of `public_key`.

        Args:
            public_key: The public key file (PEM).

        Returns:
            This configuration.
        """
        self._verifier = {"kind": "key", "public_key": hashing._fspath(public_key)}
        return self

    def use_certificate_verifier(
        self,
        *,
        certificate_chain: Iterable[hashing.PathLike] = frozenset(),
        log_fingerprints: bool = False,
    ) -> Self:
        """Verifies signatures made with a certificate that chains to one of
        these certificates (only they are trusted).

        Args:
            certificate_chain: The trusted certificate files. Unlike the
              reference, there is no fallback to the system's trust store:
              at least one is required.
            log_fingerprints: Accepted for compatibility; no effect.

        Returns:
            This configuration.
        """
        del log_fingerprints
        chain = [hashing._fspath(c) for c in certificate_chain]
        if not chain:
            raise errors.UsageError(
                "give the trusted certificates (certificate_chain): the system trust store is not used"
            )
        self._verifier = {"kind": "certificate", "certificate_chain": chain}
        return self
