"""``sign(..., incremental=True)``: digests of unchanged files come from the
state record in the user's cache directory (``XDG_CACHE_HOME`` here), what
was hashed and reused is reported, and the signature is the one a full
signing makes."""

from __future__ import annotations

import base64
import json
import pathlib
import time

import model_signing_rs as ms
import pytest
from conftest import make_model, write_key

# Files are reused once their last change is older than the racy margin.
RACY_MARGIN_S = 2.2


def _statement(signature: pathlib.Path) -> object:
    bundle = json.loads(signature.read_text())
    return json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))


def test_incremental_signing_reuses_unchanged_files(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    model = make_model(tmp_path)
    key, public = write_key(tmp_path, "p256")
    total = sum(p.stat().st_size for p in model.rglob("*") if p.is_file())
    time.sleep(RACY_MARGIN_S)

    first = ms.sign(model, tmp_path / "one.sig", key=key, incremental=True)
    assert first.incremental is not None
    assert (first.incremental.files_hashed, first.incremental.bytes_hashed) == (5, total)
    assert first.incremental.files_reused == 0
    assert any("no state record" in n for n in first.incremental.notes)
    record = first.incremental.record
    assert record is not None and record.is_file()
    assert record.is_relative_to(cache / "model-signing" / "incremental")
    assert record.stat().st_mode & 0o777 == 0o600

    second = ms.sign(model, tmp_path / "two.sig", key=key, incremental=True)
    assert second.incremental is not None
    assert (second.incremental.files_reused, second.incremental.bytes_reused) == (5, total)
    assert second.incremental.files_hashed == 0
    assert second.incremental.notes == []
    assert second.digest == first.digest

    (model / "config.json").write_text('{"layers": 3}\n')
    third = ms.sign(model, tmp_path / "three.sig", key=key, incremental=True)
    assert third.incremental is not None
    assert (third.incremental.files_hashed, third.incremental.bytes_hashed) == (1, 14)
    assert third.incremental.files_reused == 4
    full = ms.sign(model, tmp_path / "full.sig", key=key)
    assert full.incremental is None
    assert _statement(tmp_path / "three.sig") == _statement(tmp_path / "full.sig")
    ms.verify(model, tmp_path / "three.sig", key=public)
    with pytest.raises(ms.errors.VerificationError):
        ms.verify(model, tmp_path / "two.sig", key=public)


def test_a_damaged_record_means_hashing_not_an_error(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    model = make_model(tmp_path)
    key, public = write_key(tmp_path, "p256")
    time.sleep(RACY_MARGIN_S)
    first = ms.sign(model, tmp_path / "a.sig", key=key, incremental=True)
    assert first.incremental is not None and first.incremental.record is not None
    first.incremental.record.write_bytes(b"not a state record")
    again = ms.sign(model, tmp_path / "b.sig", key=key, incremental=True)
    assert again.incremental is not None
    assert again.incremental.files_hashed == 5
    assert any("corrupt" in n for n in again.incremental.notes)
    ms.verify(model, tmp_path / "b.sig", key=public)
