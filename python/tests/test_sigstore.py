"""Sigstore keyless signing through the loopback stand-in
(testsupport/sigstore-standin): each package signs, each verifies."""

from __future__ import annotations

import json
import pathlib
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import PACKAGES

STANDIN = pathlib.Path(__file__).resolve().parents[2] / "testsupport" / "sigstore-standin"
SUBJECT = "https://example.com/python-signer"


@pytest.fixture(scope="module")
def standin() -> Iterator[dict[str, Any]]:
    if not (STANDIN / "node_modules").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=STANDIN, check=True
        )
    process = subprocess.Popen(
        ["node", "src/main.js", "--watch-stdin"],
        cwd=STANDIN,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready = json.loads(process.stdout.readline())
    assert ready.get("ready"), ready
    try:
        yield ready
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=10)


def token(standin: dict[str, Any]) -> str:
    url = f"{standin['tokenUrl']}?sub={urllib.parse.quote(SUBJECT, safe='')}"
    with urllib.request.urlopen(url, timeout=30) as answer:
        body = answer.read().decode()
    try:
        return str(json.loads(body)["token"])
    except (ValueError, KeyError):
        return body.strip()


@pytest.mark.parametrize("flavour", ["rekor-v1", "rekor-v2"])
@pytest.mark.parametrize("signer", PACKAGES)
@pytest.mark.parametrize("verifier", PACKAGES)
def test_sigstore_signatures_verify_across_packages(
    standin: dict[str, Any],
    tmp_path: pathlib.Path,
    model: pathlib.Path,
    flavour: str,
    signer: str,
    verifier: str,
) -> None:
    trust_config = pathlib.Path(standin["flavours"][flavour]["trustConfig"])
    signature = tmp_path / "model.sig"
    PACKAGES[signer].signing.Config().use_sigstore_signer(
        identity_token=token(standin), trust_config=trust_config
    ).sign(model, signature)
    PACKAGES[verifier].verifying.Config().use_sigstore_verifier(
        identity=SUBJECT, oidc_issuer=standin["issuer"], trust_config=trust_config
    ).verify(model, signature)
    # Ours raises a ValueError; the reference lets sigstore-python's own
    # VerificationError through.
    expected: type[Exception] = ValueError if verifier == "ours" else Exception
    with pytest.raises(expected):
        PACKAGES[verifier].verifying.Config().use_sigstore_verifier(
            identity="https://example.com/someone-else",
            oidc_issuer=standin["issuer"],
            trust_config=trust_config,
        ).verify(model, signature)
