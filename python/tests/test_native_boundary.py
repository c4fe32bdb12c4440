"""What Python can hand the package: bad arguments get this package's
exceptions with the library's message, never a panic across the boundary;
failures carry their kind and details; hashing releases the GIL."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import threading
import time

import model_signing_rs
import pytest
from conftest import make_model, write_key
from model_signing_rs import errors, hashing, signing, verifying


def test_package_metadata() -> None:
    assert model_signing_rs.__version__
    assert issubclass(errors.VerificationError, ValueError)
    assert issubclass(errors.UsageError, ValueError)
    assert issubclass(errors.MalformedInputError, ValueError)
    assert issubclass(errors.EnvironmentFailure, OSError)


@pytest.mark.parametrize(
    "path",
    [None, 42, 3.5, ["model"], {"a": 1}, 10**100, object()],
)
def test_paths_of_the_wrong_type_are_usage_errors(path: object) -> None:
    with pytest.raises(errors.UsageError):
        hashing.hash(path)  # type: ignore[arg-type]


def test_bytes_and_pathlike_paths_work(model: pathlib.Path) -> None:
    as_str = hashing.hash(str(model))
    assert hashing.hash(bytes(model)) == as_str
    assert hashing.hash(model) == as_str


def test_a_missing_model_is_an_environment_failure(tmp_path: pathlib.Path) -> None:
    with pytest.raises(errors.EnvironmentFailure) as e:
        hashing.hash(tmp_path / "nowhere")
    assert "nowhere" in str(e.value)


def test_unsupported_hashing_is_a_usage_error() -> None:
    with pytest.raises(errors.UsageError, match="Unsupported hashing method md5"):
        hashing.Config().use_file_serialization(hashing_algorithm="md5")  # type: ignore[arg-type]
    for size in (0, -1, True, 1.5, "1000"):
        with pytest.raises(errors.UsageError):
            hashing.Config().use_shard_serialization(shard_size=size)  # type: ignore[arg-type]


def test_bad_keys_and_signatures(tmp_path: pathlib.Path, model: pathlib.Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key\n")
    with pytest.raises(errors.MalformedInputError, match="garbage.pem"):
        signing.Config().use_elliptic_key_signer(private_key=garbage).sign(
            model, tmp_path / "model.sig"
        )
    assert not (tmp_path / "model.sig").exists()
    with pytest.raises(errors.EnvironmentFailure, match="missing.pem"):
        signing.Config().use_elliptic_key_signer(private_key=tmp_path / "missing.pem").sign(
            model, tmp_path / "model.sig"
        )
    private, public = write_key(tmp_path, "p256")
    signature = tmp_path / "model.sig"
    signature.write_text("{}")
    with pytest.raises(errors.MalformedInputError):
        verifying.Config().use_elliptic_key_verifier(public_key=public).verify(model, signature)
    signature.write_bytes(b"\xff\xfe\x00 binary")
    with pytest.raises(ValueError):
        verifying.Config().use_elliptic_key_verifier(public_key=public).verify(model, signature)
    with pytest.raises(errors.UsageError, match="system trust store"):
        verifying.Config().use_certificate_verifier(certificate_chain=[])
    del private


def test_a_changed_model_reports_each_difference(tmp_path: pathlib.Path) -> None:
    model = make_model(tmp_path)
    private, public = write_key(tmp_path, "p256")
    signature = tmp_path / "model.sig"
    signing.Config().use_elliptic_key_signer(private_key=private).sign(model, signature)
    (model / "config.json").write_text("changed\n")
    (model / "tokenizer.json").unlink()
    (model / "extra.bin").write_bytes(b"x")
    with pytest.raises(errors.VerificationError) as e:
        verifying.Config().use_elliptic_key_verifier(public_key=public).verify(model, signature)
    assert [c[0] for c in e.value.changed] == ["config.json"]
    assert e.value.missing == ["tokenizer.json"]
    assert e.value.unexpected == ["extra.bin"]
    assert e.value.kind == "rejected"


def test_hostile_names_are_escaped_in_messages(tmp_path: pathlib.Path) -> None:
    model = make_model(tmp_path)
    private, public = write_key(tmp_path, "p256")
    signature = tmp_path / "model.sig"
    signing.Config().use_elliptic_key_signer(private_key=private).sign(model, signature)
    (model / "\x1b[2Jevil\x07.bin").write_bytes(b"x")
    with pytest.raises(errors.VerificationError) as e:
        verifying.Config().use_elliptic_key_verifier(public_key=public).verify(model, signature)
    assert "\x1b" not in str(e.value) and "\x07" not in str(e.value)
    assert e.value.unexpected == ["\x1b[2Jevil\x07.bin"]


@pytest.mark.parametrize("operation", ["hash", "sign", "verify"])
def test_hashing_releases_the_gil(tmp_path: pathlib.Path, operation: str) -> None:
    big = tmp_path / "big"
    big.mkdir()
    for i in range(4):
        (big / f"w{i}.bin").write_bytes(b"\x5a" * (48 << 20))
    private, public = write_key(tmp_path, "p256")
    signature = tmp_path / "big.sig"
    if operation == "verify":
        signing.Config().use_elliptic_key_signer(private_key=private).set_hashing_config(
            hashing.Config().use_file_serialization(hashing_algorithm="blake2")
        ).sign(big, signature)
    calls = {
        "hash": lambda: hashing.Config()
        .use_file_serialization(hashing_algorithm="blake2")
        .hash(big),
        "sign": lambda: signing.Config()
        .use_elliptic_key_signer(private_key=private)
        .set_hashing_config(hashing.Config().use_file_serialization(hashing_algorithm="blake2"))
        .sign(big, signature),
        "verify": lambda: verifying.Config()
        .use_elliptic_key_verifier(public_key=public)
        .verify(big, signature),
    }
    ticks = 0
    done = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    started = time.monotonic()
    calls[operation]()
    elapsed = time.monotonic() - started
    done.set()
    counter.join()
    # The counter ran while Rust hashed: it would not tick if the GIL were
    # held for the whole call.
    assert ticks >= max(5, int(elapsed * 1000 / 20)), (ticks, elapsed)


@pytest.mark.parametrize(
    ("shard_size", "max_workers"), [(10**100, None), (1000, -1), (1000, 0), (1000, 10**30)]
)
def test_huge_and_negative_numbers_are_usage_errors(
    model: pathlib.Path, shard_size: int, max_workers: int | None
) -> None:
    config = hashing.Config().use_shard_serialization(
        shard_size=shard_size, max_workers=max_workers
    )
    with pytest.raises(errors.UsageError):
        config.hash(model)


def test_the_command_line_comes_with_the_wheel(tmp_path: pathlib.Path, model: pathlib.Path) -> None:
    private, public = write_key(tmp_path, "p256")
    command = pathlib.Path(sys.executable).parent / "model-signing"
    assert command.is_file()
    version = subprocess.run([command, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("model-signing ")
    signature = tmp_path / "cli.sig"
    subprocess.run(
        [command, "sign", "key", model, "--private-key", private, "--signature", signature],
        check=True,
        capture_output=True,
    )
    verified = subprocess.run(
        [command, "verify", "key", model, "--public-key", public, "--signature", signature],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    assert "Verification succeeded" in verified.stdout
    # The signature made by the command verifies through the API, and a
    # changed model fails with exit code 1.
    verifying.Config().use_elliptic_key_verifier(public_key=public).verify(model, signature)
    (model / "config.json").write_text("changed\n")
    failed = subprocess.run(
        [command, "verify", "key", model, "--public-key", public, "--signature", signature],
        capture_output=True,
        check=False,
    )
    assert failed.returncode == 1
