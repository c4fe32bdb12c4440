"""A model's manifest: every file (or shard of a file) with its digest.

The names of the reference implementation's ``model_signing.manifest``:
:class:`Manifest`, :class:`ManifestItem`, :class:`FileManifestItem`,
:class:`ShardedFileManifestItem`, :class:`SerializationType`, and the
``Digest`` of each item. A manifest compares equal to another when their
items and digests are equal; the model name and the serialization are
informative.
"""

from __future__ import annotations

import abc
import dataclasses
import pathlib
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from typing import Self
    else:
        from typing_extensions import Self


@dataclasses.dataclass(frozen=True, order=True)
class Digest:
    """A digest: the algorithm's name (``sha256``, ``blake2b``, ``blake3``,
    or ``sha256-sharded-1024`` for shards) and the value."""

    algorithm: str
    digest_value: bytes

    @property
    def digest_hex(self) -> str:
        """The value, lowercase hexadecimal."""
        return self.digest_value.hex()

    @property
    def digest_size(self) -> int:
        """The size of the value, in bytes."""
        return len(self.digest_value)


@dataclasses.dataclass(frozen=True, order=True)
class _ResourceDescriptor:
    """One resource of a manifest: its name and its digest."""

    identifier: str
    digest: Digest


@dataclasses.dataclass(frozen=True, order=True)
class _ManifestKey:
    """What identifies an item: its path and, for a shard, its byte range."""

    path: pathlib.PurePosixPath
    start: int = -1
    end: int = -1

    def __str__(self) -> str:
        if self.start < 0:
            return str(self.path)
        return f"{self.path}:{self.start}:{self.end}"


class ManifestItem(metaclass=abc.ABCMeta):
    """A file, or a shard of a file, with its digest."""

    digest: Digest

    @property
    @abc.abstractmethod
    def key(self) -> _ManifestKey:
        """What identifies the item within its manifest."""


class FileManifestItem(ManifestItem):
    """A whole file (its path relative to the model root) and its digest."""

    def __init__(self, *, path: pathlib.PurePath, digest: Digest) -> None:
        self._path = pathlib.PurePosixPath(path)
        self.digest = digest

    @property
    def key(self) -> _ManifestKey:
        return _ManifestKey(self._path)


class ShardedFileManifestItem(ManifestItem):
    """The bytes ``start`` (included) to ``end`` (excluded) of a file."""

    def __init__(
        self, *, path: pathlib.PurePath, start: int, end: int, digest: Digest
    ) -> None:
        self._path = pathlib.PurePosixPath(path)
        self._start = start
        self._end = end
        self.digest = digest

    @property
    def key(self) -> _ManifestKey:
        return _ManifestKey(self._path, self._start, self._end)


class SerializationType:
    """How the manifest was made: the signed ``serialization`` block
    (``method``, ``hash_type``, ``shard_size`` for shards,
    ``allow_symlinks``, ``ignore_paths``)."""

    def __init__(self, parameters: dict[str, Any]) -> None:
        self._parameters = dict(parameters)

    @property
    def serialization_parameters(self) -> dict[str, Any]:
        """The parameters, as the signature records them."""
        return dict(self._parameters)

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> Self:
        """The serialization the parameters describe (the reverse of
        :attr:`serialization_parameters`).

        Raises:
            ValueError: An unknown ``method``.
            KeyError: A parameter the method needs is missing.
        """
        method = args["method"]
        if method not in ("files", "shards"):
            raise ValueError(f"Unknown serialization type {method}")
        parameters: dict[str, Any] = {
            "method": method,
            "hash_type": args["hash_type"],
            "allow_symlinks": args["allow_symlinks"],
        }
        if method == "shards":
            parameters["shard_size"] = args["shard_size"]
        if args.get("ignore_paths"):
            parameters["ignore_paths"] = [str(p) for p in args["ignore_paths"]]
        return cls(parameters)

    def new_item(self, name: str, digest: Digest) -> ManifestItem:
        """The manifest item of the resource `name` (``path`` for files,
        ``path:start:end`` for shards).

        Raises:
            ValueError: A shard name without its three parts.
        """
        if self._parameters.get("method") != "shards":
            return FileManifestItem(path=pathlib.PurePosixPath(name), digest=digest)
        parts = name.split(":")
        if len(parts) != 3:
            raise ValueError(
                f"Invalid resource name: expected 3 components separated by `:`, got {name}"
            )
        return ShardedFileManifestItem(
            path=pathlib.PurePosixPath(parts[0]),
            start=int(parts[1]),
            end=int(parts[2]),
            digest=digest,
        )


class Manifest:
    """The manifest of a model.

    A manifest made by hashing keeps the resources as the native module
    returned them and builds the item objects only when they are asked for
    (comparing two such manifests needs none), so a model of many small
    files costs no more in Python than its list of names and digests.
    """

    def __init__(
        self,
        model_name: str,
        items: Iterable[ManifestItem],
        serialization_type: SerializationType,
    ) -> None:
        self._name = model_name
        self._items: dict[_ManifestKey, Digest] | None = {
            item.key: item.digest for item in items
        }
        self._resources: dict[str, tuple[str, str]] | None = None
        self._shards = False
        self._serialization_type = serialization_type

    @property
    def _item_to_digest(self) -> dict[_ManifestKey, Digest]:
        if self._items is None:
            self._items = _items_of(self._resources or {}, self._shards)
        return self._items

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Manifest):
            return NotImplemented
        if self._resources is not None and other._resources is not None:
            return self._resources == other._resources
        return self._item_to_digest == other._item_to_digest

    __hash__ = None  # type: ignore[assignment]

    def resource_descriptors(self) -> Iterator[_ResourceDescriptor]:
        """Each resource, in name order."""
        for key, digest in sorted(self._item_to_digest.items()):
            yield _ResourceDescriptor(identifier=str(key), digest=digest)

    @property
    def model_name(self) -> str:
        """The name of the model (the last component of its path): only
        informative, not compared."""
        return self._name

    @property
    def serialization_type(self) -> dict[str, Any]:
        """The serialization parameters the manifest was made with."""
        return self._serialization_type.serialization_parameters


def _items_of(resources: dict[str, tuple[str, str]], shards: bool) -> dict[_ManifestKey, Digest]:
    items: dict[_ManifestKey, Digest] = {}
    for name, (algorithm, digest_hex) in resources.items():
        digest = Digest(algorithm, bytes.fromhex(digest_hex))
        if shards:
            path, start, end = name.rsplit(":", 2)
            key = _ManifestKey(pathlib.PurePosixPath(path), int(start), int(end))
        else:
            key = _ManifestKey(pathlib.PurePosixPath(name))
        items[key] = digest
    return items


def _from_native(data: dict[str, Any]) -> Manifest:
    """A manifest from the native module's JSON form; its items are built
    when first asked for."""
    manifest = Manifest(data["model_name"], (), SerializationType(data["serialization"]))
    manifest._items = None
    manifest._resources = {r["name"]: (r["algorithm"], r["digest"]) for r in data["resources"]}
    manifest._shards = data["serialization"].get("method") == "shards"
    return manifest
