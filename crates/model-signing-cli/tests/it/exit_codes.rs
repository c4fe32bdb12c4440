//! The exit code is decided by the verdict, never by what happens to the
//! output: every failure path of `verify` (each method, plain and `--json`)
//! exits with the same non-zero code whether stdout and stderr work, have no
//! reader (EPIPE), or fail otherwise; nothing panics. The CLI runs
//! in-process ([`model_signing_cli::run`]) for the whole matrix, and as a
//! process writing into real pipes whose read end is closed, which is what
//! `verify ... | true` does.
//!
//! Regression: `verify key MODEL --json | true` on a tampered model exited 0
//! (a broken pipe was mapped to success).

use testkit as support;

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use model_signing::keys::KeyAlgorithm;
use model_signing_cli::{run, Io};
use support::{key, public, Pki};

const IDENTITY: &str = "stefanb@us.ibm.com";
const ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";

/// A stream that keeps what is written.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

/// A stream that fails every write with `kind` (EPIPE: the reader has gone).
struct Failing(io::ErrorKind);

impl Write for Failing {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::from(self.0))
    }
    fn flush(&mut self) -> io::Result<()> {
        Err(io::Error::from(self.0))
    }
}

#[derive(Clone, Copy, Debug)]
enum Stream {
    Working,
    BrokenPipe,
    Failing,
}

impl Stream {
    fn make(self, capture: &Capture) -> Box<dyn Write + Send> {
        match self {
            Stream::Working => Box::new(capture.clone()),
            Stream::BrokenPipe => Box::new(Failing(io::ErrorKind::BrokenPipe)),
            Stream::Failing => Box::new(Failing(io::ErrorKind::StorageFull)),
        }
    }
}

struct Outcome {
    code: u8,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn run_in_process(args: &[OsString], stdout: Stream, stderr: Stream) -> Outcome {
    let (out, err) = (Capture::default(), Capture::default());
    let mut argv = vec![OsString::from("model-signing")];
    argv.extend(args.iter().cloned());
    let code = run(argv, Io::streams(stdout.make(&out), stderr.make(&err)));
    Outcome {
        code,
        stdout: out.text(),
        stderr: err.text(),
    }
}

fn os(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    args.iter().map(|a| a.as_ref().to_owned()).collect()
}

/// Signed models and trust material for every method, made once per test.
struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().to_path_buf();
        let signing = key(KeyAlgorithm::EcdsaP256Sha256);
        let other = key(KeyAlgorithm::EcdsaP256Sha256);
        fs::write(dir.join("key.pem"), signing.to_pkcs8_pem().as_bytes()).expect("write");
        fs::write(dir.join("key.pub"), public(&signing).to_pem()).expect("write");
        fs::write(dir.join("other.pub"), public(&other).to_pem()).expect("write");
        fs::write(dir.join("garbage.pub"), "not a key\n").expect("write");
        let pki = Pki::new(KeyAlgorithm::EcdsaP256Sha256);
        let files = pki.write(&dir.join("pki"));
        Pki::new(KeyAlgorithm::EcdsaP256Sha256).write(&dir.join("other-pki"));

        let f = Fixture { _tmp: tmp, dir };
        for name in ["key-model", "cert-model"] {
            support::small_model(&f.dir.join(name));
        }
        let sign = |args: Vec<OsString>| {
            let r = run_in_process(&args, Stream::Working, Stream::Working);
            assert_eq!(r.code, 0, "{r:?}");
        };
        sign(os(&[
            &"sign",
            &"key",
            &f.path("key-model/model"),
            &"--private-key",
            &f.path("key.pem"),
            &"--signature",
            &f.path("key.sig"),
        ]));
        sign(os(&[
            &"sign",
            &"certificate",
            &f.path("cert-model/model"),
            &"--private-key",
            &files.key,
            &"--signing-certificate",
            &files.leaf,
            &"--certificate-chain",
            &files.chain,
            &"--signature",
            &f.path("cert.sig"),
        ]));
        testkit::copy_dir(
            &support::golden().join("v1.1.0-sigstore"),
            &f.path("sigstore-model"),
        );
        fs::write(f.path("garbage.sig"), "{\"mediaType\": [").expect("write");
        fs::write(f.path("control.sig"), "\u{1b}[2J\u{1b}[H not JSON").expect("write");
        f
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Changes a file of each model, so that the content check fails.
    fn tamper(&self) {
        for file in [
            "key-model/model/a.bin",
            "cert-model/model/b.bin",
            "sigstore-model/signme-1",
        ] {
            fs::write(self.path(file), "tampered\n").expect("tamper");
        }
    }
}

/// One failure of `verify`, with the exit code it must give.
struct Case {
    name: &'static str,
    args: Vec<OsString>,
    code: u8,
}

/// Every failure path of `verify` the fixture can produce, per method.
fn failure_cases(f: &Fixture) -> Vec<Case> {
    let key_model = f.path("key-model/model");
    let cert_model = f.path("cert-model/model");
    let ss_model = f.path("sigstore-model");
    let key = |name: &'static str, sig: &str, public: &str, code: u8| Case {
        name,
        args: os(&[
            &"verify",
            &"key",
            &key_model,
            &"--signature",
            &f.path(sig),
            &"--public-key",
            &f.path(public),
        ]),
        code,
    };
    let cert = |name: &'static str, sig: &str, ca: &str, code: u8| Case {
        name,
        args: os(&[
            &"verify",
            &"certificate",
            &cert_model,
            &"--signature",
            &f.path(sig),
            &"--certificate-chain",
            &f.path(ca),
        ]),
        code,
    };
    let sigstore = |name: &'static str, sig: PathBuf, identity: &str, code: u8| Case {
        name,
        args: os(&[
            &"verify",
            &"sigstore",
            &ss_model,
            &"--signature",
            &sig,
            &"--identity",
            &identity,
            &"--identity-provider",
            &ISSUER,
            &"--ignore-paths",
            &ss_model.join("ignore-me"),
        ]),
        code,
    };
    vec![
        key("key: content changed", "key.sig", "key.pub", 1),
        key("key: wrong key", "key.sig", "other.pub", 1),
        key("key: malformed signature", "garbage.sig", "key.pub", 1),
        key(
            "key: control bytes as signature",
            "control.sig",
            "key.pub",
            1,
        ),
        key("key: certificate signature", "cert.sig", "key.pub", 1),
        key("key: unreadable public key", "key.sig", "garbage.pub", 3),
        key("key: missing signature", "absent.sig", "key.pub", 3),
        Case {
            name: "key: missing model",
            args: os(&[
                &"verify",
                &"key",
                &f.path("no-such-model"),
                &"--signature",
                &f.path("key.sig"),
                &"--public-key",
                &f.path("key.pub"),
            ]),
            code: 3,
        },
        Case {
            name: "key: missing model, no --signature",
            args: os(&[
                &"verify",
                &"key",
                &f.path("mistyped-modle"),
                &"--public-key",
                &f.path("key.pub"),
            ]),
            code: 3,
        },
        Case {
            name: "key: usage error",
            args: os(&[
                &"verify",
                &"key",
                &key_model,
                &"--signature",
                &f.path("key.sig"),
                &"--public-key",
                &f.path("key.pub"),
                &"--threads",
                &"0",
            ]),
            code: 2,
        },
        cert(
            "certificate: content changed",
            "cert.sig",
            "pki/root.pem",
            1,
        ),
        cert("certificate: other CA", "cert.sig", "other-pki/root.pem", 1),
        cert(
            "certificate: malformed signature",
            "garbage.sig",
            "pki/root.pem",
            1,
        ),
        cert("certificate: key signature", "key.sig", "pki/root.pem", 1),
        cert(
            "certificate: unreadable CA file",
            "cert.sig",
            "garbage.pub",
            3,
        ),
        sigstore(
            "sigstore: content changed",
            ss_model.join("model.sig"),
            IDENTITY,
            1,
        ),
        sigstore(
            "sigstore: wrong identity",
            ss_model.join("model.sig"),
            "someone@example.com",
            1,
        ),
        sigstore("sigstore: key signature", f.path("key.sig"), IDENTITY, 1),
        sigstore(
            "sigstore: malformed signature",
            f.path("garbage.sig"),
            IDENTITY,
            1,
        ),
    ]
}

#[test]
fn a_failed_verification_never_exits_0_whatever_happens_to_its_output() {
    let f = Fixture::new();
    f.tamper();
    let streams = [Stream::Working, Stream::BrokenPipe, Stream::Failing];
    for case in failure_cases(&f) {
        for json in [false, true] {
            let mut args = case.args.clone();
            if json {
                args.push("--json".into());
            }
            let base = run_in_process(&args, Stream::Working, Stream::Working);
            assert_eq!(
                base.code, case.code,
                "{} (json {json}): {base:?}",
                case.name
            );
            if json && case.code != 2 {
                // (A usage error found by the argument parser comes before
                // `--json` is known: it is reported as text.)
                let doc: serde_json::Value = serde_json::from_str(&base.stdout)
                    .unwrap_or_else(|e| panic!("{}: JSON: {e}\n{base:?}", case.name));
                assert_eq!(doc["verified"], false, "{}", case.name);
            } else {
                assert!(base.stderr.contains("error:"), "{}: {base:?}", case.name);
                assert!(
                    !base.stdout.contains("Verification succeeded"),
                    "{}: {base:?}",
                    case.name
                );
            }
            for stdout in streams {
                for stderr in streams {
                    let r = run_in_process(&args, stdout, stderr);
                    assert_eq!(
                        r.code, case.code,
                        "{} (json {json}) with stdout {stdout:?}, stderr {stderr:?}: {r:?}",
                        case.name
                    );
                }
            }
        }
    }
}

#[test]
fn a_success_survives_a_closed_stdout_but_not_a_failing_one() {
    let f = Fixture::new();
    let args = os(&[
        &"verify",
        &"key",
        &f.path("key-model/model"),
        &"--signature",
        &f.path("key.sig"),
        &"--public-key",
        &f.path("key.pub"),
    ]);
    for json in [false, true] {
        let mut args = args.clone();
        if json {
            args.push("--json".into());
        }
        let ok = run_in_process(&args, Stream::Working, Stream::Working);
        assert_eq!(ok.code, 0, "{ok:?}");
        // The reader went away: the verdict stands.
        for stderr in [Stream::Working, Stream::BrokenPipe, Stream::Failing] {
            let r = run_in_process(&args, Stream::BrokenPipe, stderr);
            assert_eq!(r.code, 0, "{r:?}");
        }
        // The result was lost (a full disk): not a success.
        let r = run_in_process(&args, Stream::Failing, Stream::Working);
        assert_eq!(r.code, 3, "{r:?}");
        assert!(r.stderr.contains("cannot write the result"), "{r:?}");
    }
}

/// A pipe whose read end is already closed: the write end of the stdin of a
/// process that has exited. Writing to it fails with EPIPE (Rust programs
/// ignore SIGPIPE), as `model-signing verify ... | true` does.
fn pipe_without_reader() -> Stdio {
    let mut reader = Command::new("true")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("run true");
    let write_end = reader.stdin.take().expect("stdin pipe");
    reader.wait().expect("true exits");
    Stdio::from(write_end)
}

#[test]
fn verify_into_a_pipe_without_reader_exits_with_the_verdict() {
    let f = Fixture::new();
    f.tamper();
    let bin = env!("CARGO_BIN_EXE_model-signing");
    for case in failure_cases(&f) {
        for json in [false, true] {
            for closed in ["stdout", "stderr", "both"] {
                let mut cmd = Command::new(bin);
                cmd.args(&case.args).stdin(Stdio::null());
                if json {
                    cmd.arg("--json");
                }
                let (out, err) = match closed {
                    "stdout" => (pipe_without_reader(), Stdio::null()),
                    "stderr" => (Stdio::null(), pipe_without_reader()),
                    _ => (pipe_without_reader(), pipe_without_reader()),
                };
                let status = cmd.stdout(out).stderr(err).status().expect("runs");
                assert_eq!(
                    status.code(),
                    Some(i32::from(case.code)),
                    "{} (json {json}, {closed} closed): {status}",
                    case.name
                );
            }
        }
    }
}

/// Regression: `verify key mymodl` (a mistyped path) said "no signature given
/// and none found" (exit 2).
#[test]
fn a_mistyped_model_path_is_named_as_missing() {
    let f = Fixture::new();
    let r = run_in_process(
        &os(&[
            &"verify",
            &"key",
            &f.path("modl"),
            &"--public-key",
            &f.path("key.pub"),
        ]),
        Stream::Working,
        Stream::Working,
    );
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stderr.contains("modl does not exist"), "{r:?}");
    assert!(!r.stderr.contains("no signature"), "{r:?}");
}
