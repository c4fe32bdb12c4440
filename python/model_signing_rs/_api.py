"""The package's own API: one call to sign, verify or digest a model.

::

    import model_signing_rs as ms

    ms.sign("model", "model.sig", key="key.pem")
    result = ms.verify("model", "model.sig", key="key.pub")
    print(result.signer, result.resources)

Failures raise the exceptions of :mod:`model_signing_rs.errors`; a model
whose files differ raises :class:`~model_signing_rs.errors.VerificationError`
with ``changed``, ``missing`` and ``unexpected``.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from model_signing_rs import _native, errors, hashing

Progress = Callable[[int, int], object]
"""Called as ``progress(done_bytes, total_bytes)`` about 20 times a second
while a model is hashed, from the calling thread; an exception it raises
stops hashing and is raised."""


@dataclasses.dataclass(frozen=True)
class IncrementalReport:
    """What an incremental signing (``sign(..., incremental=True)``) did."""

    files_hashed: int
    """Files read and hashed."""
    bytes_hashed: int
    """Bytes read and hashed."""
    files_reused: int
    """Files whose digests came from the state record."""
    bytes_reused: int
    """Bytes of those files (not read)."""
    record: pathlib.Path | None
    """The state record read and replaced (``None`` without a cache directory)."""
    notes: list[str]
    """Why the record was not used, or could not be saved."""


@dataclasses.dataclass(frozen=True)
class SignResult:
    """What :func:`sign` made."""

    signature: pathlib.Path
    """Where the signature was written."""
    model_name: str
    """The model's name as signed (the last component of its path)."""
    digest: str
    """``sha256:<hex>``: the subject digest of the signed payload."""
    resources: int
    """How many files (or shards) the signature lists."""
    incremental: IncrementalReport | None = None
    """With ``incremental=True``, what was hashed and what was reused."""


@dataclasses.dataclass(frozen=True)
class Verification:
    """What :func:`verify` established."""

    signer: dict[str, Any]
    """Who signed: ``{"kind": "key", "hint", "algorithm"}``, ``{"kind":
    "certificate", "subject", "fingerprint", "path"}`` or ``{"kind":
    "sigstore", "identity", "issuer"}``."""
    digest: str
    """``sha256:<hex>``: the subject digest of the signed payload."""
    resources: int
    """How many files (or shards) were checked."""
    signed_at: int | None
    """The signing time from a verified log entry or timestamp (Unix
    seconds), if any."""
    warnings: list[str]
    """What is worth telling (old formats accepted, unused timestamps)."""
    unsigned_ignored: list[str]
    """Files skipped because the signature does not list them
    (``ignore_unsigned_files=True``)."""
    partial: bool = False
    """Whether only ``files_checked`` were compared (``files=``): the
    other files were not checked."""
    files_checked: list[str] = dataclasses.field(default_factory=list)
    """The files a partial verification compared."""
    resources_not_checked: int = 0
    """The signature's resources a partial verification did not compare."""
    claims: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    """With ``claims=``, every claim, all valid: ``{"line", "verdict",
    "signer", "predicate_type", "predicate"}`` (docs/claims.md)."""


def _hashing_spec(
    hash: str, shard_size: int | None, ignore_paths: Iterable[hashing.PathLike],
    allow_symlinks: bool, ignore_git_paths: bool,
) -> dict[str, Any]:
    """The native hashing specification of these arguments, checked by
    :class:`hashing.Config` (``blake2b`` is another name of ``blake2``)."""
    algorithm: Any = "blake2" if hash == "blake2b" else hash
    config = hashing.Config()
    if shard_size is None:
        config.use_file_serialization(hashing_algorithm=algorithm, allow_symlinks=allow_symlinks)
    else:
        config.use_shard_serialization(
            hashing_algorithm=algorithm, shard_size=shard_size, allow_symlinks=allow_symlinks
        )
    config.set_ignored_paths(paths=ignore_paths, ignore_git_paths=ignore_git_paths)
    return config._spec()


def sign(
    model: hashing.PathLike,
    signature: hashing.PathLike = "model.sig",
    *,
    key: hashing.PathLike | None = None,
    password: str | None = None,
    certificate: hashing.PathLike | None = None,
    certificate_chain: Iterable[hashing.PathLike] = (),
    pkcs11_uri: str | None = None,
    identity_token: str | None = None,
    trust_config: hashing.PathLike | None = None,
    hash: str = "sha256",
    shard_size: int | None = None,
    ignore_paths: Iterable[hashing.PathLike] = (),
    ignore_git_paths: bool = True,
    allow_symlinks: bool = False,
    tsa_urls: Iterable[str] = (),
    progress: Progress | None = None,
    incremental: bool = False,
) -> SignResult:
    """Signs a model and writes its signature.

    The method follows the arguments: ``key`` (a private key file),
    ``key`` with ``certificate`` (and ``certificate_chain``), ``pkcs11_uri``
    (with ``certificate`` for a token certificate), else Sigstore, against
    the production instance or ``trust_config``, with ``identity_token``,
    else ``SIGSTORE_ID_TOKEN``, else the interactive login
    (``signing.Config.use_sigstore_signer`` describes it).

    Args:
        model: The model: a directory, one file, or ``hf://ORG/NAME[@REVISION]``
            (a model in the local Hugging Face cache).
        signature: Where to write the signature (default ``model.sig``).
        key: A private key file (PEM).
        password: The key's password, when it is encrypted.
        certificate: The signing certificate issued for the key.
        certificate_chain: Certificate files above it, stored in the signature.
        pkcs11_uri: An RFC 7512 URI of a key on a PKCS #11 token.
        identity_token: An OIDC identity token for Sigstore.
        trust_config: A Sigstore ClientTrustConfig file.
        hash: ``sha256``, ``blake2`` or ``blake3``.
        shard_size: Hash in shards of this many bytes (default: whole files).
        ignore_paths: Paths inside the model to leave out.
        ignore_git_paths: Leave out ``.git`` and the other git paths.
        allow_symlinks: Follow symbolic links.
        tsa_urls: RFC 3161 timestamp authorities (key, certificate, PKCS #11).
        progress: Called with (bytes hashed, bytes in all) while hashing.
        incremental: Re-hash only the files changed since the last incremental
            signing of this model path with these hashing options on this
            machine (``model-signing sign --incremental``; docs/security.md says
            when a digest is reused). Verification never uses the record.

    Returns:
        The signature's path, digest and size (and, with ``incremental``, what
        was hashed and reused).
    """
    spec = _hashing_spec(hash, shard_size, ignore_paths, allow_symlinks, ignore_git_paths)
    chain = [hashing._fspath(c) for c in certificate_chain]
    signer: dict[str, Any]
    if pkcs11_uri is not None:
        signer = {"kind": "pkcs11", "uri": pkcs11_uri, "module_paths": []}
        if certificate is not None:
            signer.update(
                kind="pkcs11_certificate",
                signing_certificate=hashing._fspath(certificate),
                certificate_chain=chain,
            )
    elif key is not None and certificate is not None:
        signer = {
            "kind": "certificate",
            "private_key": hashing._fspath(key),
            "password": password,
            "signing_certificate": hashing._fspath(certificate),
            "certificate_chain": chain,
        }
    elif key is not None:
        signer = {"kind": "key", "private_key": hashing._fspath(key), "password": password}
    elif certificate is not None:
        raise errors.UsageError("a certificate needs its private key (key=) or a pkcs11_uri")
    else:
        signer = {
            "kind": "sigstore",
            "identity_token": identity_token,
            "use_staging": False,
            "trust_config": None if trust_config is None else hashing._fspath(trust_config),
            "use_ambient_credentials": False,
        }
    path = hashing._fspath(signature)
    data = json.loads(
        errors._call(
            _native.sign,
            hashing._fspath(model),
            path,
            json.dumps(spec),
            json.dumps(signer),
            [str(u) for u in tsa_urls],
            progress=progress,
            incremental=incremental,
        )
    )
    report = data.get("incremental")
    return SignResult(
        signature=pathlib.Path(path),
        model_name=data["model_name"],
        digest=f"sha256:{data['root_digest']}",
        resources=len(data["resources"]),
        incremental=None
        if report is None
        else IncrementalReport(
            files_hashed=report["files_hashed"],
            bytes_hashed=report["bytes_hashed"],
            files_reused=report["files_reused"],
            bytes_reused=report["bytes_reused"],
            record=None if report["record"] is None else pathlib.Path(report["record"]),
            notes=list(report["notes"]),
        ),
    )


def _verifier_spec(
    key: hashing.PathLike | None,
    certificate_chain: Iterable[hashing.PathLike] | None,
    identity: str | None,
    issuer: str | None,
    trust_config: hashing.PathLike | None,
    tsa_certificate_chain: Iterable[hashing.PathLike],
) -> dict[str, Any]:
    """The native verifier of :func:`verify`'s arguments."""
    chosen = [key is not None, certificate_chain is not None, identity is not None]
    if sum(chosen) != 1:
        raise errors.UsageError(
            "give exactly one of key=, certificate_chain= or identity= (with issuer=)"
        )
    tsa = [hashing._fspath(c) for c in tsa_certificate_chain]
    verifier: dict[str, Any]
    if key is not None:
        verifier = {"kind": "key", "public_key": hashing._fspath(key), "tsa_certificate_chains": tsa}
    elif certificate_chain is not None:
        chain = [hashing._fspath(c) for c in certificate_chain]
        if not chain:
            raise errors.UsageError("certificate_chain= needs at least one trusted certificate")
        verifier = {
            "kind": "certificate",
            "certificate_chain": chain,
            "tsa_certificate_chains": tsa,
        }
    else:
        if issuer is None:
            raise errors.UsageError("identity= needs issuer=")
        verifier = {
            "kind": "sigstore",
            "identity": identity,
            "oidc_issuer": issuer,
            "use_staging": False,
            "trust_config": None if trust_config is None else hashing._fspath(trust_config),
        }
    return verifier


def verify(
    model: hashing.PathLike,
    signature: hashing.PathLike = "model.sig",
    *,
    key: hashing.PathLike | None = None,
    certificate_chain: Iterable[hashing.PathLike] | None = None,
    identity: str | None = None,
    issuer: str | None = None,
    trust_config: hashing.PathLike | None = None,
    tsa_certificate_chain: Iterable[hashing.PathLike] = (),
    ignore_paths: Iterable[hashing.PathLike] = (),
    ignore_unsigned_files: bool = False,
    files: Iterable[hashing.PathLike] | None = None,
    claims: hashing.PathLike | None = None,
    claim_keys: Iterable[hashing.PathLike] = (),
    claim_certificate_chain: Iterable[hashing.PathLike] = (),
    progress: Progress | None = None,
) -> Verification:
    """Verifies a model's signature, its signer, then its files, hashed as
    the signature says they were signed.

    Give exactly one of ``key`` (a public key file), ``certificate_chain``
    (the trusted CA certificates) or ``identity`` with ``issuer`` (Sigstore,
    production or ``trust_config``).

    Args:
        model: The model: a directory, one file, or ``hf://ORG/NAME[@REVISION]``
            (a model in the local Hugging Face cache).
        signature: The signature file (default ``model.sig``).
        key: The signer's public key file (PEM).
        certificate_chain: The certificates to trust.
        identity: The Sigstore identity that must have signed.
        issuer: Its OIDC issuer.
        trust_config: A Sigstore ClientTrustConfig file.
        tsa_certificate_chain: Timestamp authorities to trust (PEM files).
        ignore_paths: More paths inside the model to leave out.
        ignore_unsigned_files: Check only the files the signature lists.
        files: Check only these files (partial verification): paths as the
          signature lists them (relative to the model directory), each of
          which it must list; the other files are not checked.
        claims: A claims file (``model-signing verify --claims``): once the
          model verified, every claim in it must be valid (signed by a trusted
          claim signer, about this signature of this model, well formed).
        claim_keys: Public keys trusted for claims, besides the model's signer.
        claim_certificate_chain: CA certificates trusted for claims.
        progress: Called with (bytes hashed, bytes in all) while hashing.

    Returns:
        Who signed and what was checked (and the claims, with ``claims=``).

    Raises:
        VerificationError: The signature, the signer or the model does not
          verify (``changed``, ``missing``, ``unexpected`` say how), or a
          claim is not valid (the message names each, with the reason).
    """
    verifier = _verifier_spec(
        key, certificate_chain, identity, issuer, trust_config, tsa_certificate_chain
    )
    options: dict[str, Any] = {
        "ignore_unsigned_files": ignore_unsigned_files,
        "ignore_paths": [hashing._fspath(p) for p in ignore_paths],
    }
    if files is not None:
        if ignore_unsigned_files:
            raise errors.UsageError("files= and ignore_unsigned_files= do not mix")
        options["files"] = [hashing._fspath(f) for f in files]
        if not options["files"]:
            raise errors.UsageError("files= names no file")
    if claims is not None:
        options["claims"] = hashing._fspath(claims)
        options["claim_keys"] = [hashing._fspath(k) for k in claim_keys]
        options["claim_certificate_chains"] = [
            hashing._fspath(c) for c in claim_certificate_chain
        ]
    data = json.loads(
        errors._call(
            _native.verify,
            hashing._fspath(model),
            hashing._fspath(signature),
            json.dumps(verifier),
            json.dumps(options),
            progress=progress,
        )
    )
    return Verification(
        signer=data["signer"],
        digest=f"sha256:{data['manifest']['root_digest']}",
        resources=data["resources"],
        signed_at=data["signed_at"],
        warnings=list(data["warnings"]),
        unsigned_ignored=list(data["unsigned_ignored"]),
        partial=bool(data.get("partial", False)),
        files_checked=list(data.get("files_checked", [])),
        resources_not_checked=int(data.get("resources_not_checked", 0)),
        claims=list(data.get("claims", [])),
    )


def attest(
    model: hashing.PathLike,
    signature: hashing.PathLike = "model.sig",
    *,
    predicate: dict[str, Any] | hashing.PathLike,
    predicate_type: str | None = None,
    claims: hashing.PathLike = "claims.jsonl",
    key: hashing.PathLike | None = None,
    password_file: hashing.PathLike | None = None,
    certificate: hashing.PathLike | None = None,
    certificate_chain: Iterable[hashing.PathLike] = (),
    pkcs11_uri: str | None = None,
    identity_token: str | None = None,
    trust_config: hashing.PathLike | None = None,
    tsa_urls: Iterable[str] = (),
) -> dict[str, Any]:
    """Signs a claim about a model, bound to its signature, and appends it to
    a claims file: ``model-signing attest`` (docs/claims.md). The model is
    hashed first and must match its signature.

    The method follows the arguments as for :func:`sign`: ``key`` (with
    ``certificate`` and ``certificate_chain``), ``pkcs11_uri`` (with
    ``certificate``), else Sigstore with ``identity_token`` (or
    ``SIGSTORE_ID_TOKEN``) against the production instance or
    ``trust_config``.

    Args:
        model: The model (a directory, one file, ``hf://...``).
        signature: The model's signature.
        predicate: The predicate: a dict, or a JSON file. Without
          ``predicate_type``, it must be ``{"predicateType", "predicate"}``
          (what ``model-signing predicate`` writes).
        predicate_type: The predicate type URI.
        claims: The claims file to append to.
        key: A private key file (PEM).
        password_file: A file holding the key's password.
        certificate: The signing certificate.
        certificate_chain: Certificates above it.
        pkcs11_uri: An RFC 7512 URI of a token key.
        identity_token: An OIDC identity token for Sigstore.
        trust_config: A Sigstore ClientTrustConfig file.
        tsa_urls: RFC 3161 timestamp authorities (not with Sigstore).

    Returns:
        What ``attest --json`` prints: the claims file, the claim's line,
        its predicate type, subject and signer.
    """
    with tempfile.TemporaryDirectory() as scratch:
        if isinstance(predicate, dict):
            path = pathlib.Path(scratch) / "predicate.json"
            path.write_text(json.dumps(predicate))
            predicate_path = str(path)
        else:
            predicate_path = hashing._fspath(predicate)
        args: list[str]
        if pkcs11_uri is not None:
            args = ["pkcs11-key", "--pkcs11-uri", pkcs11_uri]
            if certificate is not None:
                args = ["pkcs11-certificate", "--pkcs11-uri", pkcs11_uri,
                        "--signing-certificate", hashing._fspath(certificate)]
        elif key is not None and certificate is not None:
            args = ["certificate", "--private-key", hashing._fspath(key),
                    "--signing-certificate", hashing._fspath(certificate)]
        elif key is not None:
            args = ["key", "--private-key", hashing._fspath(key)]
        elif certificate is not None:
            raise errors.UsageError("a certificate needs its private key (key=) or a pkcs11_uri")
        else:
            args = ["sigstore"]
            if identity_token is not None:
                args += ["--identity-token", identity_token]
            if trust_config is not None:
                args += ["--trust-config", hashing._fspath(trust_config)]
        for c in certificate_chain:
            args += ["--certificate-chain", hashing._fspath(c)]
        if password_file is not None:
            args += ["--password-file", hashing._fspath(password_file)]
        for url in tsa_urls:
            args += ["--tsa-url", str(url)]
        args += [hashing._fspath(model), "--signature", hashing._fspath(signature),
                 "--claims", hashing._fspath(claims), "--predicate", predicate_path]
        if predicate_type is not None:
            args += ["--predicate-type", predicate_type]
        result: dict[str, Any] = json.loads(errors._call(_native.attest, args))
        return result


def verify_policy(
    model: hashing.PathLike,
    policy: hashing.PathLike,
    *,
    signature: hashing.PathLike | None = None,
    claims: hashing.PathLike | None = None,
    index: hashing.PathLike | None = None,
    ignore_paths: Iterable[hashing.PathLike] = (),
) -> dict[str, Any]:
    """Decides a deployment gate: verifies the model under a verification
    policy (``model-signing verify --policy``, docs/policies.md): the signer,
    the hashing, the files, then every claim rule with its CEL condition.

    Args:
        model: The model (a directory, one file, ``hf://...``).
        policy: The policy file (YAML, or JSON for a ``.json`` file).
        signature: The signature (default: found as ``verify`` finds it).
        claims: The claims file (default: ``claims.jsonl`` in the model,
          the current directory, or beside the model).
        index: A lineage index for ``signed_by`` in conditions.
        ignore_paths: Paths to leave out beyond those the signature lists.

    Returns:
        The decision when the policy allows the model: ``allowed``, every
        rule with its status and why, the signer, the claims.

    Raises:
        PolicyDenied: A rule failed; ``decision`` holds every rule.
        UsageError: The policy is not valid (the message names its line).
        EnvironmentFailure: A file cannot be read.
    """
    args = ["--policy", hashing._fspath(policy), hashing._fspath(model)]
    if signature is not None:
        args += ["--signature", hashing._fspath(signature)]
    if claims is not None:
        args += ["--claims", hashing._fspath(claims)]
    if index is not None:
        args += ["--index", hashing._fspath(index)]
    for p in ignore_paths:
        args += ["--ignore-paths", hashing._fspath(p)]
    code, out, err = errors._call(_native.verify_policy, args)
    try:
        decision: dict[str, Any] = json.loads(out)
    except ValueError:
        decision = {}
    if code == 0:
        return decision
    error = decision.get("error") or {}
    if code == 1 and not error:
        failed = [
            f"{r['rule']}: {r['detail']}" for r in decision.get("rules", [])
            if r.get("status") == "fail"
        ]
        raise errors.PolicyDenied(
            f"denied by policy {hashing._fspath(policy)}: " + "; ".join(failed), decision
        )
    message = error.get("message") or err.strip()
    if code == 2:
        raise errors.UsageError(message, decision)
    if code == 1:
        raise errors.VerificationError(message, decision)
    raise errors.EnvironmentFailure(message, decision)


def digest(
    model: hashing.PathLike,
    *,
    hash: str = "sha256",
    shard_size: int | None = None,
    ignore_paths: Iterable[hashing.PathLike] = (),
    ignore_git_paths: bool = True,
    allow_symlinks: bool = False,
    progress: Progress | None = None,
) -> str:
    """The digest a signature of the model would carry: ``sha256:<hex>``
    over the resource digests (what ``model-signing digest`` prints). The
    model is a directory, one file, or ``hf://ORG/NAME[@REVISION]``; the other
    arguments are those of :func:`sign`."""
    spec = _hashing_spec(hash, shard_size, ignore_paths, allow_symlinks, ignore_git_paths)
    data = json.loads(
        errors._call(_native.hash, hashing._fspath(model), json.dumps(spec), progress=progress)
    )
    return f"sha256:{data['root_digest']}"


def inspect(signature: hashing.PathLike = "model.sig") -> dict[str, Any]:
    """What a signature says, without verifying anything: its method,
    signer material, model name, digest, hashing and resources, as
    ``model-signing inspect --json`` prints it (``"verified": false``).

    Raises:
        MalformedInputError: The file is not a signature.
    """
    result: dict[str, Any] = json.loads(
        errors._call(_native.inspect, hashing._fspath(signature))
    )
    return result
