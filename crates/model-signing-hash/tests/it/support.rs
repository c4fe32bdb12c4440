//! Helpers shared by the integration tests: a small language for describing
//! model trees, and a bridge to the Python reference implementation
//! (`model-signing` 1.1.1, installed by `scripts/setup-reference-venv`).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use model_signing_hash::{HashAlgorithm, HashConfig, HashError};

/// The content of a file in a model description.
#[derive(Debug, Clone, Copy)]
pub enum Content {
    /// These exact bytes.
    Text(&'static str),
    /// `len` pseudo-random bytes determined by `seed` (see [`pattern`]).
    Pattern { len: usize, seed: u32 },
}

impl Content {
    pub fn bytes(self) -> Vec<u8> {
        match self {
            Content::Text(s) => s.as_bytes().to_vec(),
            Content::Pattern { len, seed } => pattern(len, seed),
        }
    }
}

/// One entry of a model description. Paths are `/`-separated and relative to
/// the model directory; a path starting with `../` lies next to the model
/// (for link targets outside it). Parent directories are created as needed.
#[derive(Debug, Clone, Copy)]
pub enum Node {
    File(&'static str, Content),
    /// An (empty) directory.
    Dir(&'static str),
    /// A symbolic link at the first path whose target is the second, verbatim.
    Link(&'static str, &'static str),
}

pub const fn text(path: &'static str, content: &'static str) -> Node {
    Node::File(path, Content::Text(content))
}

pub const fn bytes(path: &'static str, len: usize, seed: u32) -> Node {
    Node::File(path, Content::Pattern { len, seed })
}

pub const fn dir(path: &'static str) -> Node {
    Node::Dir(path)
}

pub const fn link(path: &'static str, target: &'static str) -> Node {
    Node::Link(path, target)
}

/// Deterministic pseudo-random bytes (xorshift32), so that large test files
/// need not be committed.
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9) ^ 0x2545_f491;
    if x == 0 {
        x = 1;
    }
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// Creates `base/model` holding `nodes` and returns its path.
pub fn build(base: &Path, nodes: &[Node]) -> PathBuf {
    let model = base.join("model");
    fs::create_dir_all(&model).expect("create model dir");
    for node in nodes {
        match *node {
            Node::File(path, content) => {
                let p = model.join(path);
                make_parent(&p);
                fs::write(&p, content.bytes()).expect("write model file");
            }
            Node::Dir(path) => fs::create_dir_all(model.join(path)).expect("create model subdir"),
            Node::Link(path, target) => {
                let p = model.join(path);
                make_parent(&p);
                std::os::unix::fs::symlink(target, &p).expect("create symlink");
            }
        }
    }
    model
}

fn make_parent(p: &Path) {
    if let Some(parent) = p.parent() {
        fs::create_dir_all(parent).expect("create parent dir");
    }
}

/// Copies the tree at `src` to `dst`, replacing every symbolic link by a copy
/// of what it points to (a file or a whole directory).
pub fn copy_dereferenced(src: &Path, dst: &Path) {
    let meta = fs::metadata(src).expect("stat source");
    if meta.is_dir() {
        fs::create_dir_all(dst).expect("create copy dir");
        let mut items: Vec<_> = fs::read_dir(src)
            .expect("read source dir")
            .map(|e| e.expect("read source entry").file_name())
            .collect();
        items.sort();
        for name in items {
            copy_dereferenced(&src.join(&name), &dst.join(&name));
        }
    } else {
        fs::copy(src, dst).expect("copy file");
    }
}

/// Creates a FIFO with the `mkfifo` tool (the tests forbid `unsafe`, so no libc call).
pub fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {} failed", path.display());
}

/// Asserts that the error message names `path`.
pub fn assert_names(err: &HashError, path: &Path) {
    let msg = err.to_string();
    let shown = path.display().to_string();
    assert!(
        msg.contains(&shown),
        "error message {msg:?} does not name {shown}"
    );
}

/// A resource as the table and the reference give it: (name, algorithm, hex digest).
pub type Row = (String, String, String);

/// What the reference computed for one model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefManifest {
    pub root: String,
    pub resources: Vec<Row>,
    pub serialization: RefSerialization,
}

/// The reference's `manifest.serialization_type`, ignore paths sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefSerialization {
    pub method: String,
    pub hash_type: String,
    pub shard_size: Option<u64>,
    pub allow_symlinks: bool,
    pub ignore_paths: Vec<String>,
}

impl RefSerialization {
    /// What our configuration records for the same settings.
    pub fn of(config: &HashConfig) -> Self {
        RefSerialization {
            method: config.get_method().name().to_owned(),
            hash_type: config.get_algorithm().name().to_owned(),
            shard_size: config.get_method().shard_size(),
            allow_symlinks: config.get_allow_symlinks(),
            ignore_paths: config
                .effective_ignore_paths()
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The Python interpreter of the reference virtual environment. Runs
/// `scripts/setup-reference-venv` (idempotent, serialized by a lock) once per
/// test process, so a missing environment is installed rather than skipped;
/// if that fails the test fails.
pub fn reference_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let root = workspace_root();
        let venv = std::env::var_os("MODEL_SIGNING_REFERENCE_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target/reference-venv"));
        let script = root.join("scripts/setup-reference-venv");
        let status = Command::new(&script)
            .arg(&venv)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            status.success(),
            "{} {} failed ({status}); the interoperability tests need the Python \
             reference implementation (pip install model-signing==1.1.1 pyOpenSSL)",
            script.display(),
            venv.display()
        );
        venv.join("bin/python")
    })
}

/// Reads one job per line on stdin and prints one result per line. Every
/// text field travels hex-encoded (UTF-8), so names may hold any character.
/// Job: model, hash, shard size (`-` for files), ignore paths (`,`-joined),
/// git flag, symlinks flag. Result: `ok`, root, method, hash type, shard size,
/// allow_symlinks, sorted ignore paths, resources (`;`-joined
/// `name,algorithm,digest`); or `error` and the message.
const REFERENCE_SCRIPT: &str = r#"
import hashlib, sys
import model_signing.hashing as h

def unhex(s):
    return bytes.fromhex(s).decode()

def hx(s):
    return str(s).encode().hex()

for line in sys.stdin:
    model, alg, shard, ignores, git, links = line.rstrip("\n").split("\t")
    try:
        c = h.Config().set_ignored_paths(
            paths=[unhex(p) for p in ignores.split(",") if p], ignore_git_paths=git == "1")
        if shard == "-":
            c = c.use_file_serialization(hashing_algorithm=unhex(alg))
        else:
            c = c.use_shard_serialization(hashing_algorithm=unhex(alg), shard_size=int(shard))
        c = c.set_allow_symlinks(links == "1")
        m = c.hash(unhex(model))
        rs = list(m.resource_descriptors())
        root = hashlib.sha256(b"".join(r.digest.digest_value for r in rs)).hexdigest()
        ser = m.serialization_type
        fields = [
            "ok",
            root,
            hx(ser["method"]),
            hx(ser["hash_type"]),
            str(ser["shard_size"]) if "shard_size" in ser else "-",
            "1" if ser["allow_symlinks"] else "0",
            ",".join(hx(p) for p in sorted(ser.get("ignore_paths", []))),
            ";".join(
                f"{hx(r.identifier)},{hx(r.digest.algorithm)},{r.digest.digest_hex}" for r in rs
            ),
        ]
    except Exception as e:
        fields = ["error", hx(f"{type(e).__name__}: {e}")]
    print("\t".join(fields), flush=True)
"#;

fn hx(s: &str) -> String {
    hex::encode(s.as_bytes())
}

fn unhex(s: &str) -> String {
    String::from_utf8(hex::decode(s).expect("hex field")).expect("UTF-8 field")
}

fn flag(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        "0"
    }
}

/// The reference's name for a hash algorithm (`blake2`, not `blake2b`).
fn reference_hash_name(a: HashAlgorithm) -> &'static str {
    match a {
        HashAlgorithm::Sha256 => "sha256",
        HashAlgorithm::Blake2b => "blake2",
        HashAlgorithm::Blake3 => "blake3",
    }
}

fn job_line(model: &Path, config: &HashConfig) -> String {
    let mut ignores: Vec<String> = config
        .user_ignore_paths()
        .iter()
        .map(|p| hx(&p.to_string()))
        .collect();
    // The reference has no `.cache/huggingface` default: it is told instead.
    if config.get_ignore_hf_download_cache() {
        ignores.push(hx(model_signing_hash::HF_DOWNLOAD_CACHE_PATH));
    }
    let shard = match config.get_method().shard_size() {
        Some(size) => size.to_string(),
        None => "-".to_owned(),
    };
    [
        hx(model.to_str().expect("UTF-8 model path")),
        hx(reference_hash_name(config.get_algorithm())),
        shard,
        ignores.join(","),
        flag(config.get_ignore_git_paths()).to_owned(),
        flag(config.get_allow_symlinks()).to_owned(),
    ]
    .join("\t")
}

fn parse_result(line: &str) -> Result<RefManifest, String> {
    let f: Vec<&str> = line.split('\t').collect();
    match f[..] {
        ["error", msg] => Err(unhex(msg)),
        ["ok", root, method, hash_type, shard, links, ignores, resources] => Ok(RefManifest {
            root: root.to_owned(),
            resources: resources
                .split(';')
                .filter(|r| !r.is_empty())
                .map(|r| {
                    let parts: Vec<&str> = r.split(',').collect();
                    assert_eq!(parts.len(), 3, "resource {r:?}");
                    (unhex(parts[0]), unhex(parts[1]), parts[2].to_owned())
                })
                .collect(),
            serialization: RefSerialization {
                method: unhex(method),
                hash_type: unhex(hash_type),
                shard_size: (shard != "-").then(|| shard.parse().expect("shard size")),
                allow_symlinks: links == "1",
                ignore_paths: ignores
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(unhex)
                    .collect(),
            },
        }),
        _ => panic!("unexpected line from the reference: {line:?}"),
    }
}

/// Hashes each model with the reference under the same settings as `config`
/// (method, hash, user ignores, git ignores, symlinks), in one Python process.
pub fn reference_hash(jobs: &[(PathBuf, HashConfig)]) -> Vec<Result<RefManifest, String>> {
    let input: String = jobs
        .iter()
        .map(|(model, config)| job_line(model, config) + "\n")
        .collect();
    let mut child = Command::new(reference_python())
        .arg("-c")
        .arg(REFERENCE_SCRIPT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the reference python");
    // Written from another thread: the reference answers while it reads.
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("wait for the reference");
    writer
        .join()
        .expect("writer thread")
        .expect("write jobs to the reference");
    assert!(
        output.status.success(),
        "the reference failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let results: Vec<_> = stdout.lines().map(parse_result).collect();
    assert_eq!(results.len(), jobs.len(), "one result per job");
    results
}
