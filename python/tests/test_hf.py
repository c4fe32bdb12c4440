"""`hf://ORG/NAME[@REVISION]` models: resolved offline in the local Hugging
Face cache (HF_HUB_CACHE here) by every call that takes a model."""

from __future__ import annotations

import pathlib

import model_signing_rs as ms
import pytest
from conftest import PACKAGES, make_model, write_key
from model_signing_rs import errors

COMMIT = "0123456789abcdef0123456789abcdef01234567"
OLD_COMMIT = "fedcba9876543210fedcba9876543210fedcba98"


@pytest.fixture
def cache(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """A hub cache holding `org/model` at two commits: `main` and tag
    `v1` (the older one, whose config differs)."""
    hub = tmp_path / "hub"
    repo = hub / "models--org--model"
    (repo / "refs").mkdir(parents=True)
    (repo / "blobs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    (repo / "refs" / "v1").write_text(OLD_COMMIT)
    make_model(repo / "snapshots", COMMIT)
    old = make_model(repo / "snapshots", OLD_COMMIT)
    (old / "config.json").write_text('{"layers": 1}\n')
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    return repo / "snapshots"


@pytest.mark.parametrize("verifier", PACKAGES)
def test_a_cached_model_signs_and_verifies_by_name(
    tmp_path: pathlib.Path, cache: pathlib.Path, verifier: str
) -> None:
    private, public = write_key(tmp_path, "p256")
    signed = ms.sign("hf://org/model", tmp_path / "model.sig", key=private)
    # The snapshot is the model: named after the repository, not the commit.
    assert signed.model_name == "model"
    assert signed.digest == ms.digest(cache / COMMIT) == ms.digest("hf://org/model@main")
    assert ms.digest("hf://org/model@v1") == ms.digest(cache / OLD_COMMIT) != signed.digest
    assert ms.digest(f"hf://org/model@{OLD_COMMIT}") == ms.digest("hf://org/model@v1")
    PACKAGES[verifier].verifying.Config().use_elliptic_key_verifier(public_key=public).verify(
        cache / COMMIT, tmp_path / "model.sig"
    )
    assert ms.verify("hf://org/model", tmp_path / "model.sig", key=public).resources == 5
    with pytest.raises(errors.VerificationError, match="1 changed") as failed:
        ms.verify("hf://org/model@v1", tmp_path / "model.sig", key=public)
    assert [name for name, _, _ in failed.value.changed] == ["config.json"]


def test_the_reference_api_takes_hf_names(tmp_path: pathlib.Path, cache: pathlib.Path) -> None:
    private, public = write_key(tmp_path, "p384")
    manifest = ms.hashing.Config().hash("hf://org/model")
    assert manifest == ms.hashing.hash(cache / COMMIT)
    ms.signing.Config().use_elliptic_key_signer(private_key=private).sign(
        "hf://org/model", tmp_path / "model.sig"
    )
    ms.verifying.Config().use_elliptic_key_verifier(public_key=public).verify(
        "hf://org/model", tmp_path / "model.sig"
    )


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("hf://org/other", errors.EnvironmentFailure, "org/other"),
        ("hf://org/model@no-such-branch", errors.EnvironmentFailure, "no-such-branch"),
        ("hf://org/model@" + "ab" * 20, errors.EnvironmentFailure, "ab" * 20),
        ("hf://org--x/model", errors.UsageError, "invalid Hugging Face reference"),
        ("hf://org/model@../../etc", errors.UsageError, "invalid Hugging Face reference"),
        ("hf://", errors.UsageError, "invalid Hugging Face reference"),
        ("hf://a/b/c", errors.UsageError, "invalid Hugging Face reference"),
    ],
)
def test_unknown_and_malformed_names(
    tmp_path: pathlib.Path,
    cache: pathlib.Path,
    name: str,
    error: type[Exception],
    message: str,
) -> None:
    private, _ = write_key(tmp_path, "p256")
    with pytest.raises(error, match=message.replace(".", r"\.")):
        ms.digest(name)
    with pytest.raises(error, match=message.replace(".", r"\.")):
        ms.sign(name, tmp_path / "model.sig", key=private)
    assert not (tmp_path / "model.sig").exists()
