"""PKCS #11 tokens (SoftHSM) through the Python package: the reference's
``use_pkcs11_signer`` and ``use_pkcs11_certificate_signer`` builders and the
one-call ``sign(pkcs11_uri=...)``; the reference verifies what the token
signed, and bad URIs, PINs and modules fail with the library's message."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
from collections.abc import Iterator

import model_signing_rs as ms
import pytest
from conftest import PACKAGES, write_key, write_pki
from cryptography.hazmat.primitives import serialization
from model_signing_rs import errors

MODULES = [
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
]
PIN = "1234"


def module_path() -> str:
    for module in MODULES:
        if os.path.isfile(module):
            return module
    pytest.fail("SoftHSM is not installed: run scripts/setup-packages")


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, pathlib.Path]]:
    """A SoftHSM token `py` holding a P-256 key `p256` (id 01) and a P-384
    key `p384` (id 02), imported from files whose public keys the tests
    keep; its configuration is this process's SOFTHSM2_CONF."""
    if shutil.which("softhsm2-util") is None:
        pytest.fail("softhsm2-util is not installed: run scripts/setup-packages")
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    saved = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)

    def util(*args: str) -> None:
        subprocess.run(["softhsm2-util", *args], check=True, capture_output=True)

    util("--init-token", "--free", "--label", "py", "--pin", PIN, "--so-pin", "5678")
    keys: dict[str, pathlib.Path] = {}
    for number, curve in enumerate(("p256", "p384"), start=1):
        private, public = write_key(root, curve)
        util(
            "--import", str(private), "--token", "py", "--label", curve,
            "--id", f"{number:02x}", "--pin", PIN,
        )
        private.unlink()
        keys[curve] = public
    try:
        yield keys
    finally:
        if saved is None:
            del os.environ["SOFTHSM2_CONF"]
        else:
            os.environ["SOFTHSM2_CONF"] = saved


def uri(label: str, pin: str = PIN) -> str:
    """The URI of key `label`; the module by name, searched for in the
    `module_paths` given with it."""
    return f"pkcs11:token=py;object={label}?pin-value={pin}&module-name=libsofthsm2.so"


@pytest.mark.parametrize("curve", ["p256", "p384"])
@pytest.mark.parametrize("signer", PACKAGES)
@pytest.mark.parametrize("verifier", PACKAGES)
def test_token_keys_sign_through_the_reference_api(
    tmp_path: pathlib.Path,
    model: pathlib.Path,
    token: dict[str, pathlib.Path],
    curve: str,
    signer: str,
    verifier: str,
) -> None:
    signature = tmp_path / "model.sig"
    PACKAGES[signer].signing.Config().use_pkcs11_signer(
        pkcs11_uri=uri(curve), module_paths=[os.path.dirname(module_path())]
    ).sign(model, signature)
    PACKAGES[verifier].verifying.Config().use_elliptic_key_verifier(
        public_key=token[curve]
    ).verify(model, signature)


def test_the_module_path_in_the_uri_and_the_one_call_api(
    tmp_path: pathlib.Path, model: pathlib.Path, token: dict[str, pathlib.Path]
) -> None:
    signature = tmp_path / "model.sig"
    signed = ms.sign(
        model, signature, pkcs11_uri=f"pkcs11:token=py;object=p256?pin-value={PIN}&module-path={module_path()}"
    )
    result = ms.verify(model, signature, key=token["p256"])
    assert result.signer["algorithm"] == "PKIX_ECDSA_P256_SHA_256"
    assert result.digest == signed.digest
    with pytest.raises(errors.VerificationError):
        ms.verify(model, signature, key=token["p384"])


@pytest.mark.parametrize("verifier", PACKAGES)
def test_a_token_key_signs_with_a_certificate(
    tmp_path: pathlib.Path,
    model: pathlib.Path,
    token: dict[str, pathlib.Path],
    verifier: str,
) -> None:
    # A certificate for the token's P-256 key, issued by a test CA.
    pki = write_pki(tmp_path, subject_key=serialization.load_pem_public_key(token["p256"].read_bytes()))
    signature = tmp_path / "model.sig"
    ms.signing.Config().use_pkcs11_certificate_signer(
        pkcs11_uri=f"pkcs11:token=py;object=p256?pin-value={PIN}&module-path={module_path()}",
        signing_certificate=pki["leaf"],
        certificate_chain=[pki["intermediate"]],
    ).sign(model, signature)
    PACKAGES[verifier].verifying.Config().use_certificate_verifier(
        certificate_chain=[pki["root"]]
    ).verify(model, signature)


@pytest.mark.parametrize(
    ("pkcs11_uri", "error", "message"),
    [
        (uri("p256", pin="0000"), errors.EnvironmentFailure, "PIN"),
        (uri("no-such-key"), errors.EnvironmentFailure, "no-such-key"),
        (uri("p256").replace("token=py", "token=no-such-token"), errors.EnvironmentFailure, "no PKCS#11 token matches the URI"),
        ("pkcs11:token=py;object=p256?pin-value=1234&module-path=/nonexistent/lib.so", errors.ModelSigningError, "/nonexistent/lib.so"),
        (uri("p256").replace("libsofthsm2.so", "libnothere.so"), errors.ModelSigningError, "libnothere.so"),
        ("not-a-uri", errors.UsageError, "pkcs11:"),
        (uri("p256").replace("object=p256", "object=p256;bogus=1"), errors.UsageError, "bogus"),
    ],
)
def test_bad_uris_pins_and_modules(
    tmp_path: pathlib.Path,
    model: pathlib.Path,
    token: dict[str, pathlib.Path],
    pkcs11_uri: str,
    error: type[Exception],
    message: str,
) -> None:
    config = ms.signing.Config().use_pkcs11_signer(
        pkcs11_uri=pkcs11_uri, module_paths=[os.path.dirname(module_path())]
    )
    with pytest.raises(error, match=message):
        config.sign(model, tmp_path / "model.sig")
    assert not (tmp_path / "model.sig").exists()
