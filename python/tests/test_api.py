"""The package's own API: sign, verify and digest in one call each."""

from __future__ import annotations

import hashlib
import pathlib

import model_signing_rs as ms
import pytest
from conftest import write_key, write_pki
from model_signing_rs import errors


def test_sign_and_verify_with_a_key(tmp_path: pathlib.Path, model: pathlib.Path) -> None:
    private, public = write_key(tmp_path, "p256")
    signed = ms.sign(model, tmp_path / "model.sig", key=private)
    assert signed.signature == tmp_path / "model.sig"
    assert signed.model_name == "model"
    assert signed.resources == 5
    result = ms.verify(model, tmp_path / "model.sig", key=public)
    assert result.signer["kind"] == "key"
    assert result.signer["algorithm"] == "PKIX_ECDSA_P256_SHA_256"
    assert result.digest == signed.digest == ms.digest(model)
    assert result.resources == 5
    assert result.signed_at is None
    assert result.warnings == [] and result.unsigned_ignored == []


def test_the_digest_is_sha256_over_the_resource_digests(model: pathlib.Path) -> None:
    manifest = ms.hashing.hash(model)
    joined = b"".join(d.digest.digest_value for d in manifest.resource_descriptors())
    assert ms.digest(model) == "sha256:" + hashlib.sha256(joined).hexdigest()
    assert ms.digest(model, shard_size=1000) != ms.digest(model)
    assert ms.digest(model, hash="blake3") != ms.digest(model)


def test_sign_and_verify_with_a_certificate(tmp_path: pathlib.Path, model: pathlib.Path) -> None:
    pki = write_pki(tmp_path)
    ms.sign(
        model,
        tmp_path / "model.sig",
        key=pki["key"],
        certificate=pki["leaf"],
        certificate_chain=[pki["intermediate"]],
        shard_size=1000,
        hash="blake2",
    )
    result = ms.verify(model, tmp_path / "model.sig", certificate_chain=[pki["root"]])
    assert result.signer["kind"] == "certificate"
    assert result.signer["subject"] == "CN=Test Signer"
    assert [p["subject"] for p in result.signer["path"]] == [
        "CN=Test Signer",
        "CN=Test Intermediate",
        "CN=Test Root",
    ]
    with pytest.raises(errors.VerificationError, match="not trusted"):
        ms.verify(model, tmp_path / "model.sig", certificate_chain=[pki["intermediate"].parent / "leaf.pem"])


def test_arguments_are_checked(
    tmp_path: pathlib.Path, model: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private, public = write_key(tmp_path, "p384")
    with pytest.raises(errors.UsageError, match="exactly one"):
        ms.verify(model, tmp_path / "model.sig")
    with pytest.raises(errors.UsageError, match="exactly one"):
        ms.verify(model, tmp_path / "model.sig", key=public, identity="x", issuer="y")
    with pytest.raises(errors.UsageError, match="needs issuer"):
        ms.verify(model, tmp_path / "model.sig", identity="someone@example.com")
    with pytest.raises(errors.UsageError, match="Unsupported hashing method"):
        ms.sign(model, tmp_path / "model.sig", key=private, hash="md5")
    with pytest.raises(errors.UsageError, match="private key"):
        ms.sign(model, tmp_path / "model.sig", certificate=tmp_path / "leaf.pem")
    # No key and no token: Sigstore's interactive login, which needs the
    # identity provider (unreachable here: a closed port as the proxy).
    monkeypatch.delenv("SIGSTORE_ID_TOKEN", raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setattr("webbrowser.open", lambda *a, **k: pytest.fail("opened a browser"))
    with pytest.raises(errors.EnvironmentFailure, match="interactive login failed"):
        ms.sign(model, tmp_path / "model.sig")
    assert not (tmp_path / "model.sig").exists()


def test_unsigned_files_are_reported(tmp_path: pathlib.Path, model: pathlib.Path) -> None:
    private, public = write_key(tmp_path, "p521")
    ms.sign(model, tmp_path / "model.sig", key=private)
    (model / "later.txt").write_text("added\n")
    with pytest.raises(errors.VerificationError) as e:
        ms.verify(model, tmp_path / "model.sig", key=public)
    assert e.value.unexpected == ["later.txt"]
    result = ms.verify(model, tmp_path / "model.sig", key=public, ignore_unsigned_files=True)
    assert result.unsigned_ignored == ["later.txt"]
    result = ms.verify(model, tmp_path / "model.sig", key=public, ignore_paths=["later.txt"])
    assert result.resources == 5


def test_inspect_shows_what_a_signature_says(tmp_path: pathlib.Path, model: pathlib.Path) -> None:
    private, _ = write_key(tmp_path, "p256")
    signed = ms.sign(model, tmp_path / "model.sig", key=private, shard_size=1000)
    doc = ms.inspect(tmp_path / "model.sig")
    assert doc["verified"] is False
    assert doc["method"] == "key"
    assert doc["model_name"] == "model"
    assert doc["digest"] == signed.digest
    assert doc["hashing"]["method"] == "shards"
    assert doc["resource_count"] == len(doc["resources"])
    (tmp_path / "junk.sig").write_text("not json")
    with pytest.raises(errors.MalformedInputError):
        ms.inspect(tmp_path / "junk.sig")
    with pytest.raises(errors.EnvironmentFailure):
        ms.inspect(tmp_path / "missing.sig")


def test_partial_verification_checks_the_named_files_only(
    tmp_path: pathlib.Path, model: pathlib.Path
) -> None:
    private, public = write_key(tmp_path, "p256")
    ms.sign(model, tmp_path / "model.sig", key=private, shard_size=1000)
    (model / "tokenizer.json").write_text("tampered")
    (model / "unsigned.txt").write_text("x")
    result = ms.verify(
        model, tmp_path / "model.sig", key=public, files=["weights/part-0.bin", "config.json"]
    )
    assert result.partial
    assert result.files_checked == ["config.json", "weights/part-0.bin"]
    assert result.resources == 1 + 6  # 5120 bytes in 1000-byte shards
    assert result.resources_not_checked == 1 + 4
    with pytest.raises(errors.VerificationError, match="1 missing, 1 unexpected") as failed:
        ms.verify(model, tmp_path / "model.sig", key=public, files=["tokenizer.json"])
    assert failed.value.missing == ["tokenizer.json:0:22"]
    with pytest.raises(errors.VerificationError, match="not listed in the signature"):
        ms.verify(model, tmp_path / "model.sig", key=public, files=["unsigned.txt"])
    with pytest.raises(errors.UsageError, match="inside the model directory"):
        ms.verify(model, tmp_path / "model.sig", key=public, files=["../model.sig"])
    with pytest.raises(errors.UsageError, match="names no file"):
        ms.verify(model, tmp_path / "model.sig", key=public, files=[])
    with pytest.raises(errors.UsageError, match="do not mix"):
        ms.verify(
            model, tmp_path / "model.sig", key=public, files=["a"], ignore_unsigned_files=True
        )
    # An absolute path inside the model names its file.
    absolute = ms.verify(model, tmp_path / "model.sig", key=public, files=[model / "config.json"])
    assert absolute.files_checked == ["config.json"]
