"""The ``model-signing`` command, run in this process by the Rust CLI."""

from __future__ import annotations

import os
import signal
import sys

from model_signing_rs import _native


def main() -> None:
    """Runs ``model-signing`` with this process's arguments and exits with
    its exit code."""
    args = ["model-signing", *(os.fsdecode(a) for a in sys.argv[1:])]
    # Ctrl-C stops the command at once, as it stops the native binary.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        code = _native.cli(args)
    except _native.NativeError as e:
        print(f"error: {e.args[1]}", file=sys.stderr)
        code = 3
    sys.stdout.flush()
    sys.exit(code)


if __name__ == "__main__":
    main()
