"""Verify while loading: :func:`open_verified`.

Verifying a model and then loading it reads every byte twice. A loader that
reads each file once, from start to end, can verify as it reads:
:func:`open_verified` verifies the signature and the signer (no hashing),
then :meth:`VerifiedModel.open` gives file objects that hash what they hand
out. The read that completes a file (or a shard) whose digest differs raises
:class:`~model_signing_rs.errors.VerificationError` instead of returning its
bytes, and so does every later read; ``close()`` raises when the file was
not read to the end (its rest was not verified), unless
``allow_unread_rest=True``.

Only for formats whose loading executes nothing: safetensors, GGUF, raw
tensors, JSON, text. The bytes returned before the failing read are not yet
verified, so discard what was built from them when it fails. Pickle-based
formats (PyTorch ``.bin``/``.pt``/``.pth``, ``.ckpt``, ``.pkl``, joblib) run
code while they are parsed, before the read that would detect tampering:
verify those with :func:`~model_signing_rs.verify` before opening them.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from typing import Self
    else:
        from typing_extensions import Self

from model_signing_rs import _api, _native, errors, hashing

_CHUNK = 1 << 20


class VerifiedFile(io.RawIOBase):
    """A signed file of a model, verified as it is read (binary, sequential,
    not seekable). Wrap it in :class:`io.BufferedReader` for small reads."""

    def __init__(self, native: _native.VerifiedReader, name: str, allow_unread_rest: bool) -> None:
        super().__init__()
        self._native = native
        self._name = name
        self._allow_unread_rest = allow_unread_rest

    @property
    def name(self) -> str:
        """The file, as the signature lists it."""
        return self._name

    @property
    def size(self) -> int:
        """Its size in bytes."""
        return self._native.position()[1]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        view = memoryview(buffer).cast("B")
        data = errors._call(self._native.read, len(view))
        view[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        if size is None or size < 0:
            return self.readall()
        return errors._call(self._native.read, size)

    def readall(self) -> bytes:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        return errors._call(self._native.read_rest)

    def close(self) -> None:
        """Ends the reading; raises when the file did not match its
        signature, or was not read to the end (unless
        ``allow_unread_rest``)."""
        if self.closed:
            return
        try:
            errors._call(self._native.finish, self._allow_unread_rest)
        finally:
            super().close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            # An error is already on its way: do not hide it behind the
            # "not read to the end" of an abandoned file.
            try:
                self.close()
            except errors.ModelSigningError:
                pass


class VerifiedModel:
    """A model whose signature and signer were verified; its files are
    verified as they are read (:meth:`open`)."""

    def __init__(self, native: _native.VerifiedModel) -> None:
        self._native = native
        info: dict[str, Any] = json.loads(native.info())
        self.signer: dict[str, Any] = info["signer"]
        """Who signed (as :attr:`~model_signing_rs.Verification.signer`)."""
        self.signed_at: int | None = info["signed_at"]
        """The signing time from a verified log entry or timestamp."""
        self.warnings: list[str] = list(info["warnings"])
        """What is worth telling."""
        self.digest: str = f"sha256:{info['digest']}"
        """The subject digest of the signed payload."""
        self.files: list[str] = list(info["files"])
        """The files the signature lists, in signing order."""

    def open(self, name: str, *, allow_unread_rest: bool = False) -> VerifiedFile:
        """Opens the file `name` (as the signature lists it, relative to the
        model directory) to be read while it is verified.

        Raises:
            VerificationError: The signature does not list the file, it is
              missing, or (shards) its size is not the signed one.
        """
        if not isinstance(name, str):
            raise errors.UsageError(f"a file name is a str, not {type(name).__name__}")
        return VerifiedFile(errors._call(self._native.open, name), name, allow_unread_rest)


def open_verified(
    model: hashing.PathLike,
    signature: hashing.PathLike = "model.sig",
    *,
    key: hashing.PathLike | None = None,
    certificate_chain: Iterable[hashing.PathLike] | None = None,
    identity: str | None = None,
    issuer: str | None = None,
    trust_config: hashing.PathLike | None = None,
    tsa_certificate_chain: Iterable[hashing.PathLike] = (),
) -> VerifiedModel:
    """Verifies a model's signature and signer, without hashing the model,
    and returns it for verified reading (see the module documentation).

    The verifier arguments are :func:`~model_signing_rs.verify`'s: exactly
    one of ``key``, ``certificate_chain`` or ``identity`` with ``issuer``.

    Example::

        model = ms.open_verified("model", "model.sig", key="key.pub")
        with model.open("model.safetensors") as f:
            tensors = safetensors.numpy.load(f.read())

    Raises:
        VerificationError: The signature or the signer does not verify.
    """
    verifier = _api._verifier_spec(
        key, certificate_chain, identity, issuer, trust_config, tsa_certificate_chain
    )
    native = errors._call(
        _native.open_verified,
        hashing._fspath(model),
        hashing._fspath(signature),
        json.dumps(verifier),
    )
    return VerifiedModel(native)
