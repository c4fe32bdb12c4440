//! Command-line definitions. Every flag of the reference implementation is
//! accepted in both its hyphen and underscore spellings.

// The doc comments below are the `--help` text, written for a terminal
// (`hf://ORG/NAME[@REVISION]`, bare links), not for rustdoc.
#![allow(
    rustdoc::broken_intra_doc_links,
    rustdoc::bare_urls,
    rustdoc::invalid_html_tags
)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Sign and verify machine-learning models (OpenSSF Model Signing v1.0).
#[derive(Debug, Parser)]
#[command(
    name = "model-signing",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Exit codes: 0 success, 1 verification failed, 2 usage error, 3 other error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print nothing but results and errors (no progress bar).
    // Listed after each command's own options, not among them.
    #[arg(short, long, global = true, display_order = 900)]
    pub quiet: bool,
    /// Print more detail about what is done.
    #[arg(
        short,
        long,
        global = true,
        action = clap::ArgAction::Count,
        display_order = 901
    )]
    pub verbose: u8,
    /// The reference's logging level: DEBUG is --verbose, WARNING and above are --quiet.
    #[arg(
        long = "log-level",
        alias = "log_level",
        global = true,
        value_enum,
        ignore_case = true,
        env = "MODEL_SIGNING_LOG_LEVEL",
        value_name = "LEVEL",
        display_order = 902
    )]
    pub log_level: Option<LogLevel>,
}

/// `--log-level`, with the reference's level names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum LogLevel {
    Debug,
    Info,
    Warning,
    Error,
    Critical,
}

impl GlobalArgs {
    /// Neither quiet nor verbose.
    pub fn plain() -> Self {
        GlobalArgs {
            quiet: false,
            verbose: 0,
            log_level: None,
        }
    }

    /// Whether only results and errors are printed.
    pub fn is_quiet(&self) -> bool {
        self.quiet
            || matches!(
                self.log_level,
                Some(LogLevel::Warning | LogLevel::Error | LogLevel::Critical)
            )
    }

    /// How much detail is printed beyond the default.
    pub fn verbosity(&self) -> u8 {
        match self.log_level {
            Some(LogLevel::Debug) => self.verbose.max(1),
            _ => self.verbose,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign a model (with Sigstore when no method is named).
    Sign(Box<SignArgs>),
    /// Verify a model against its signature: with a method's trusted signer, or under a policy
    /// (`verify --policy FILE MODEL`, a deployment gate).
    Verify(Box<VerifyArgs>),
    /// Compute a model's digest (the in-toto subject a signature would carry).
    Digest(DigestArgs),
    /// Show what a signature says, without verifying it.
    Inspect(InspectArgs),
    /// Sign a claim about a model (training data, evaluations, model card, BOM), bound to its
    /// signature, and append it to a claims file.
    #[command(subcommand)]
    Attest(Box<AttestCommand>),
    /// Build the predicate of a common claim, for `attest --predicate`.
    #[command(subcommand)]
    Predicate(PredicateCommand),
    /// Record verified signatures and claims in a lineage index, and ask what derives from a
    /// dataset or model, or what went into one.
    #[command(subcommand)]
    Lineage(LineageCommand),
    /// Print a shell completion script (bash, elvish, fish, powershell, zsh).
    Completions(CompletionsArgs),
}

/// `verify METHOD ...`, or `verify --policy FILE MODEL ...`.
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    arg_required_else_help = true
)]
pub struct VerifyArgs {
    #[command(subcommand)]
    pub method: Option<VerifyCommand>,
    #[command(flatten)]
    pub policy: VerifyPolicyArgs,
}

/// The arguments of `verify --policy` (MODEL and --policy are required
/// unless a method is named).
#[derive(Debug, Args)]
pub struct VerifyPolicyArgs {
    /// The policy (YAML, or JSON for a .json file; docs/policies.md): the signers trusted for
    /// the model, the hashing accepted, unsigned files, and the claims required with conditions
    /// in CEL. Exit 0 allowed, 1 denied, 2 a bad policy, 3 an environment error.
    #[arg(long, value_name = "FILE", required = true)]
    pub policy: Option<PathBuf>,
    /// The model: a directory, a single file, hf://ORG/NAME[@REVISION] (in the Hugging Face cache),
    /// oci://HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST] (a registry) or oci-layout://DIR[:TAG] (an
    /// OCI image layout).
    #[arg(value_name = "MODEL", required = true)]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub inputs: GateInputs,
    /// A lineage index whose recorded signatures `signed_by(digest, signer)` in conditions looks
    /// up (default: none; every lookup is false).
    #[arg(long, value_name = "FILE")]
    pub index: Option<PathBuf>,
    /// Path to leave out in addition to those the signature lists (repeatable).
    #[arg(long = "ignore-paths", alias = "ignore_paths", value_name = "PATH")]
    pub ignore_paths: Vec<PathBuf>,
    /// Print the decision as one JSON object (fields: https://github.com/model-signing/model-signing-rs/blob/main/docs/json.md). The exit code is the same.
    #[arg(long)]
    pub json: bool,
}

/// Where `verify --policy` and `lineage add` find the signature and the
/// claims, and how many threads hash.
#[derive(Debug, Args)]
pub struct GateInputs {
    /// The signature (default: found as `verify key` finds it).
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
    /// The claims file (default: the first that exists of claims.jsonl in the model directory,
    /// ./claims.jsonl (where attest appends by default), and claims.jsonl next to the model).
    #[arg(long, value_name = "FILE")]
    pub claims: Option<PathBuf>,
    /// Number of hashing threads (default: one per CPU).
    #[arg(
        long,
        value_name = "N",
        value_parser = thread_count,
        allow_negative_numbers = true
    )]
    pub threads: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum LineageCommand {
    /// Verify a model (or dataset) under a policy and record its signature, its valid claims and
    /// the inputs its training claims list.
    Add(LineageAddArgs),
    /// List every model that derives, directly or transitively, from a dataset or model.
    #[command(alias = "impact")]
    Derived(LineageQueryArgs),
    /// List everything that went, directly or transitively, into a model.
    Inputs(LineageQueryArgs),
}

#[derive(Debug, Args)]
pub struct LineageAddArgs {
    /// The policy whose signers are trusted: its `model.signers` for the signature, any of its
    /// signers for claims.
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// The model or dataset: a directory, a single file, or hf://ORG/NAME[@REVISION].
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    #[command(flatten)]
    pub inputs: GateInputs,
    /// Record it as a dataset (default: a model, or a dataset for hf://datasets/...).
    #[arg(long)]
    pub dataset: bool,
    #[command(flatten)]
    pub index: IndexArg,
    /// Print what was recorded as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct IndexArg {
    /// The lineage index (SQLite; default: $XDG_DATA_HOME/model-signing/lineage.db, else
    /// ~/.local/share/model-signing/lineage.db).
    #[arg(long, value_name = "FILE")]
    pub index: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LineageQueryArgs {
    /// What to start from: a name, a sha256:DIGEST of a signature's statement, or a signature file.
    #[arg(value_name = "REFERENCE")]
    pub reference: String,
    #[command(flatten)]
    pub index: IndexArg,
    /// Follow only links that claims by this policy's signers make, and say which of its
    /// signers signed each node.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: GraphFormat,
}

/// How `lineage derived|inputs` prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// One line per node, by depth.
    Text,
    /// One JSON object (fields: docs/json.md).
    Json,
    /// Graphviz DOT.
    Dot,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The signature file (a Sigstore bundle, usually model.sig); or an OCI model (oci://,
    /// oci-layout://), whose first signature among its referrers is shown (the others are named);
    /// or a signature's own OCI reference (REPOSITORY@sha256:DIGEST of the signature manifest).
    #[arg(value_name = "SIGNATURE")]
    pub signature: PathBuf,
    /// Print as one JSON object (fields: https://github.com/model-signing/model-signing-rs/blob/main/docs/json.md).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub oci: OciArgs,
}

/// `sign METHOD ...`, or `sign MODEL ...` for Sigstore, the default method
/// (as in the reference implementation). A model whose path is a method name
/// must be given as `sign sigstore MODEL` (or `./key`).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SignArgs {
    #[command(subcommand)]
    pub method: Option<SignCommand>,
    #[command(flatten)]
    pub default: DefaultSignArgs,
}

/// The arguments of `sign sigstore`, when no method is named. The fields of
/// [`SignCommon`] are repeated with MODEL optional to clap (it is required
/// unless a method is named): an optional flattened `SignCommon` is never
/// seen as present by clap 4.6 when it holds a nested flatten.
#[derive(Debug, Args)]
pub struct DefaultSignArgs {
    /// The model: a directory, a single file, hf://ORG/NAME[@REVISION] (in the Hugging Face cache),
    /// oci://HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST] (a registry) or oci-layout://DIR[:TAG] (an
    /// OCI image layout).
    #[arg(value_name = "MODEL", required = true)]
    pub model: Option<PathBuf>,
    /// Where to write the signature [default: model.sig]. The signature of an OCI model
    /// (oci://, oci-layout://) is pushed to its registry or layout as a referrer of the model
    /// manifest unless this is given.
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
    #[command(flatten)]
    pub hashing: HashingArgs,
    /// Re-hash only the files changed since the last `--incremental` signing of this model path with
    /// these hashing options on this machine, reusing the other digests from a private state record
    /// in the user's cache directory (docs/security.md says when a digest is reused). Verification
    /// never uses the record.
    #[arg(long)]
    pub incremental: bool,
    /// Print what was signed as one JSON object (fields: https://github.com/model-signing/model-signing-rs/blob/main/docs/json.md).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub oci: OciSignArgs,
    #[command(flatten)]
    pub sigstore: SigstoreSignOptions,
    /// Arguments after MODEL, where a method name was misspelled
    /// (`sign gpg MODEL`): caught to say so rather than clap's message.
    #[arg(hide = true)]
    pub unexpected: Vec<PathBuf>,
}

impl SignArgs {
    /// The method named, or Sigstore with the top-level arguments.
    pub fn into_command(self) -> Option<SignCommand> {
        let DefaultSignArgs {
            model,
            signature,
            hashing,
            incremental,
            json,
            oci,
            sigstore,
            unexpected: _,
        } = self.default;
        self.method.or(model.map(|model| {
            SignCommand::Sigstore(SignSigstoreArgs {
                common: SignCommon {
                    model,
                    signature,
                    hashing,
                    incremental,
                    json,
                    oci,
                },
                sigstore,
            })
        }))
    }
}

#[derive(Debug, Subcommand)]
pub enum SignCommand {
    /// Sign with Sigstore (the default): a short-lived certificate for your OIDC identity,
    /// recorded in a transparency log.
    Sigstore(SignSigstoreArgs),
    /// Sign with an elliptic-curve private key (P-256, P-384 or P-521).
    Key(SignKeyArgs),
    /// Sign with a private key and its X.509 certificate (and chain).
    Certificate(SignCertificateArgs),
    /// Sign with a private key held by a PKCS#11 token (HSM, smart card), named by an RFC 7512 URI.
    #[command(name = "pkcs11-key")]
    Pkcs11Key(SignPkcs11KeyArgs),
    /// Sign with a PKCS#11 token key and its X.509 certificate (and chain).
    #[command(name = "pkcs11-certificate")]
    Pkcs11Certificate(SignPkcs11CertificateArgs),
}

#[derive(Debug, Subcommand)]
pub enum VerifyCommand {
    /// Verify a signature made with a private key, given its public key.
    Key(VerifyKeyArgs),
    /// Verify a signature made with a certificate, given the trusted CA certificates.
    Certificate(VerifyCertificateArgs),
    /// Verify a Sigstore (keyless) signature, offline: certificate, log entry, signer identity.
    Sigstore(VerifySigstoreArgs),
}

pub type SignKeyArgs = KeyMethodArgs<SignCommon>;
pub type SignCertificateArgs = CertificateMethodArgs<SignCommon>;
pub type SignPkcs11KeyArgs = Pkcs11KeyMethodArgs<SignCommon>;
pub type SignPkcs11CertificateArgs = Pkcs11CertificateMethodArgs<SignCommon>;
pub type SignSigstoreArgs = SigstoreMethodArgs<SignCommon>;

/// `attest METHOD ...`: a signed claim about a model, appended to a claims file.
#[derive(Debug, Subcommand)]
pub enum AttestCommand {
    /// Attest with Sigstore: a short-lived certificate for your OIDC identity, recorded in a
    /// transparency log.
    Sigstore(SigstoreMethodArgs<AttestCommon>),
    /// Attest with an elliptic-curve, RSA or Ed25519 private key.
    Key(KeyMethodArgs<AttestCommon>),
    /// Attest with a private key and its X.509 certificate (and chain).
    Certificate(CertificateMethodArgs<AttestCommon>),
    /// Attest with a private key held by a PKCS#11 token, named by an RFC 7512 URI.
    #[command(name = "pkcs11-key")]
    Pkcs11Key(Pkcs11KeyMethodArgs<AttestCommon>),
    /// Attest with a PKCS#11 token key and its X.509 certificate (and chain).
    #[command(name = "pkcs11-certificate")]
    Pkcs11Certificate(Pkcs11CertificateMethodArgs<AttestCommon>),
}

/// Options shared by every `attest` method.
#[derive(Debug, Args)]
pub struct AttestCommon {
    /// The model the claim is about: a directory, a single file, or hf://ORG/NAME[@REVISION]
    /// (or hf://datasets/ORG/NAME[@REVISION]). It is hashed and must match its signature.
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    /// The model's signature, which the claim binds to.
    #[arg(long, value_name = "FILE", default_value = "model.sig")]
    pub signature: PathBuf,
    /// The claims file the signed claim is appended to (one Sigstore bundle per line).
    #[arg(long, value_name = "FILE", default_value = "claims.jsonl")]
    pub claims: PathBuf,
    /// The predicate type (a URI); --predicate is then the predicate itself. Without it,
    /// --predicate is what `model-signing predicate` writes: {"predicateType", "predicate"}.
    #[arg(long = "predicate-type", alias = "predicate_type", value_name = "URI")]
    pub predicate_type: Option<String>,
    /// The predicate: a JSON file.
    #[arg(long, value_name = "FILE")]
    pub predicate: PathBuf,
    /// Print what was attested as one JSON object (fields: https://github.com/model-signing/model-signing-rs/blob/main/docs/json.md).
    #[arg(long)]
    pub json: bool,
}

/// `predicate KIND ...`: builds the predicate of a common claim.
#[derive(Debug, Subcommand)]
pub enum PredicateCommand {
    /// A model card: the YAML front matter of a Hugging Face README.md, and the README's digest.
    #[command(name = "model-card")]
    ModelCard(PredicateFileArgs),
    /// Evaluation results: a JSON file {"results": [{"task", "dataset", "metric", "value"}]},
    /// a Hugging Face model-index (JSON), or a README.md whose front matter holds one.
    Evaluation(PredicateFileArgs),
    /// Training provenance (SLSA Provenance v1) listing datasets and base models by their
    /// signatures.
    Training(TrainingArgs),
    /// A CycloneDX 1.6 ML-BOM of the model, its datasets and base models.
    Cyclonedx(CycloneDxArgs),
}

#[derive(Debug, Args)]
pub struct PredicateFileArgs {
    /// The input file.
    #[arg(value_name = "FILE")]
    pub input: PathBuf,
    #[command(flatten)]
    pub output: PredicateOutput,
}

#[derive(Debug, Args)]
pub struct PredicateOutput {
    /// Write the predicate to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Inputs of a model, named by their signatures.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// The signature of a dataset the model was trained or evaluated on (repeatable).
    #[arg(long = "dataset", value_name = "SIGNATURE")]
    pub datasets: Vec<PathBuf>,
    /// The signature of a base model (repeatable).
    #[arg(long = "base-model", alias = "base_model", value_name = "SIGNATURE")]
    pub base_models: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TrainingArgs {
    /// Who ran the training: a URI naming the platform or pipeline.
    #[arg(long = "builder-id", alias = "builder_id", value_name = "URI")]
    pub builder_id: String,
    #[command(flatten)]
    pub inputs: InputArgs,
    /// The run's parameters (hyperparameters, code revision): a JSON object file.
    #[arg(long, value_name = "FILE")]
    pub parameters: Option<PathBuf>,
    #[command(flatten)]
    pub output: PredicateOutput,
}

#[derive(Debug, Args)]
pub struct CycloneDxArgs {
    /// The model's signature.
    #[arg(
        long = "model-signature",
        alias = "model_signature",
        value_name = "FILE"
    )]
    pub model_signature: PathBuf,
    /// The model's README.md, for its license and task.
    #[arg(long = "model-card", alias = "model_card", value_name = "FILE")]
    pub model_card: Option<PathBuf>,
    #[command(flatten)]
    pub inputs: InputArgs,
    #[command(flatten)]
    pub output: PredicateOutput,
}

/// Options shared by every `sign` method.
#[derive(Debug, Args)]
pub struct SignCommon {
    /// The model: a directory, a single file, hf://ORG/NAME[@REVISION] (in the Hugging Face cache),
    /// oci://HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST] (a registry) or oci-layout://DIR[:TAG] (an
    /// OCI image layout).
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    /// Where to write the signature [default: model.sig]. The signature of an OCI model
    /// (oci://, oci-layout://) is pushed to its registry or layout as a referrer of the model
    /// manifest unless this is given.
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
    #[command(flatten)]
    pub hashing: HashingArgs,
    /// Re-hash only the files changed since the last `--incremental` signing of this model path with
    /// these hashing options on this machine, reusing the other digests from a private state record
    /// in the user's cache directory (docs/security.md says when a digest is reused). Verification
    /// never uses the record.
    #[arg(long)]
    pub incremental: bool,
    /// Print what was signed as one JSON object (fields: https://github.com/model-signing/model-signing-rs/blob/main/docs/json.md).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub oci: OciSignArgs,
}

/// How the password of an encrypted private key is given.
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// Read the key's password from the first line of this file.
    #[arg(
        long = "password-file",
        alias = "password_file",
        value_name = "FILE",
        conflicts_with = "password"
    )]
    pub password_file: Option<PathBuf>,
    /// The key's password. Visible to other users in the process list: prefer
    /// --password-file, the MODEL_SIGNING_PASSWORD variable or the prompt.
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<SecretArg>,
}

/// A secret given as a flag value (a password, an identity token): its
/// `Debug` output never shows it, and it is wiped from memory when dropped.
#[derive(Clone)]
pub struct SecretArg(zeroize::Zeroizing<String>);

impl SecretArg {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretArg {
    fn from(s: String) -> Self {
        SecretArg(zeroize::Zeroizing::new(s))
    }
}

impl std::fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretArg(REDACTED)")
    }
}

/// RFC 3161 timestamps for key, certificate and PKCS#11 signatures.
#[derive(Debug, Args)]
pub struct TsaArgs {
    /// URL of an RFC 3161 timestamp authority: the signature then carries its timestamp, which lets `verify --tsa-certificate-chain` check the signing certificate at the time of signing (repeatable: one timestamp per authority).
    #[arg(long = "tsa-url", alias = "tsa_url", value_name = "URL")]
    pub tsa_url: Vec<String>,
}

/// `sign key` and `attest key`: `C` is what is signed.
#[derive(Debug, Args)]
pub struct KeyMethodArgs<C: Args> {
    #[command(flatten)]
    pub common: C,
    #[command(flatten)]
    pub tsa: TsaArgs,
    /// The private key (PEM: PKCS#8, encrypted PKCS#8, SEC1 or PKCS#1 RSA; ECDSA P-256, P-384 or P-521, RSA 2048, 3072 or 4096, or Ed25519).
    #[arg(long = "private-key", alias = "private_key", value_name = "FILE")]
    pub private_key: PathBuf,
    #[command(flatten)]
    pub password: PasswordArgs,
}

/// `sign certificate` and `attest certificate`.
#[derive(Debug, Args)]
pub struct CertificateMethodArgs<C: Args> {
    #[command(flatten)]
    pub common: C,
    #[command(flatten)]
    pub tsa: TsaArgs,
    /// The private key (PEM: PKCS#8, encrypted PKCS#8, SEC1 or PKCS#1 RSA; ECDSA P-256, P-384 or P-521, RSA 2048, 3072 or 4096, or Ed25519).
    #[arg(long = "private-key", alias = "private_key", value_name = "FILE")]
    pub private_key: PathBuf,
    #[command(flatten)]
    pub password: PasswordArgs,
    /// The signing certificate (PEM), issued for the private key.
    #[arg(
        long = "signing-certificate",
        alias = "signing_certificate",
        value_name = "FILE"
    )]
    pub signing_certificate: PathBuf,
    /// Certificates above the signing certificate, stored in the signature (repeatable; PEM files may hold several).
    #[arg(
        long = "certificate-chain",
        alias = "certificate_chain",
        value_name = "FILE"
    )]
    pub certificate_chain: Vec<PathBuf>,
}

/// A PKCS#11 URI as given on the command line. It may hold the PIN
/// (`pin-value`): its `Debug` output never shows it, and it is wiped from
/// memory when dropped.
#[derive(Clone)]
pub struct SecretUri(pub zeroize::Zeroizing<String>);

impl From<String> for SecretUri {
    fn from(s: String) -> Self {
        SecretUri(zeroize::Zeroizing::new(s))
    }
}

impl std::fmt::Debug for SecretUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretUri(REDACTED)")
    }
}

/// Which token key signs.
#[derive(Debug, Args)]
pub struct Pkcs11Args {
    /// RFC 7512 URI of the private key, in single quotes, e.g.
    /// 'pkcs11:token=HSM;object=signer?module-path=/usr/lib/libhsm.so&pin-source=/run/pin'.
    /// Without pin-value or pin-source, the PIN is read from MODEL_SIGNING_PKCS11_PIN, else
    /// asked for on the terminal.
    #[arg(long = "pkcs11-uri", alias = "pkcs11_uri", value_name = "URI")]
    pub pkcs11_uri: SecretUri,
    /// The PKCS#11 module, an absolute path (when the URI has no module-path or module-name).
    #[arg(long = "module-path", alias = "module_path", value_name = "FILE")]
    pub module_path: Option<PathBuf>,
}

/// `sign pkcs11-key` and `attest pkcs11-key`.
#[derive(Debug, Args)]
pub struct Pkcs11KeyMethodArgs<C: Args> {
    #[command(flatten)]
    pub common: C,
    #[command(flatten)]
    pub tsa: TsaArgs,
    #[command(flatten)]
    pub token: Pkcs11Args,
}

/// `sign pkcs11-certificate` and `attest pkcs11-certificate`.
#[derive(Debug, Args)]
pub struct Pkcs11CertificateMethodArgs<C: Args> {
    #[command(flatten)]
    pub common: C,
    #[command(flatten)]
    pub tsa: TsaArgs,
    #[command(flatten)]
    pub token: Pkcs11Args,
    /// The signing certificate (PEM), issued for the token key.
    #[arg(
        long = "signing-certificate",
        alias = "signing_certificate",
        value_name = "FILE"
    )]
    pub signing_certificate: PathBuf,
    /// Certificates above the signing certificate, stored in the signature (repeatable; PEM files may hold several).
    #[arg(
        long = "certificate-chain",
        alias = "certificate_chain",
        value_name = "FILE"
    )]
    pub certificate_chain: Vec<PathBuf>,
}

/// `sign sigstore` and `attest sigstore`.
#[derive(Debug, Args)]
pub struct SigstoreMethodArgs<C: Args> {
    #[command(flatten)]
    pub common: C,
    #[command(flatten)]
    pub sigstore: SigstoreSignOptions,
}

/// Where the identity comes from and which Sigstore instance signs.
#[derive(Debug, Args)]
pub struct SigstoreSignOptions {
    /// A fixed OIDC identity token (JWT), instead of ambient credentials or the login.
    /// Visible in the process list: prefer --identity-token-file or SIGSTORE_ID_TOKEN.
    #[arg(
        long = "identity-token",
        alias = "identity_token",
        value_name = "TOKEN",
        conflicts_with = "identity_token_file"
    )]
    pub identity_token: Option<SecretArg>,
    /// Read the OIDC identity token from this file.
    #[arg(
        long = "identity-token-file",
        alias = "identity_token_file",
        value_name = "FILE"
    )]
    pub identity_token_file: Option<PathBuf>,
    /// Sign with Sigstore's staging instance (test-only signatures).
    #[arg(
        long = "use-staging",
        alias = "use_staging",
        conflicts_with = "trust_config"
    )]
    pub use_staging: bool,
    /// A client trust config (trusted root and signing config): the services of a private
    /// Sigstore instance.
    #[arg(long = "trust-config", alias = "trust_config", value_name = "FILE")]
    pub trust_config: Option<PathBuf>,
    /// Take the identity token from the CI environment (GitHub Actions, GitLab, Buildkite,
    /// CircleCI, Google Cloud). Default: on when CI=true.
    #[arg(
        long = "use-ambient-credentials",
        alias = "use_ambient_credentials",
        overrides_with = "no_use_ambient_credentials"
    )]
    pub use_ambient_credentials: bool,
    /// Never take the identity token from the CI environment.
    #[arg(
        long = "no-use-ambient-credentials",
        alias = "no_use_ambient_credentials",
        overrides_with = "use_ambient_credentials"
    )]
    pub no_use_ambient_credentials: bool,
    /// Log in out of band: print the login URL and read the code, without opening a browser.
    #[arg(long = "oauth-force-oob", alias = "oauth_force_oob")]
    pub oauth_force_oob: bool,
    /// The OAuth client ID of the interactive login.
    #[arg(
        long = "client-id",
        alias = "client_id",
        value_name = "ID",
        default_value = "sigstore"
    )]
    pub client_id: String,
    /// The OAuth client secret of the interactive login, for a provider whose client needs one
    /// (Sigstore's public providers do not); sent to the provider's token endpoint only.
    #[arg(long = "client-secret", alias = "client_secret", value_name = "SECRET")]
    pub client_secret: Option<model_signing_sigstore::Secret>,
}

/// Options shared by every `verify` method.
#[derive(Debug, Args)]
pub struct VerifyCommon {
    /// The model: a directory, a single file, hf://ORG/NAME[@REVISION] (in the Hugging Face cache),
    /// oci://HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST] (a registry) or oci-layout://DIR[:TAG] (an
    /// OCI image layout).
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    /// The signature. Default: the first that exists of model.sig inside the model directory,
    /// ./model.sig (where sign writes by default), and model.sig next to the model; when
    /// several exist, the first is used and the others are named.
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
    /// Path to leave out in addition to those the signature lists (repeatable).
    /// Relative paths are resolved against the current directory.
    #[arg(long = "ignore-paths", alias = "ignore_paths", value_name = "PATH")]
    pub ignore_paths: Vec<PathBuf>,
    /// For signatures that record no ignore paths (made before v1.1, or by the reference 1.1.1
    /// with none): leave out git files at the model root unless the signature covers them, as
    /// the reference does (default). Other signatures say exactly what is left out.
    #[arg(
        long = "ignore-git-paths",
        alias = "ignore_git_paths",
        overrides_with = "no_ignore_git_paths"
    )]
    pub ignore_git_paths: bool,
    /// For signatures that record no ignore paths: check git files at the model root too.
    #[arg(
        long = "no-ignore-git-paths",
        alias = "no_ignore_git_paths",
        overrides_with = "ignore_git_paths"
    )]
    pub no_ignore_git_paths: bool,
    /// Accepted for compatibility; whether links are followed is read from the signature.
    #[arg(long = "allow-symlinks", alias = "allow_symlinks")]
    pub allow_symlinks: bool,
    /// Check only the files the signature lists; list the others as skipped.
    #[arg(
        long = "ignore-unsigned-files",
        alias = "ignore_unsigned_files",
        overrides_with = "no_ignore_unsigned_files"
    )]
    pub ignore_unsigned_files: bool,
    /// Fail on files the signature does not list (default).
    #[arg(
        long = "no-ignore-unsigned-files",
        alias = "no-ignore_unsigned_files",
        alias = "no_ignore_unsigned_files",
        overrides_with = "ignore_unsigned_files"
    )]
    pub no_ignore_unsigned_files: bool,
    /// Check only these files (paths relative to the model directory, as the signature lists
    /// them; repeatable): the signature and the signer are verified in full, then only these
    /// files are hashed and compared, each of which the signature must list. The other files
    /// are NOT checked.
    #[arg(long = "files", value_name = "PATH", num_args = 1.., conflicts_with = "ignore_unsigned_files")]
    pub files: Vec<PathBuf>,
    /// Like --files, with the paths read from FILE, one per line (blank lines skipped).
    #[arg(
        long = "files-from",
        value_name = "FILE",
        conflicts_with = "ignore_unsigned_files"
    )]
    pub files_from: Option<PathBuf>,
    /// Number of hashing threads (default: one per CPU).
    #[arg(
        long,
        value_name = "N",
        value_parser = thread_count,
        allow_negative_numbers = true
    )]
    pub threads: Option<usize>,
    /// After the model verified, verify every claim in this claims file (one Sigstore bundle
    /// per line) and report each; fails when any claim is not valid. Claims by the model's
    /// signer are trusted, and by --claim-key and --claim-certificate-chain.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["files", "files_from"])]
    pub claims: Option<PathBuf>,
    /// Trust claims signed with this public key (PEM; repeatable).
    #[arg(
        long = "claim-key",
        alias = "claim_key",
        value_name = "FILE",
        requires = "claims"
    )]
    pub claim_key: Vec<PathBuf>,
    /// Trust claims signed with certificates that chain to these CA certificates (repeatable).
    #[arg(
        long = "claim-certificate-chain",
        alias = "claim_certificate_chain",
        value_name = "FILE",
        requires = "claims"
    )]
    pub claim_certificate_chain: Vec<PathBuf>,
    /// Print the outcome as one JSON object (fields: https://github.com/model-signing/model-signing-rs/blob/main/docs/json.md). The exit code is the same.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub oci: OciVerifyArgs,
}

#[derive(Debug, Args)]
pub struct VerifyKeyArgs {
    #[command(flatten)]
    pub common: VerifyCommon,
    /// The signer's public key (PEM).
    #[arg(long = "public-key", alias = "public_key", value_name = "FILE")]
    pub public_key: PathBuf,
    /// Trust an RFC 3161 timestamp authority: its certificates (PEM: the root, any intermediates and optionally its signing certificate; repeatable, one authority per file). Every timestamp in the signature must then verify against one of them, and the signing certificate is checked at each timestamp's time.
    #[arg(
        long = "tsa-certificate-chain",
        alias = "tsa_certificate_chain",
        value_name = "FILE"
    )]
    pub tsa_certificate_chain: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyCertificateArgs {
    #[command(flatten)]
    pub common: VerifyCommon,
    /// Trusted CA certificates (repeatable; PEM files may hold several). Only these are trusted.
    #[arg(
        long = "certificate-chain",
        alias = "certificate_chain",
        value_name = "FILE",
        required = true
    )]
    pub certificate_chain: Vec<PathBuf>,
    /// Trust an RFC 3161 timestamp authority: its certificates (PEM: the root, any intermediates and optionally its signing certificate; repeatable, one authority per file). Every timestamp in the signature must then verify against one of them, and the signing certificate is checked at each timestamp's time.
    #[arg(
        long = "tsa-certificate-chain",
        alias = "tsa_certificate_chain",
        value_name = "FILE"
    )]
    pub tsa_certificate_chain: Vec<PathBuf>,
    /// Print the SHA-256 fingerprints of the certificates on the validated path.
    #[arg(long = "log-fingerprints", alias = "log_fingerprints")]
    pub log_fingerprints: bool,
}

#[derive(Debug, Args)]
pub struct VerifySigstoreArgs {
    #[command(flatten)]
    pub common: VerifyCommon,
    /// The signer's identity (the email or URI in the certificate), matched exactly.
    #[arg(
        long,
        value_name = "IDENTITY",
        required_unless_present = "identity_regexp",
        conflicts_with = "identity_regexp"
    )]
    pub identity: Option<String>,
    /// The OIDC issuer (identity provider URL) in the certificate, matched exactly.
    #[arg(
        long = "identity-provider",
        alias = "identity_provider",
        value_name = "URL",
        required_unless_present = "identity_provider_regexp",
        conflicts_with = "identity_provider_regexp"
    )]
    pub identity_provider: Option<String>,
    /// A regular expression the whole identity must match (anchored at both ends).
    #[arg(
        long = "identity-regexp",
        alias = "identity_regexp",
        value_name = "REGEX"
    )]
    pub identity_regexp: Option<String>,
    /// A regular expression the whole identity provider URL must match (anchored at both ends).
    #[arg(
        long = "identity-provider-regexp",
        alias = "identity_provider_regexp",
        value_name = "REGEX"
    )]
    pub identity_provider_regexp: Option<String>,
    /// Also require a GitHub Actions certificate from this repository (OWNER/NAME).
    #[arg(
        long = "github-repository",
        alias = "github_repository",
        value_name = "OWNER/NAME"
    )]
    pub github_repository: Option<String>,
    /// Also require a GitHub Actions certificate for this git ref (refs/heads/main, refs/tags/v1).
    #[arg(long = "github-ref", alias = "github_ref", value_name = "REF")]
    pub github_ref: Option<String>,
    /// Trust claims (--claims) signed with Sigstore by this identity, matched exactly
    /// (repeatable; each with the --claim-identity-provider at the same position).
    #[arg(
        long = "claim-identity",
        alias = "claim_identity",
        value_name = "IDENTITY",
        requires = "claims"
    )]
    pub claim_identity: Vec<String>,
    /// The OIDC issuer of the --claim-identity at the same position, matched exactly.
    #[arg(
        long = "claim-identity-provider",
        alias = "claim_identity_provider",
        value_name = "URL",
        requires = "claims"
    )]
    pub claim_identity_provider: Vec<String>,
    /// Trust Sigstore's staging instance instead of production.
    #[arg(
        long = "use-staging",
        alias = "use_staging",
        conflicts_with_all = ["trust_config", "trusted_root"]
    )]
    pub use_staging: bool,
    /// A client trust config (trusted root and signing config; a private Sigstore instance).
    #[arg(
        long = "trust-config",
        alias = "trust_config",
        value_name = "FILE",
        conflicts_with = "trusted_root"
    )]
    pub trust_config: Option<PathBuf>,
    /// A trusted_root.json file. Default: the production root built into this program.
    #[arg(long = "trusted-root", alias = "trusted_root", value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
}

/// The names of the `sign` methods.
fn sign_methods() -> Vec<String> {
    use clap::CommandFactory;
    Cli::command()
        .find_subcommand("sign")
        .map(|sign| {
            sign.get_subcommands()
                .map(|m| m.get_name().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The message for `sign WORD MODEL ...` where WORD is no signing method.
pub fn unknown_sign_method(word: &str) -> String {
    format!(
        "unknown signing method `{word}`: the methods are {} (`sign MODEL` alone signs with Sigstore)",
        sign_methods().join(", ")
    )
}

/// When clap refuses `sign WORD MODEL --flag ...` (the flags of a method
/// that WORD misspells), the message to give instead: WORD is not a method,
/// not a path, and a model follows it.
pub fn misspelled_sign_method(args: &[std::ffi::OsString]) -> Option<String> {
    let mut rest = args
        .iter()
        .skip(1)
        .skip_while(|a| a.to_str().is_some_and(|a| a.starts_with('-')));
    if rest.next()?.to_str()? != "sign" {
        return None;
    }
    let word = rest.next()?.to_str()?;
    let model = rest.next()?.to_str()?;
    let is_method = sign_methods().iter().any(|m| m == word);
    if word.starts_with('-')
        || model.starts_with('-')
        || is_method
        || std::path::Path::new(word).exists()
        || word.starts_with("hf://")
    {
        return None;
    }
    Some(unknown_sign_method(word))
}

/// When clap refuses `verify WORD ...` without `--policy` (WORD not a
/// method: a misspelt one, or the model given first), the message to give
/// instead.
pub fn misused_verify(args: &[std::ffi::OsString]) -> Option<String> {
    let mut rest = args
        .iter()
        .skip(1)
        .skip_while(|a| a.to_str().is_some_and(|a| a.starts_with('-')));
    if rest.next()?.to_str()? != "verify" {
        return None;
    }
    let rest: Vec<&str> = rest.filter_map(|a| a.to_str()).collect();
    if rest
        .iter()
        .any(|a| *a == "--policy" || a.starts_with("--policy="))
    {
        return None;
    }
    let word = rest.iter().find(|a| !a.starts_with('-'))?;
    let methods = ["key", "certificate", "sigstore", "help"];
    if methods.contains(word) {
        return None;
    }
    let path = std::path::Path::new(word);
    Some(if path.exists() || word.starts_with("hf://") {
        format!(
            "name how to verify {word}: a method before the model (`verify key|certificate|sigstore MODEL ...`), or a policy (`verify --policy FILE MODEL`)"
        )
    } else {
        format!(
            "unknown verification method `{word}`: the methods are key, certificate, sigstore (or verify under a policy with `verify --policy FILE MODEL`)"
        )
    })
}

/// `--threads`: a positive whole number.
fn thread_count(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("at least one thread is needed".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err("expected a positive whole number".to_owned()),
    }
}

/// `--shard-size`: a positive number of bytes.
fn shard_size(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("the shard size must be at least 1 byte".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err("expected a positive whole number of bytes, without a unit".to_owned()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HashArg {
    Sha256,
    Blake2b,
    Blake3,
}

/// How a model is hashed; shared by `digest` and `sign`.
#[derive(Debug, Args)]
pub struct HashingArgs {
    /// Content hash for every file or shard.
    #[arg(
        long = "hash",
        value_enum,
        default_value = "sha256",
        alias = "hash_type",
        alias = "hash-type"
    )]
    pub hash: HashArg,
    /// Hash files in shards of this many bytes (the `shards` method) instead of whole files.
    #[arg(
        long = "shard-size",
        alias = "shard_size",
        value_name = "BYTES",
        value_parser = shard_size,
        allow_negative_numbers = true
    )]
    pub shard_size: Option<u64>,
    /// Path to leave out of the manifest, with everything below it (repeatable).
    /// Relative paths are resolved against the current directory and must lie
    /// inside the model.
    #[arg(long = "ignore-paths", alias = "ignore_paths", value_name = "PATH")]
    pub ignore_paths: Vec<PathBuf>,
    /// Ignore .git, .gitattributes, .github and .gitignore at the model root (default).
    #[arg(
        long = "ignore-git-paths",
        alias = "ignore_git_paths",
        overrides_with = "no_ignore_git_paths"
    )]
    pub ignore_git_paths: bool,
    /// Include git-related files at the model root in the manifest.
    #[arg(
        long = "no-ignore-git-paths",
        alias = "no_ignore_git_paths",
        overrides_with = "ignore_git_paths"
    )]
    pub no_ignore_git_paths: bool,
    /// Follow symbolic links (refused by default).
    #[arg(long = "allow-symlinks", alias = "allow_symlinks")]
    pub allow_symlinks: bool,
    /// Number of hashing threads (default: one per CPU).
    #[arg(
        long,
        value_name = "N",
        value_parser = thread_count,
        allow_negative_numbers = true
    )]
    pub threads: Option<usize>,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// The model: a directory, a single file, hf://ORG/NAME[@REVISION] (in the Hugging Face cache),
    /// oci://HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST] (a registry) or oci-layout://DIR[:TAG] (an
    /// OCI image layout).
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    #[command(flatten)]
    pub hashing: HashingArgs,
    /// Print the whole manifest as JSON instead of the digest.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub oci: OciSignArgs,
}

/// How OCI models are reached and read (oci://, oci-layout://).
#[derive(Debug, Args, Clone, Default)]
pub struct OciArgs {
    /// A PEM file of CA certificates to trust for the registry, besides the system's roots
    /// (repeatable).
    #[arg(long = "registry-ca", value_name = "FILE", help_heading = "OCI models")]
    pub registry_ca: Vec<PathBuf>,
    /// Allow plain HTTP to a registry that is not on this machine (loopback registries may
    /// use it anyway when they do not answer HTTPS). Certificates are never left unchecked.
    #[arg(long = "insecure-registry", help_heading = "OCI models")]
    pub insecure_registry: bool,
    /// For an image index: the manifest of this platform, OS/ARCH[/VARIANT] (e.g. linux/amd64).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", help_heading = "OCI models")]
    pub platform: Option<String>,
}

/// How an OCI model's layers become the signed resources: `files` (raw layers are files,
/// archive layers are unpacked: the manifest of the unpacked model directory) or `blobs` (each
/// layer is one resource with its blob digest, named by its title else layer_NNN.tar.gz, and the
/// config blob is config.json: the Go implementation's OCI signatures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OciLayersArg {
    #[default]
    Files,
    Blobs,
}

/// The OCI flags of `sign` and `digest`.
#[derive(Debug, Args, Clone, Default)]
pub struct OciSignArgs {
    #[command(flatten)]
    pub source: OciArgs,
    /// How an OCI model's layers become resources.
    #[arg(
        long = "oci-layers",
        value_enum,
        default_value = "files",
        help_heading = "OCI models"
    )]
    pub oci_layers: OciLayersArg,
}

/// How verification reads an OCI model's layers: `auto` (blobs when the signature lists the
/// config blob as config.json with its digest, as the blobs mode signs, else files), or `files`
/// or `blobs` as `sign --oci-layers` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OciVerifyLayersArg {
    #[default]
    Auto,
    Files,
    Blobs,
}

/// The OCI flags of `verify`.
#[derive(Debug, Args, Clone, Default)]
pub struct OciVerifyArgs {
    #[command(flatten)]
    pub source: OciArgs,
    /// How an OCI model's layers are read: auto (blobs when the signature lists the config blob as
    /// config.json with its digest, else files), files or blobs (as sign --oci-layers).
    #[arg(
        long = "oci-layers",
        value_enum,
        default_value = "auto",
        help_heading = "OCI models"
    )]
    pub oci_layers: OciVerifyLayersArg,
    /// Stream and check every blob against its digest, raw layers too (by default a raw layer's
    /// digest is taken from the manifest, which was fetched by digest).
    #[arg(long, help_heading = "OCI models")]
    pub deep: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
