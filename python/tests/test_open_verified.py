"""Verify while loading: open_verified() verifies the signature and the
signer, then each file as it is read; a safetensors model loads through it
with safetensors.numpy.load, and tampering fails the read that completes
the file (or shard), every later read, and close()."""

from __future__ import annotations

import io
import pathlib
import threading

import model_signing_rs as ms
import numpy as np
import pytest
from conftest import write_key
from model_signing_rs import errors
from safetensors.numpy import load, save_file


@pytest.fixture
def signed(tmp_path: pathlib.Path) -> dict[str, pathlib.Path]:
    """A safetensors model with a config, signed with a P-256 key."""
    model = tmp_path / "model"
    model.mkdir()
    tensors = {
        "embed": np.arange(4096, dtype=np.float32).reshape(64, 64),
        "bias": np.linspace(-1, 1, 333, dtype=np.float32),
    }
    save_file(tensors, model / "model.safetensors")
    (model / "config.json").write_text('{"hidden": 64}\n')
    private, public = write_key(tmp_path, "p256")
    return {"model": model, "private": private, "public": public, "sig": tmp_path / "model.sig"}


def sign(files: dict[str, pathlib.Path], **options: object) -> None:
    ms.sign(files["model"], files["sig"], key=files["private"], **options)  # type: ignore[arg-type]


def test_a_safetensors_model_loads_through_verified_reading(signed: dict[str, pathlib.Path]) -> None:
    sign(signed)
    model = ms.open_verified(signed["model"], signed["sig"], key=signed["public"])
    assert model.signer["kind"] == "key"
    assert model.files == ["config.json", "model.safetensors"]
    assert model.digest == ms.digest(signed["model"])
    with model.open("model.safetensors") as f:
        tensors = load(f.read())
    assert tensors["embed"].shape == (64, 64)
    assert float(tensors["bias"][-1]) == 1.0
    with model.open("config.json") as f, io.TextIOWrapper(io.BufferedReader(f)) as text:
        assert text.read() == '{"hidden": 64}\n'


@pytest.mark.parametrize("shard_size", [None, 1000])
@pytest.mark.parametrize("offset", [0, -1])
def test_a_flipped_byte_fails_the_completing_read_and_close(
    signed: dict[str, pathlib.Path], shard_size: int | None, offset: int
) -> None:
    sign(signed, shard_size=shard_size)
    path = signed["model"] / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[offset] ^= 1
    path.write_bytes(bytes(data))
    model = ms.open_verified(signed["model"], signed["sig"], key=signed["public"])
    f = model.open("model.safetensors")
    returned = 0
    with pytest.raises(errors.VerificationError, match="does not match its signature"):
        while chunk := f.read(1000):
            returned += len(chunk)
    # Withheld: the bytes of the read that found the difference, and after.
    if shard_size is not None and offset == 0:
        assert returned == 0
    assert returned < len(data)
    with pytest.raises(errors.VerificationError):
        f.read(10)
    with pytest.raises(errors.VerificationError):
        f.close()
    assert f.closed


def test_a_truncated_file_fails(signed: dict[str, pathlib.Path]) -> None:
    sign(signed)
    path = signed["model"] / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-4])
    model = ms.open_verified(signed["model"], signed["sig"], key=signed["public"])
    with pytest.raises(errors.VerificationError), model.open("model.safetensors") as f:
        load(f.read())
    sign(signed, shard_size=1000)
    path.write_bytes(path.read_bytes()[:-4])
    model = ms.open_verified(signed["model"], signed["sig"], key=signed["public"])
    with pytest.raises(errors.VerificationError, match="signed shards"):
        model.open("model.safetensors")


def test_a_file_not_read_to_the_end_fails_on_close_unless_allowed(
    signed: dict[str, pathlib.Path],
) -> None:
    sign(signed)
    model = ms.open_verified(signed["model"], signed["sig"], key=signed["public"])
    f = model.open("model.safetensors")
    f.read(8)
    with pytest.raises(errors.UsageError, match="the rest was not verified"):
        f.close()
    with model.open("model.safetensors", allow_unread_rest=True) as f:
        assert len(f.read(8)) == 8


def test_bad_names_signatures_and_signers(
    tmp_path: pathlib.Path, signed: dict[str, pathlib.Path]
) -> None:
    sign(signed)
    (signed["model"] / "unsigned.bin").write_bytes(b"x")
    model = ms.open_verified(signed["model"], signed["sig"], key=signed["public"])
    for name in ["unsigned.bin", "no-such", "../model.sig", ""]:
        with pytest.raises(errors.VerificationError, match="not listed in the signature"):
            model.open(name)
    with pytest.raises(errors.UsageError):
        model.open(b"config.json")  # type: ignore[arg-type]
    _, other = write_key(tmp_path, "p384")
    with pytest.raises(errors.VerificationError):
        ms.open_verified(signed["model"], signed["sig"], key=other)
    with pytest.raises(errors.UsageError, match="exactly one"):
        ms.open_verified(signed["model"], signed["sig"])
    with pytest.raises(errors.UsageError, match="not a model directory"):
        ms.open_verified(signed["model"] / "config.json", signed["sig"], key=signed["public"])
    (signed["model"] / "config.json").unlink()
    with pytest.raises(errors.VerificationError, match="1 missing"):
        model.open("config.json")


def test_reading_releases_the_gil(signed: dict[str, pathlib.Path]) -> None:
    (signed["model"] / "big.bin").write_bytes(b"\x5a" * (64 << 20))
    sign(signed)
    model = ms.open_verified(signed["model"], signed["sig"], key=signed["public"])
    ticks = 0
    done = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            done.wait(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    with model.open("big.bin") as f:
        total = 0
        while chunk := f.read(16 << 20):
            total += len(chunk)
    done.set()
    counter.join()
    assert total == 64 << 20
    assert ticks >= 5, ticks
