"""Every public name of the reference's `hashing`, `signing`, `verifying`
and `manifest` modules exists in ours, with the same parameters: names,
kinds and defaults of every public function and method (read from the
installed reference, not copied)."""

from __future__ import annotations

import inspect
import types
from typing import Any

import pytest
from conftest import PACKAGES

MODULES = ("hashing", "signing", "verifying", "manifest")


def public_names(module: types.ModuleType) -> list[str]:
    """Names defined by the module itself (not imported into it)."""
    names = []
    for name, value in vars(module).items():
        if name.startswith("_"):
            continue
        home = getattr(value, "__module__", None)
        if (inspect.isclass(value) or inspect.isfunction(value)) and home == module.__name__:
            names.append(name)
    return sorted(names)


def parameters(function: Any) -> list[tuple[str, str, str]]:
    signature = inspect.signature(function)
    return [
        (p.name, p.kind.name, "required" if p.default is p.empty else repr(p.default))
        for p in signature.parameters.values()
    ]


def members(cls: type) -> dict[str, Any]:
    found = {}
    for name, value in vars(cls).items():
        if name.startswith("_") and name != "__init__":
            continue
        if isinstance(value, (classmethod, staticmethod)):
            value = value.__func__
        if inspect.isfunction(value) or isinstance(value, property):
            found[name] = value
    return found


@pytest.mark.parametrize("module", MODULES)
def test_every_public_name_is_there(module: str) -> None:
    reference = getattr(PACKAGES["reference"], module)
    ours = getattr(PACKAGES["ours"], module)
    names = public_names(reference)
    assert names, module
    missing = [n for n in names if not hasattr(ours, n)]
    assert missing == [], f"{module}: {missing}"


@pytest.mark.parametrize("module", MODULES)
def test_functions_and_methods_take_the_same_parameters(module: str) -> None:
    reference = getattr(PACKAGES["reference"], module)
    ours = getattr(PACKAGES["ours"], module)
    differences = []
    for name in public_names(reference):
        theirs, mine = getattr(reference, name), getattr(ours, name)
        if inspect.isfunction(theirs):
            if parameters(theirs) != parameters(mine):
                differences.append((name, parameters(theirs), parameters(mine)))
            continue
        for member, value in members(theirs).items():
            counterpart = inspect.getattr_static(mine, member, None)
            if counterpart is None:
                differences.append((f"{name}.{member}", "missing"))
            elif isinstance(value, property):
                if not isinstance(counterpart, property):
                    differences.append((f"{name}.{member}", "not a property"))
            elif isinstance(counterpart, (classmethod, staticmethod)):
                if parameters(value) != parameters(counterpart.__func__):
                    differences.append((f"{name}.{member}", parameters(value), "differs"))
            elif parameters(value) != parameters(counterpart):
                differences.append((f"{name}.{member}", parameters(value), parameters(counterpart)))
    assert differences == [], differences


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ({"method": "files", "hash_type": "sha256", "allow_symlinks": False}, "dir/a.bin"),
        ({"method": "shards", "hash_type": "sha256", "allow_symlinks": False, "shard_size": 10}, "a.bin:0:10"),
        ({"method": "shards", "hash_type": "blake2", "allow_symlinks": True, "shard_size": 10}, "a.bin:10"),
        ({"method": "shards", "hash_type": "sha256", "allow_symlinks": False, "shard_size": 10}, "a.bin:x:10"),
        ({"method": "tensors", "hash_type": "sha256", "allow_symlinks": False}, "a.bin"),
        ({"method": "shards", "hash_type": "sha256", "allow_symlinks": False}, "a.bin:0:10"),
        ({"method": "files", "hash_type": "sha256", "allow_symlinks": False, "ignore_paths": ["x"]}, "a"),
    ],
)
def test_serialization_types_build_items_alike(args: dict[str, Any], name: str) -> None:
    outcomes = []
    for package in PACKAGES.values():
        digest_type = getattr(package.manifest, "Digest", None) or package._hashing.hashing.Digest
        try:
            serialization = package.manifest.SerializationType.from_args(args)
            item = serialization.new_item(name, digest_type("sha256", b"\x00" * 32))
            outcomes.append(("ok", str(item.key), serialization.serialization_parameters))
        except Exception as e:  # noqa: BLE001 - the outcome is compared
            outcomes.append((type(e).__name__,))
    assert outcomes[0] == outcomes[1], outcomes
