"""Fixtures of the Python package's tests: models, keys and certificates
made at test time, and both packages (ours and the reference) to run the
same calls with."""

from __future__ import annotations

import datetime
import importlib
import pathlib
from types import ModuleType
from typing import Any

import model_signing
import model_signing_rs
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The reference's package does not import its submodules itself.
for _package in ("model_signing", "model_signing_rs"):
    for _module in ("hashing", "signing", "verifying"):
        importlib.import_module(f"{_package}.{_module}")

PACKAGES: dict[str, ModuleType] = {"ours": model_signing_rs, "reference": model_signing}

CURVES = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1(), "p521": ec.SECP521R1()}


def make_model(root: pathlib.Path, name: str = "model") -> pathlib.Path:
    """A small model: files at the top, in a folder, an empty file, a
    larger file (several shards of 1000 bytes)."""
    model = root / name
    (model / "weights").mkdir(parents=True)
    (model / "config.json").write_text('{"layers": 2}\n')
    (model / "tokenizer.json").write_text('{"vocab": ["a", "b"]}\n')
    (model / "weights" / "part-0.bin").write_bytes(bytes(range(256)) * 20)
    (model / "weights" / "part-1.bin").write_bytes(b"\x01" * 3333)
    (model / "empty.txt").write_bytes(b"")
    return model


@pytest.fixture
def model(tmp_path: pathlib.Path) -> pathlib.Path:
    return make_model(tmp_path)


def write_key(directory: pathlib.Path, curve: str) -> tuple[pathlib.Path, pathlib.Path]:
    """A private key (PKCS#8 PEM) and its public key (PEM) on `curve`."""
    key = ec.generate_private_key(CURVES[curve])
    private = directory / f"{curve}.pem"
    public = directory / f"{curve}.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def write_pki(directory: pathlib.Path, subject_key: Any = None) -> dict[str, pathlib.Path]:
    """A root CA, an intermediate CA and a code-signing leaf with its key:
    files `root`, `intermediate`, `leaf`, `key`. With `subject_key` (a
    public key held elsewhere, on a token say) the leaf is issued for it
    and `key` is a key of no use."""
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=365)

    def build(
        subject: str, issuer: str, public: Any, signer: Any, ca: bool
    ) -> x509.Certificate:
        b = (
            x509.CertificateBuilder()
            .subject_name(_name(subject))
            .issuer_name(_name(issuer))
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            b = b.add_extension(
                x509.KeyUsage(
                    digital_signature=False, content_commitment=False,
                    key_encipherment=False, data_encipherment=False, key_agreement=False,
                    key_cert_sign=True, crl_sign=True, encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        else:
            b = b.add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False,
                    key_encipherment=False, data_encipherment=False, key_agreement=False,
                    key_cert_sign=False, crl_sign=False, encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            ).add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False
            )
        return b.sign(signer, hashes.SHA256())

    root_key = ec.generate_private_key(ec.SECP384R1())
    inter_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    root = build("Test Root", "Test Root", root_key.public_key(), root_key, True)
    inter = build("Test Intermediate", "Test Root", inter_key.public_key(), root_key, True)
    subject = leaf_key.public_key() if subject_key is None else subject_key
    leaf = build("Test Signer", "Test Intermediate", subject, inter_key, False)
    files = {
        "root": directory / "root.pem",
        "intermediate": directory / "intermediate.pem",
        "leaf": directory / "leaf.pem",
        "key": directory / "leaf-key.pem",
    }
    for cert, path in ((root, files["root"]), (inter, files["intermediate"]), (leaf, files["leaf"])):
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files
