"""Long calls can be stopped: Ctrl-C (SIGINT) and an exception from the
progress callback end a hash within a second, and progress is reported."""

from __future__ import annotations

import itertools
import os
import pathlib
import signal
import threading
import time

import model_signing_rs as ms
import pytest


def sparse_model(tmp_path: pathlib.Path, size: int) -> pathlib.Path:
    """A model of one sparse file of `size` bytes: no disk, all hashing."""
    model = tmp_path / "sparse"
    model.mkdir()
    with open(model / "weights.bin", "wb") as f:
        f.truncate(size)
    return model


def test_ctrl_c_stops_a_long_hash_within_a_second(tmp_path: pathlib.Path) -> None:
    # 8 GiB of zeros takes seconds to hash even optimized, on every core.
    model = sparse_model(tmp_path, 8 << 30)
    sent: list[float] = []

    def interrupt() -> None:
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    # Python turns SIGINT into KeyboardInterrupt only when it was not
    # ignored at start-up (a background job of a non-interactive shell starts
    # with it ignored): install the handler a terminal user has.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, interrupt)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            ms.digest(model, hash="blake2")
        stopped = time.monotonic()
    finally:
        timer.join()
        signal.signal(signal.SIGINT, previous)
    assert sent, "the hash ended before the interrupt"
    assert stopped - sent[0] < 1.0, stopped - sent[0]


def test_progress_is_reported_and_its_exception_stops_hashing(tmp_path: pathlib.Path) -> None:
    model = sparse_model(tmp_path, 64 << 20)
    seen: list[tuple[int, int]] = []
    ms.digest(model, progress=lambda done, total: seen.append((done, total)))
    assert seen, "no progress was reported"
    assert seen[-1] == (64 << 20, 64 << 20)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(seen))

    class Stop(Exception):
        pass

    def stop(done: int, total: int) -> None:
        if done > 0:
            raise Stop(done)

    (tmp_path / "big").mkdir()
    big = sparse_model(tmp_path / "big", 8 << 30)
    started = time.monotonic()
    with pytest.raises(Stop):
        ms.digest(big, hash="blake2", progress=stop)
    assert time.monotonic() - started < 5.0
