"""Hashing a model into a manifest: the reference's ``model_signing.hashing``.

The hashing itself runs in Rust, in parallel, with the GIL released.
``chunk_size`` is accepted for compatibility and has no effect (reads are
sized by the library); ``max_workers`` bounds the hashing threads.

Example::

    from model_signing_rs import hashing

    manifest = hashing.Config().use_shard_serialization(shard_size=1 << 30).hash("model")
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
from collections.abc import Iterable
from typing import Any, Literal, Union

from model_signing_rs import _native, errors, manifest

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover
    from typing_extensions import Self

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
"""A path: ``str``, ``bytes`` or ``os.PathLike``, as the reference takes."""

_ALGORITHMS = ("sha256", "blake2", "blake3")


def _fspath(path: PathLike) -> str:
    """A path as text for the native module (undecodable bytes survive as
    surrogate escapes)."""
    if path is None:
        raise errors.UsageError("a path is required, not None")
    try:
        return os.fsdecode(os.fspath(path))
    except TypeError as e:
        raise errors.UsageError(f"not a path: {path!r}") from e


def hash(model_path: PathLike) -> manifest.Manifest:
    """Hashes a model with the default configuration (files, SHA-256).

    Args:
        model_path: The path to the model to hash.

    Returns:
        The manifest of the model.
    """
    return Config().hash(model_path)


class Config:
    """How to hash a model: per file or per shard, with which hash, what to
    leave out, whether to follow symbolic links. By default: per file,
    SHA-256, the git paths (``.git``, ``.gitattributes``, ``.github``,
    ``.gitignore``) left out, links refused."""

    def __init__(self) -> None:
        self._ignored_paths: frozenset[pathlib.Path] = frozenset()
        self._ignore_git_paths = True
        self._method = "files"
        self._algorithm = "sha256"
        self._shard_size: int | None = None
        self._max_workers: int | None = None
        self._serializer_ignore_paths: frozenset[pathlib.Path] = frozenset()
        self.use_file_serialization()
        self._allow_symlinks = False

    def _spec(self) -> dict[str, Any]:
        ignore = [str(p) for p in self._ignored_paths | self._serializer_ignore_paths]
        return {
            "method": self._method,
            "algorithm": self._algorithm,
            "shard_size": self._shard_size,
            "ignore_paths": ignore,
            "ignore_git_paths": self._ignore_git_paths,
            "allow_symlinks": self._allow_symlinks,
            "threads": self._max_workers,
        }

    def hash(
        self,
        model_path: PathLike,
        *,
        files_to_hash: Iterable[PathLike] | None = None,
    ) -> manifest.Manifest:
        """Hashes a model with this configuration.

        Args:
            model_path: The path to the model (a directory or one file), or
              ``hf://ORG/NAME[@REVISION]``: a model in the local Hugging Face
              cache.
            files_to_hash: When given, only these files (paths inside the
              model) are kept in the manifest.

        Returns:
            The manifest of the model.
        """
        text = _fspath(model_path)
        path = pathlib.Path(text)
        spec = json.dumps(self._spec())
        data = json.loads(errors._call(_native.hash, text, spec))
        if files_to_hash is not None:
            root = path if path.is_dir() else path.parent
            wanted = set()
            for f in files_to_hash:
                p = pathlib.Path(_fspath(f))
                try:
                    wanted.add(p.relative_to(root).as_posix() if p.is_absolute() else p.as_posix())
                except ValueError:
                    continue
            data["resources"] = [
                r for r in data["resources"] if r["name"].rsplit(":", 2)[0] in wanted
                or r["name"] in wanted
            ]
        return manifest._from_native(data)

    def _serialize(
        self,
        method: str,
        hashing_algorithm: str,
        shard_size: int | None,
        max_workers: int | None,
        allow_symlinks: bool,
        ignore_paths: Iterable[PathLike],
    ) -> Self:
        if hashing_algorithm not in _ALGORITHMS:
            raise errors.UsageError(f"Unsupported hashing method {hashing_algorithm}")
        self._method = method
        self._algorithm = hashing_algorithm
        self._shard_size = shard_size
        self._max_workers = max_workers
        self._allow_symlinks = allow_symlinks
        self._serializer_ignore_paths = frozenset(pathlib.Path(_fspath(p)) for p in ignore_paths)
        return self

    def use_file_serialization(
        self,
        *,
        hashing_algorithm: Literal["sha256", "blake2", "blake3"] = "sha256",
        chunk_size: int = 1048576,
        max_workers: int | None = None,
        allow_symlinks: bool = False,
        ignore_paths: Iterable[pathlib.Path] = frozenset(),
    ) -> Self:
        """Hashes each file whole: one manifest item per file.

        Args:
            hashing_algorithm: ``sha256``, ``blake2`` (BLAKE2b) or ``blake3``.
            chunk_size: Accepted for compatibility; no effect.
            max_workers: The most hashing threads (default: one per core).
            allow_symlinks: Follow symbolic links (else a link is an error).
            ignore_paths: Paths inside the model to leave out.

        Returns:
            This configuration.
        """
        del chunk_size
        return self._serialize(
            "files", hashing_algorithm, None, max_workers, allow_symlinks, ignore_paths
        )

    def use_shard_serialization(
        self,
        *,
        hashing_algorithm: Literal["sha256", "blake2", "blake3"] = "sha256",
        chunk_size: int = 1048576,
        shard_size: int = 1_000_000_000,
        max_workers: int | None = None,
        allow_symlinks: bool = False,
        ignore_paths: Iterable[pathlib.Path] = frozenset(),
    ) -> Self:
        """Hashes files in shards of ``shard_size`` bytes: one manifest item
        per shard. With BLAKE3 (parallel already) files are hashed whole, as
        in the reference.

        Args:
            hashing_algorithm: ``sha256``, ``blake2`` (BLAKE2b) or ``blake3``.
            chunk_size: Accepted for compatibility; no effect.
            shard_size: The size of a shard, in bytes (default 1 GB).
            max_workers: The most hashing threads (default: one per core).
            allow_symlinks: Follow symbolic links (else a link is an error).
            ignore_paths: Paths inside the model to leave out.

        Returns:
            This configuration.
        """
        del chunk_size
        if isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size <= 0:
            raise errors.UsageError(f"shard_size must be a positive integer, not {shard_size!r}")
        return self._serialize(
            "shards", hashing_algorithm, shard_size, max_workers, allow_symlinks, ignore_paths
        )

    def set_ignored_paths(
        self, *, paths: Iterable[PathLike], ignore_git_paths: bool = True
    ) -> Self:
        """Sets the paths to leave out, relative to the model directory (a
        directory leaves out everything under it).

        Args:
            paths: The paths to leave out.
            ignore_git_paths: Leave out the git paths too (default).

        Returns:
            This configuration.
        """
        self._ignored_paths = frozenset(pathlib.Path(_fspath(p)) for p in paths)
        self._ignore_git_paths = ignore_git_paths
        return self

    def add_ignored_paths(
        self, *, model_path: PathLike, paths: Iterable[PathLike]
    ) -> None:
        """Adds paths to leave out (relative to the model directory; those
        outside it are skipped).

        Args:
            model_path: The path to the model.
            paths: More paths to leave out.
        """
        root = pathlib.Path(_fspath(model_path))
        added = set(self._ignored_paths)
        for p in paths:
            candidate = pathlib.Path(_fspath(p))
            try:
                (root / candidate).relative_to(root)
            except ValueError:
                continue
            added.add(candidate)
        self._ignored_paths = frozenset(added)

    def set_allow_symlinks(self, allow_symlinks: bool) -> Self:
        """Sets whether symbolic links are followed.

        Returns:
            This configuration.
        """
        self._allow_symlinks = allow_symlinks
        return self
