"""Claims from Python: ``attest`` signs a claim bound to the model's
signature and appends it to a claims file; ``verify(claims=...)`` verifies
the model, then every claim (docs/claims.md)."""

from __future__ import annotations

import pathlib

import model_signing_rs as ms
import pytest
from conftest import make_model, write_key

EVAL = "https://github.com/model-signing/model-signing-rs/blob/main/docs/claims.md#evaluation-v1"
RESULTS = {"results": [{"task": "qa", "dataset": "squad", "metric": "f1", "value": 88.5}]}


def test_attest_and_verify_claims(tmp_path: pathlib.Path) -> None:
    model = make_model(tmp_path)
    owner, owner_pub = write_key(tmp_path, "p256")
    other, other_pub = write_key(tmp_path, "p384")
    sig, claims = tmp_path / "model.sig", tmp_path / "claims.jsonl"
    ms.sign(model, sig, key=owner)
    first = ms.attest(model, sig, key=owner, predicate=RESULTS, predicate_type=EVAL, claims=claims)
    assert first["line"] == 1
    assert first["predicate_type"] == EVAL
    assert first["subject"]["name"] == "model"
    # The envelope form, as `model-signing predicate` writes it.
    second = ms.attest(
        model, sig, key=other, predicate={"predicateType": EVAL, "predicate": RESULTS}, claims=claims
    )
    assert second["line"] == 2

    result = ms.verify(model, sig, key=owner_pub, claims=claims, claim_keys=[other_pub])
    assert [c["verdict"] for c in result.claims] == ["valid", "valid"]
    assert result.claims[1]["predicate"] == RESULTS
    assert result.claims[1]["signer"]["kind"] == "key"
    # Without its key, the second claim is not valid: verification fails.
    with pytest.raises(ms.errors.VerificationError, match="1 of 2 claims") as caught:
        ms.verify(model, sig, key=owner_pub, claims=claims)
    assert "line 2: signature_failed" in str(caught.value)
    # Without claims=, the model alone.
    assert ms.verify(model, sig, key=owner_pub).claims == []


def test_attest_refuses_bad_input(tmp_path: pathlib.Path) -> None:
    model = make_model(tmp_path)
    key, public = write_key(tmp_path, "p256")
    sig, claims = tmp_path / "model.sig", tmp_path / "claims.jsonl"
    ms.sign(model, sig, key=key)
    with pytest.raises(ms.errors.UsageError, match="not a URI"):
        ms.attest(model, sig, key=key, predicate=RESULTS, predicate_type="no uri", claims=claims)
    with pytest.raises(ms.errors.UsageError, match="--predicate-type"):
        ms.attest(model, sig, key=key, predicate=RESULTS, claims=claims)
    with pytest.raises(ms.errors.UsageError, match="at least one result"):
        ms.attest(model, sig, key=key, predicate={"results": []}, predicate_type=EVAL, claims=claims)
    with pytest.raises(ms.errors.UsageError, match="private key"):
        ms.attest(model, sig, certificate=public, predicate=RESULTS, predicate_type=EVAL)
    with pytest.raises(ms.errors.UsageError, match="claims= needs the whole model"):
        ms.verify(model, sig, key=public, claims=claims, files=["config.json"])
    (model / "config.json").write_text('{"layers": 3}\n')
    with pytest.raises(ms.errors.VerificationError, match="does not match its signature"):
        ms.attest(model, sig, key=key, predicate=RESULTS, predicate_type=EVAL, claims=claims)
    assert not claims.exists()
