"""Sigstore keyless signing through the loopback stand-in
(testsupport/sigstore-standin): each package signs, each verifies."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import subprocess
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import model_signing_rs as ms
import pytest
from conftest import PACKAGES
from model_signing_rs import errors

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


def oauth_provider_binary() -> pathlib.Path:
    """The loopback OAuth provider (crates/sigstore-standin-harness, bin
    oauth-provider) that scripts/test-python builds."""
    path = os.environ.get("MODEL_SIGNING_OAUTH_PROVIDER")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            "MODEL_SIGNING_OAUTH_PROVIDER must name the oauth-provider binary: run scripts/test-python"
        )
    return pathlib.Path(path)


@contextlib.contextmanager
def oauth_provider(
    tmp_path: pathlib.Path, id_token: str, client_secret: str | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """A loopback identity provider that approves every login of client
    `my-client` with `id_token`; yields its URL and, once stopped, fills the
    dict with what it was asked."""
    token_file = tmp_path / "id-token"
    token_file.write_text(id_token)
    args = [str(oauth_provider_binary()), "--client-id", "my-client", "--id-token-file", str(token_file)]
    if client_secret is not None:
        args += ["--client-secret", client_secret]
    process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdin is not None
    log: dict[str, Any] = {}
    try:
        yield json.loads(process.stdout.readline())["url"], log
    finally:
        process.stdin.close()
        log.update(json.loads(process.stdout.readline() or "{}"))
        process.wait(timeout=10)


def login_url(printed: str) -> str:
    """The login URL the package printed."""
    urls = re.findall(r"http://127\.0\.0\.1:\d+/\S+", printed)
    assert urls, printed
    return urls[-1]


@pytest.mark.parametrize("verifier", PACKAGES)
def test_interactive_login_out_of_band(
    standin: dict[str, Any],
    tmp_path: pathlib.Path,
    model: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    verifier: str,
) -> None:
    trust_config = pathlib.Path(standin["flavours"]["rekor-v1"]["trustConfig"])
    monkeypatch.delenv("SIGSTORE_ID_TOKEN", raising=False)
    prompts: list[str] = []

    def person(prompt: str = "") -> str:
        # Opens the printed URL and copies the code the provider shows.
        prompts.append(prompt)
        with urllib.request.urlopen(login_url(capsys.readouterr().err), timeout=30) as page:
            return page.read().decode().strip()

    monkeypatch.setattr("builtins.input", person)
    signature = tmp_path / "model.sig"
    with oauth_provider(tmp_path, token(standin), client_secret="s3cret") as (issuer, log):
        ms.signing.Config().use_sigstore_signer(
            oidc_issuer=issuer,
            force_oob=True,
            client_id="my-client",
            client_secret="s3cret",
            trust_config=trust_config,
        ).sign(model, signature)
    assert prompts == ["Enter verification code: "]
    [authorization] = log["authorizations"]
    assert authorization["client_id"] == "my-client"
    assert authorization["redirect_uri"] == "urn:ietf:wg:oauth:2.0:oob"
    assert authorization["code_challenge_method"] == "S256"
    [exchange] = log["token_requests"]
    assert exchange["status"] == 200 and exchange["basic"] == ["my-client", "s3cret"]
    PACKAGES[verifier].verifying.Config().use_sigstore_verifier(
        identity=SUBJECT, oidc_issuer=standin["issuer"], trust_config=trust_config
    ).verify(model, signature)


def test_interactive_login_through_the_browser(
    standin: dict[str, Any],
    tmp_path: pathlib.Path,
    model: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trust_config = pathlib.Path(standin["flavours"]["rekor-v2"]["trustConfig"])
    monkeypatch.delenv("SIGSTORE_ID_TOKEN", raising=False)
    visits: list[str] = []

    def browser(url: str, *args: Any, **kwargs: Any) -> bool:
        # A browser that follows the login page's redirect to the package's
        # listener, as a person's would after they log in.
        visits.append(url)
        threading.Thread(target=lambda: urllib.request.urlopen(url, timeout=30).read()).start()
        return True

    monkeypatch.setattr("webbrowser.open", browser)
    monkeypatch.setattr("builtins.input", lambda *a: pytest.fail("asked for a code"))
    signature = tmp_path / "model.sig"
    with oauth_provider(tmp_path, token(standin)) as (issuer, log):
        ms.signing.Config().use_sigstore_signer(
            oidc_issuer=issuer, client_id="my-client", trust_config=trust_config
        ).sign(model, signature)
    assert len(visits) == 1 and visits[0].startswith(issuer)
    assert visits[0] in capsys.readouterr().err
    [authorization] = log["authorizations"]
    assert authorization["redirect_uri"].startswith("http://localhost:")
    ms.verifying.Config().use_sigstore_verifier(
        identity=SUBJECT, oidc_issuer=standin["issuer"], trust_config=trust_config
    ).verify(model, signature)


def test_a_failed_login_is_an_error_and_writes_nothing(
    standin: dict[str, Any],
    tmp_path: pathlib.Path,
    model: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trust_config = pathlib.Path(standin["flavours"]["rekor-v1"]["trustConfig"])
    monkeypatch.delenv("SIGSTORE_ID_TOKEN", raising=False)
    monkeypatch.setattr("builtins.input", lambda *a: "not-the-code")
    signature = tmp_path / "model.sig"
    with (
        oauth_provider(tmp_path, token(standin)) as (issuer, log),
        pytest.raises(errors.ModelSigningError, match="token endpoint"),
    ):
        ms.signing.Config().use_sigstore_signer(
            oidc_issuer=issuer, force_oob=True, client_id="my-client", trust_config=trust_config
        ).sign(model, signature)
    assert not signature.exists()
    assert [r["status"] for r in log["token_requests"]] == [400]
