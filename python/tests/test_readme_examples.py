"""The Python examples of README.md (its Python section) and
python/README.md run as written: each file's blocks in order, in one
interpreter and one folder holding what they name (`model`, `key.pem`,
`key.pub`, a Hugging Face cache with `openai-community/gpt2`)."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import make_model, write_key
from safetensors.numpy import save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]


def python_blocks(path: pathlib.Path) -> list[str]:
    text = path.read_text()
    return [m.group(1) for m in re.finditer(r"```python\n(.*?)```", text, re.DOTALL)]


def install_lines(path: pathlib.Path) -> list[str]:
    text = path.read_text()
    return [
        line
        for m in re.finditer(r"```sh\n(.*?)```", text, re.DOTALL)
        for line in m.group(1).splitlines()
        if "pip install" in line
    ]


@pytest.fixture
def folder(tmp_path: pathlib.Path) -> pathlib.Path:
    model = make_model(tmp_path, "model")
    save_file({"embed": np.ones((4, 4), dtype=np.float32)}, model / "model.safetensors")
    private, public = write_key(tmp_path, "p256")
    private.rename(tmp_path / "key.pem")
    public.rename(tmp_path / "key.pub")
    repo = tmp_path / "hub" / "models--openai-community--gpt2"
    (repo / "refs").mkdir(parents=True)
    (repo / "blobs").mkdir()
    commit = "607a30d783dfa663caf39e06633721c8d4cfcd7e"
    (repo / "refs" / "main").write_text(commit)
    make_model(repo / "snapshots", commit)
    return tmp_path


@pytest.mark.parametrize("readme", ["README.md", "python/README.md"])
def test_the_python_examples_run_as_written(folder: pathlib.Path, readme: str) -> None:
    blocks = python_blocks(ROOT / readme)
    assert len(blocks) >= 2, readme
    env = dict(os.environ, HF_HUB_CACHE=str(folder / "hub"))
    answer = subprocess.run(
        [sys.executable, "-c", "\n".join(blocks)],
        check=False,
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 0, answer.stderr
    assert (folder / "model.sig").is_file()
    if readme == "python/README.md":
        out = answer.stdout
        assert "key True 6" in out, out
        assert "['embed']" in out, out
        assert "[('config.json', " in out, out
        assert "100%" in out, out
        assert (folder / "gpt2.sig").is_file()
    else:
        assert answer.stdout.startswith("key sha256:"), answer.stdout


@pytest.mark.parametrize("readme", ["README.md", "python/README.md"])
def test_the_install_line_names_the_local_build(readme: str) -> None:
    lines = install_lines(ROOT / readme)
    assert lines, readme
    for line in lines:
        # Not on a registry yet: a checkout (`.`) or a wheel built from one.
        assert re.search(r"pip install (\.|dist/|maturin)", line), line
        assert "pip install model-signing-rs" not in line, line
