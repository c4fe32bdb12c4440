"""The native module (Rust): every function releases the GIL."""

import os
from collections.abc import Callable
from typing import TypeAlias

Progress: TypeAlias = Callable[[int, int], object]

class NativeError(Exception):
    """(kind, message, details as JSON)."""

def hash(
    model: str | bytes | os.PathLike[str], spec: str, progress: Progress | None = ...
) -> str: ...
def sign(
    model: str | bytes | os.PathLike[str],
    signature: str | bytes | os.PathLike[str],
    hashing: str,
    signer: str,
    tsa_urls: list[str] = ...,
    progress: Progress | None = ...,
    incremental: bool = ...,
) -> str: ...
def verify(
    model: str | bytes | os.PathLike[str],
    signature: str | bytes | os.PathLike[str],
    verifier: str,
    options: str,
    progress: Progress | None = ...,
) -> str: ...
def cli(args: list[str]) -> int: ...
def inspect(signature: str | bytes | os.PathLike[str]) -> str: ...
def version() -> str: ...
def open_verified(
    model: str | bytes | os.PathLike[str],
    signature: str | bytes | os.PathLike[str],
    verifier: str,
) -> VerifiedModel: ...

class VerifiedModel:
    def info(self) -> str: ...
    def open(self, name: str) -> VerifiedReader: ...

class VerifiedReader:
    def read(self, size: int) -> bytes: ...
    def read_rest(self) -> bytes: ...
    def position(self) -> tuple[int, int]: ...
    def finish(self, allow_unread_rest: bool) -> None: ...
