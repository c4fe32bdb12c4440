"""The native module (Rust): every function releases the GIL."""

import os

class NativeError(Exception):
    """(kind, message, details as JSON)."""

def hash(model: str | bytes | os.PathLike[str], spec: str) -> str: ...
def sign(
    model: str | bytes | os.PathLike[str],
    signature: str | bytes | os.PathLike[str],
    hashing: str,
    signer: str,
    tsa_urls: list[str] = ...,
) -> str: ...
def verify(
    model: str | bytes | os.PathLike[str],
    signature: str | bytes | os.PathLike[str],
    verifier: str,
    options: str,
) -> str: ...
def cli(args: list[str]) -> int: ...
def version() -> str: ...
