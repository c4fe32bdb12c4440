"""Deployment gates from Python: ``verify_policy`` decides under a
verification policy as ``model-signing verify --policy`` does
(docs/policies.md)."""

from __future__ import annotations

import pathlib

import model_signing_rs as ms
import pytest
from conftest import make_model, write_key

EVAL = "https://github.com/model-signing/model-signing-rs/blob/main/docs/claims.md#evaluation-v1"


def results(accuracy: float) -> dict[str, object]:
    return {"results": [{"task": "qa", "dataset": "squad", "metric": "accuracy", "value": accuracy}]}


def write_policy(directory: pathlib.Path, bar: float) -> pathlib.Path:
    policy = directory / "gate.yaml"
    policy.write_text(f"""version: 1
signers:
  release: {{key: release.pub}}
  eval-team: {{key: eval.pub}}
model:
  signers: [release]
claims:
  - id: accuracy
    predicate_type: {EVAL}
    signers: [eval-team]
    condition: "predicate.results.exists(r, r.metric == 'accuracy' && r.value >= {bar})"
""")
    return policy


def test_verify_policy_allows_and_denies(tmp_path: pathlib.Path) -> None:
    model = make_model(tmp_path)
    release, release_pub = write_key(tmp_path, "p256")
    release_pub.rename(tmp_path / "release.pub")
    evaluator, eval_pub = write_key(tmp_path, "p384")
    eval_pub.rename(tmp_path / "eval.pub")
    sig, claims = tmp_path / "model.sig", tmp_path / "claims.jsonl"
    ms.sign(model, sig, key=release)
    ms.attest(model, sig, key=evaluator, predicate=results(0.85), predicate_type=EVAL, claims=claims)

    decision = ms.verify_policy(model, write_policy(tmp_path, 0.8), signature=sig, claims=claims)
    assert decision["allowed"] is True
    assert [(r["rule"], r["status"]) for r in decision["rules"]] == [
        ("signer", "pass"), ("hashing", "pass"), ("files", "pass"), ("claim:accuracy", "pass")]
    assert decision["signer_names"] == ["release"]
    assert decision["claims"][0]["signers"] == ["eval-team"]

    with pytest.raises(ms.errors.PolicyDenied, match="claim:accuracy: line 1: the condition is false") as denied:
        ms.verify_policy(model, write_policy(tmp_path, 0.9), signature=sig, claims=claims)
    assert isinstance(denied.value, ms.errors.VerificationError)
    assert denied.value.decision["allowed"] is False
    assert [r["rule"] for r in denied.value.failed_rules] == ["claim:accuracy"]

    # A changed file denies, and the claim rule is not checked.
    (model / "config.json").write_text('{"layers": 3}\n')
    with pytest.raises(ms.errors.PolicyDenied, match="files: the model does not match") as changed:
        ms.verify_policy(model, write_policy(tmp_path, 0.8), signature=sig, claims=claims)
    assert changed.value.decision["rules"][3]["status"] == "skipped"


def test_verify_policy_refuses_bad_policies(tmp_path: pathlib.Path) -> None:
    model = make_model(tmp_path)
    key, public = write_key(tmp_path, "p256")
    sig = tmp_path / "model.sig"
    ms.sign(model, sig, key=key)
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"version: 1\nsigners:\n  a: {{key: {public.name}}}\nmodel:\n  signers: [b]\n")
    with pytest.raises(ms.errors.UsageError, match="line 5: model: no signer named `b`"):
        ms.verify_policy(model, bad, signature=sig)
    with pytest.raises(ms.errors.EnvironmentFailure, match="cannot read it"):
        ms.verify_policy(model, tmp_path / "missing.yaml", signature=sig)
    # An untrusted signer is a denial, with the reason.
    _other, other_pub = write_key(tmp_path, "p384")
    policy = tmp_path / "other.yaml"
    policy.write_text(f"version: 1\nsigners:\n  a: {{key: {other_pub.name}}}\nmodel:\n  signers: [a]\n")
    with pytest.raises(ms.errors.PolicyDenied, match="not signed by a signer the policy trusts"):
        ms.verify_policy(model, policy, signature=sig)
