"""Signing models: the reference's ``model_signing.signing``.

Sign with the default configuration (Sigstore)::

    model_signing_rs.signing.sign("finbert", "finbert.sig")

or configure the signer first::

    model_signing_rs.signing.Config().use_elliptic_key_signer(private_key="key").sign(
        "finbert", "finbert.sig"
    )

Differences from the reference: the signature file is left out of the
model it signs when it lies inside it; Sigstore signing takes its identity
token from ``identity_token``, ``SIGSTORE_ID_TOKEN`` or ambient credentials
(there is no interactive login from Python yet); keys may also be RSA or
Ed25519 (see the README's key types).
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


def sign(model_path: hashing.PathLike, signature_path: hashing.PathLike) -> None:
    """Signs a model with the default configuration (Sigstore, files,
    SHA-256).

    Args:
        model_path: The path to the model to sign.
        signature_path: Where to write the signature.
    """
    Config().sign(model_path, signature_path)


class Config:
    """How to sign: the hashing configuration and the signer."""

    def __init__(self) -> None:
        self._hashing_config = hashing.Config()
        self._signer: dict[str, Any] | None = None
        self._tsa_urls: list[str] = []

    def sign(self, model_path: hashing.PathLike, signature_path: hashing.PathLike) -> None:
        """Signs a model and writes the signature (atomically).

        Args:
            model_path: The path to the model to sign.
            signature_path: Where to write the signature.
        """
        if self._signer is None:
            self.use_sigstore_signer()
        model = hashing._fspath(model_path)
        signature = hashing._fspath(signature_path)
        spec = self._hashing_config._spec()
        errors._call(
            _native.sign,
            model,
            signature,
            json.dumps(spec),
            json.dumps(self._signer),
            list(self._tsa_urls),
        )

    def set_hashing_config(self, hashing_config: hashing.Config) -> Self:
        """Sets how the model is hashed.

        Returns:
            This configuration.
        """
        self._hashing_config = hashing_config
        return self

    def set_timestamp_authorities(self, urls: Iterable[str]) -> Self:
        """Adds an RFC 3161 timestamp from each of these authorities to key,
        certificate and PKCS #11 signatures (``--tsa-url``).

        Returns:
            This configuration.
        """
        self._tsa_urls = [str(u) for u in urls]
        return self

    def use_sigstore_signer(
        self,
        *,
        oidc_issuer: str | None = None,
        use_ambient_credentials: bool = False,
        use_staging: bool = False,
        force_oob: bool = False,
        identity_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        trust_config: pathlib.Path | None = None,
    ) -> Self:
        """Signs with Sigstore: a short-lived certificate for an identity
        token, logged in the transparency log.

        The token is ``identity_token``, else ``SIGSTORE_ID_TOKEN``, else the
        CI environment's (with ``use_ambient_credentials``), else an
        interactive login with the instance's identity provider: a browser
        opens (``webbrowser``) and returns the code to a listener on
        127.0.0.1, or, with ``force_oob`` or no browser, the login URL is
        printed to ``sys.stderr`` and the code read with ``input()``. The
        login runs when the model is hashed, before the signature is made.

        Args:
            oidc_issuer: The identity provider of the login (default: the
              instance's).
            use_ambient_credentials: Take the token from the CI environment.
            use_staging: Sign with Sigstore's staging instance.
            force_oob: Log in out of band, without a browser.
            identity_token: The OIDC identity token.
            client_id: The OAuth client of the login (default ``sigstore``).
            client_secret: Its secret, for a provider whose client has one.
            trust_config: A ClientTrustConfig file of another instance.

        Returns:
            This configuration.
        """
        self._signer = {
            "kind": "sigstore",
            "identity_token": identity_token,
            "use_staging": use_staging,
            "trust_config": None if trust_config is None else hashing._fspath(trust_config),
            "use_ambient_credentials": use_ambient_credentials,
            "oidc_issuer": oidc_issuer,
            "force_oob": force_oob,
            "client_id": client_id,
            "client_secret": client_secret,
        }
        return self

    def use_elliptic_key_signer(
        self, *, private_key: hashing.PathLike, password: str | None = None
    ) -> Self:
        """Signs with a private key (PEM; ECDSA P-256/P-384/P-521, RSA or
        Ed25519).

        Args:
            private_key: The private key file.
            password: Its password, when it is encrypted.

        Returns:
            This configuration.
        """
        self._signer = {
            "kind": "key",
            "private_key": hashing._fspath(private_key),
            "password": password,
        }
        return self

    def use_certificate_signer(
        self,
        *,
        private_key: hashing.PathLike,
        signing_certificate: hashing.PathLike,
        certificate_chain: Iterable[hashing.PathLike],
    ) -> Self:
        """Signs with a private key and its certificate; the signature
        carries the certificate and the chain above it.

        Args:
            private_key: The private key file.
            signing_certificate: The certificate issued for the key.
            certificate_chain: Certificate files above it.

        Returns:
            This configuration.
        """
        self._signer = {
            "kind": "certificate",
            "private_key": hashing._fspath(private_key),
            "password": None,
            "signing_certificate": hashing._fspath(signing_certificate),
            "certificate_chain": [hashing._fspath(c) for c in certificate_chain],
        }
        return self

    def use_pkcs11_signer(
        self, *, pkcs11_uri: str, module_paths: Iterable[str] = frozenset()
    ) -> Self:
        """Signs with a key on a PKCS #11 token.

        Args:
            pkcs11_uri: The RFC 7512 URI of the key (the PIN from the URI,
              its ``pin-source`` or ``MODEL_SIGNING_PKCS11_PIN``).
            module_paths: The module (a file) or directories to find the
              URI's ``module-name`` in.

        Returns:
            This configuration.
        """
        self._signer = {
            "kind": "pkcs11",
            "uri": pkcs11_uri,
            "module_paths": [hashing._fspath(m) for m in module_paths],
        }
        return self

    def use_pkcs11_certificate_signer(
        self,
        *,
        pkcs11_uri: str,
        signing_certificate: pathlib.Path,
        certificate_chain: Iterable[pathlib.Path],
        module_paths: Iterable[str] = frozenset(),
    ) -> Self:
        """Signs with a key on a PKCS #11 token and its certificate.

        Args:
            pkcs11_uri: The RFC 7512 URI of the key.
            signing_certificate: The certificate issued for the token key.
            certificate_chain: Certificate files above it.
            module_paths: The module (a file) or directories to find it in.

        Returns:
            This configuration.
        """
        self._signer = {
            "kind": "pkcs11_certificate",
            "uri": pkcs11_uri,
            "module_paths": [hashing._fspath(m) for m in module_paths],
            "signing_certificate": hashing._fspath(signing_certificate),
            "certificate_chain": [hashing._fspath(c) for c in certificate_chain],
        }
        return self
