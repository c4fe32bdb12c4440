"""The usage the reference shows (its README and its public modules'
docstrings, read from the installed model-signing 1.1.1, not copied), run
verbatim against both packages, each example in a fresh interpreter and a
fresh folder; for ours the one change is the import line. The outcomes
must match, and signatures both packages write must carry the same
statement."""

from __future__ import annotations

import base64
import importlib.metadata
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
from typing import Any

import model_signing
import pytest
from conftest import make_model, write_key

GOLDEN = (
    pathlib.Path(__file__).resolve().parents[2]
    / "testdata"
    / "third_party"
    / "model-transparency-golden"
)
# The production Sigstore signature of the reference's own golden model.
SIGSTORE_MODEL = GOLDEN / "v1.1.0-sigstore"
SIGSTORE_IDENTITY = "stefanb@us.ibm.com"
SIGSTORE_ISSUER = "https://sigstore.verify.ibm.com/oauth2"


def python_blocks(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"```python\n(.*?)```", text, re.DOTALL)]


def examples() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    readme = importlib.metadata.metadata("model-signing").get_payload()  # type: ignore[attr-defined]
    found += [(f"README-{i}", b) for i, b in enumerate(python_blocks(str(readme)), 1)]
    for name in ("model_signing", "model_signing.hashing", "model_signing.signing", "model_signing.verifying"):
        module = sys.modules[name]
        found += [(f"{name}-{i}", b) for i, b in enumerate(python_blocks(module.__doc__ or ""), 1)]
    return found


EXAMPLES = examples()

# Where the packages differ (example text -> our outcome), and why. Every
# other example must end alike. In both, the reference fails: it refreshes
# Sigstore's trusted root over the network (TUF) first, and this machine has
# none.
DIFFERENCES = {
    # Ours verifies with the production root it embeds: the production
    # signature verifies offline.
    "use_sigstore_verifier": "ok",
    # Signing with Sigstore's production instance (the default method)
    # needs its services and a login: ours fails too, for the network
    # (an EnvironmentFailure, an OSError), and writes nothing.
    'signing.sign("': "OSError",
}

RUNNER = r"""
import json, os, sys
source = sys.stdin.read()
namespace = {
    "identity": os.environ["EXAMPLE_IDENTITY"],
    "oidc_provider": os.environ["EXAMPLE_ISSUER"],
    "all_models": ["model-a", "model-b"],
    "model_path": "finbert",
}
outcome = {"outcome": "ok"}
try:
    exec(compile(source, "<example>", "exec"), namespace)
except BaseException as e:
    for kind in (SyntaxError, AttributeError, NameError, FileNotFoundError, ValueError, OSError, Exception, BaseException):
        if isinstance(e, kind):
            outcome = {"outcome": kind.__name__, "type": type(e).__name__, "message": str(e)[:500]}
            break
print(json.dumps(outcome))
"""


def prepare(folder: pathlib.Path, example: str) -> None:
    """The files the examples name: models `finbert`, `bert-base-uncased`,
    `model-a`, `model-b`; keys `key` and `key.priv` with `key.pub`; and
    `finbert.sig` signed as the example expects (a key signature, or the
    production Sigstore signature of the reference's golden model)."""
    folder.mkdir()
    private, public = write_key(folder, "p256")
    shutil.copy(private, folder / "key")
    shutil.copy(private, folder / "key.priv")
    shutil.copy(public, folder / "key.pub")
    for name in ("bert-base-uncased", "model-a", "model-b"):
        make_model(folder, name)
    if "use_sigstore_verifier" in example:
        shutil.copytree(SIGSTORE_MODEL, folder / "finbert", ignore=shutil.ignore_patterns("model.sig", "ignore-me"))
        shutil.copy(SIGSTORE_MODEL / "model.sig", folder / "finbert.sig")
    else:
        finbert = make_model(folder, "finbert")
        (finbert / "README.md").write_text("# finbert\n")
        model_signing.signing.Config().use_elliptic_key_signer(private_key=private).sign(
            finbert, folder / "finbert.sig"
        )
        for name in ("model-a", "model-b"):
            model_signing.signing.Config().use_elliptic_key_signer(private_key=private).sign(
                folder / name, folder / f"{name}_sharded.sig"
            )


def run(folder: pathlib.Path, example: str, package: str) -> dict[str, Any]:
    if package == "ours":
        if "import model_signing\n" in example:
            example = example.replace("import model_signing\n", "import model_signing_rs as model_signing\n", 1)
        else:
            example = "import model_signing_rs as model_signing\n" + example
    elif "import model_signing\n" not in example:
        example = "import model_signing\n" + example
    env = dict(os.environ)
    env.update(
        EXAMPLE_IDENTITY=SIGSTORE_IDENTITY,
        EXAMPLE_ISSUER=SIGSTORE_ISSUER,
        # No network here: fail at once instead of waiting on timeouts.
        HTTPS_PROXY="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
        NO_PROXY="",
        BROWSER="false",
    )
    env.pop("SIGSTORE_ID_TOKEN", None)
    before = {p for p in folder.rglob("*")}
    answer = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=example,
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    outcome: dict[str, Any] = json.loads(answer.stdout.strip().splitlines()[-1])
    outcome["new_files"] = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p not in before)
    return outcome


def statement(signature: pathlib.Path) -> Any:
    bundle = json.loads(signature.read_text())
    return json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))


def test_the_examples_were_found() -> None:
    # README: sign with Sigstore and with a key, sign many, verify with
    # Sigstore and with a key; the module docstrings likewise.
    names = [name for name, _ in EXAMPLES]
    assert len([n for n in names if n.startswith("README-")]) == 5, names
    assert len(EXAMPLES) >= 14, names


@pytest.mark.parametrize(("name", "example"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_each_example_ends_alike_in_both_packages(
    tmp_path: pathlib.Path, name: str, example: str
) -> None:
    outcomes = {}
    for package in ("reference", "ours"):
        folder = tmp_path / package
        prepare(folder, example)
        outcomes[package] = run(folder, example, package)
    ours, reference = outcomes["ours"], outcomes["reference"]
    difference = next((d for key, d in DIFFERENCES.items() if key in example), None)
    if difference is not None:
        assert ours["outcome"] == difference, ours
        assert reference["outcome"] != "ok", reference
        assert ours["new_files"] == reference["new_files"] == [], (ours, reference)
        return
    assert ours["outcome"] == reference["outcome"], (ours, reference)
    assert ours["new_files"] == reference["new_files"], (ours, reference)
    for created in ours["new_files"]:
        if created.endswith(".sig"):
            assert statement(tmp_path / "ours" / created) == statement(tmp_path / "reference" / created)
