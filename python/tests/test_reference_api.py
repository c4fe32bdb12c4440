"""The reference's API, run the same way against both packages: the usage
its README and docstrings show, with each package signing and each
verifying (key, certificate; files and shards; SHA-256, BLAKE2, BLAKE3)."""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from conftest import CURVES, PACKAGES, make_model, write_key, write_pki

HASHINGS: dict[str, Callable[[ModuleType], Any]] = {
    "files-sha256": lambda p: p.hashing.Config().use_file_serialization(),
    "files-blake2": lambda p: p.hashing.Config().use_file_serialization(hashing_algorithm="blake2"),
    "files-blake3": lambda p: p.hashing.Config().use_file_serialization(hashing_algorithm="blake3"),
    "shards-sha256": lambda p: p.hashing.Config().use_shard_serialization(shard_size=1000),
    "shards-blake2": lambda p: p.hashing.Config().use_shard_serialization(
        hashing_algorithm="blake2", shard_size=1000
    ),
}


def descriptors(manifest: Any) -> list[tuple[str, str, bytes]]:
    return [
        (d.identifier, d.digest.algorithm, d.digest.digest_value)
        for d in manifest.resource_descriptors()
    ]


@pytest.mark.parametrize("hashing", HASHINGS)
def test_both_packages_hash_to_the_same_manifest(model: pathlib.Path, hashing: str) -> None:
    ours = HASHINGS[hashing](PACKAGES["ours"]).hash(model)
    reference = HASHINGS[hashing](PACKAGES["reference"]).hash(model)
    assert descriptors(ours) == descriptors(reference)
    assert ours.model_name == reference.model_name == "model"
    assert ours.serialization_type["method"] == reference.serialization_type["method"]
    assert ours.serialization_type["hash_type"] == reference.serialization_type["hash_type"]


def test_the_module_hash_function_is_files_and_sha256(model: pathlib.Path) -> None:
    ours = PACKAGES["ours"].hashing.hash(model)
    assert descriptors(ours) == descriptors(PACKAGES["reference"].hashing.hash(model))
    names = [d[0] for d in descriptors(ours)]
    assert names == sorted(names)
    assert "empty.txt" in names
    assert all(d[1] == "sha256" for d in descriptors(ours))


def test_ignored_paths_and_git_paths(model: pathlib.Path) -> None:
    (model / ".git").mkdir()
    (model / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    for name, pkg in PACKAGES.items():
        config = pkg.hashing.Config().set_ignored_paths(paths=["weights"])
        names = [d[0] for d in descriptors(config.hash(model))]
        assert names == ["config.json", "empty.txt", "tokenizer.json"], name
        with_git = pkg.hashing.Config().set_ignored_paths(paths=[], ignore_git_paths=False)
        assert ".git/HEAD" in [d[0] for d in descriptors(with_git.hash(model))], name


@pytest.mark.parametrize("curve", CURVES)
@pytest.mark.parametrize("signer", PACKAGES)
@pytest.mark.parametrize("verifier", PACKAGES)
def test_key_signatures_verify_across_packages(
    tmp_path: pathlib.Path, model: pathlib.Path, curve: str, signer: str, verifier: str
) -> None:
    private, public = write_key(tmp_path, curve)
    signature = tmp_path / "model.sig"
    PACKAGES[signer].signing.Config().use_elliptic_key_signer(private_key=private).sign(
        model, signature
    )
    PACKAGES[verifier].verifying.Config().use_elliptic_key_verifier(public_key=public).verify(
        model, signature
    )
    # And a changed model fails in both, as a ValueError.
    (model / "config.json").write_text('{"layers": 3}\n')
    with pytest.raises(ValueError):
        PACKAGES[verifier].verifying.Config().use_elliptic_key_verifier(
            public_key=public
        ).verify(model, signature)


@pytest.mark.parametrize("hashing", HASHINGS)
@pytest.mark.parametrize("signer", PACKAGES)
def test_every_hashing_verifies_here_without_being_told(
    tmp_path: pathlib.Path, model: pathlib.Path, hashing: str, signer: str
) -> None:
    private, public = write_key(tmp_path, "p256")
    signature = tmp_path / "model.sig"
    pkg = PACKAGES[signer]
    pkg.signing.Config().set_hashing_config(HASHINGS[hashing](pkg)).use_elliptic_key_signer(
        private_key=private
    ).sign(model, signature)
    ours = PACKAGES["ours"].verifying.Config().use_elliptic_key_verifier(public_key=public)
    ours.verify(model, signature)
    # The reference verifies when told the hashing that was used.
    reference = PACKAGES["reference"]
    reference.verifying.Config().set_hashing_config(
        HASHINGS[hashing](reference)
    ).use_elliptic_key_verifier(public_key=public).verify(model, signature)


@pytest.mark.parametrize("signer", PACKAGES)
@pytest.mark.parametrize("verifier", PACKAGES)
def test_certificate_signatures_verify_across_packages(
    tmp_path: pathlib.Path, model: pathlib.Path, signer: str, verifier: str
) -> None:
    pki = write_pki(tmp_path)
    signature = tmp_path / "model.sig"
    PACKAGES[signer].signing.Config().use_certificate_signer(
        private_key=pki["key"],
        signing_certificate=pki["leaf"],
        certificate_chain=[pki["intermediate"]],
    ).sign(model, signature)
    PACKAGES[verifier].verifying.Config().use_certificate_verifier(
        certificate_chain=[pki["root"]]
    ).verify(model, signature)


@pytest.mark.parametrize("name", PACKAGES)
def test_verifying_without_a_verifier_is_a_value_error(
    tmp_path: pathlib.Path, model: pathlib.Path, name: str
) -> None:
    with pytest.raises(ValueError, match="no configured verifier"):
        PACKAGES[name].verifying.Config().verify(model, tmp_path / "model.sig")


@pytest.mark.parametrize("name", PACKAGES)
def test_another_key_is_a_value_error(tmp_path: pathlib.Path, model: pathlib.Path, name: str) -> None:
    private, _ = write_key(tmp_path, "p256")
    other = tmp_path / "other"
    other.mkdir()
    _, other_public = write_key(other, "p256")
    signature = tmp_path / "model.sig"
    PACKAGES["ours"].signing.Config().use_elliptic_key_signer(private_key=private).sign(
        model, signature
    )
    with pytest.raises(ValueError):
        PACKAGES[name].verifying.Config().use_elliptic_key_verifier(
            public_key=other_public
        ).verify(model, signature)


def test_ignore_unsigned_files(tmp_path: pathlib.Path, model: pathlib.Path) -> None:
    private, public = write_key(tmp_path, "p384")
    signature = tmp_path / "model.sig"
    PACKAGES["ours"].signing.Config().use_elliptic_key_signer(private_key=private).sign(
        model, signature
    )
    (model / "notes.txt").write_text("added after signing\n")
    for name, pkg in PACKAGES.items():
        with pytest.raises(ValueError):
            pkg.verifying.Config().use_elliptic_key_verifier(public_key=public).verify(
                model, signature
            )
        pkg.verifying.Config().set_ignore_unsigned_files(True).use_elliptic_key_verifier(
            public_key=public
        ).verify(model, signature)
        assert name


def test_a_signature_inside_the_model_is_left_out(tmp_path: pathlib.Path) -> None:
    model = make_model(tmp_path, "inside")
    private, public = write_key(tmp_path, "p256")
    signature = model / "model.sig"
    ours = PACKAGES["ours"]
    ours.signing.Config().use_elliptic_key_signer(private_key=private).sign(model, signature)
    # Signing again over the first signature: still verifies.
    ours.signing.Config().use_elliptic_key_signer(private_key=private).sign(model, signature)
    ours.verifying.Config().use_elliptic_key_verifier(public_key=public).verify(model, signature)
    PACKAGES["reference"].verifying.Config().use_elliptic_key_verifier(public_key=public).verify(
        model, signature
    )
