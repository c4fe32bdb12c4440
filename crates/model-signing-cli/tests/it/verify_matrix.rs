//! The verification matrix (`crates/testkit/src/matrix.rs`)
//! run through the command line tool: every failing row exits with 1 and
//! names its cause; every passing row exits with 0 and lists the unsigned
//! files it skipped. Each row is also verified through the library with its
//! default options, and the two verdicts must agree.

use testkit as support;

use std::process::{Command, Stdio};

use support::matrix::{self, Expect, Setup, Trust};

fn run(s: &Setup) -> std::process::Output {
    let dir = s.dir.path();
    let signature = dir.join("signature.json");
    std::fs::write(&signature, &s.bundle).expect("write signature");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_model-signing"));
    cmd.arg("verify");
    match &s.trust {
        Trust::Key(key) => {
            let path = dir.join("trusted.pub");
            std::fs::write(&path, key.to_pem()).expect("write key");
            cmd.arg("key").arg("--public-key").arg(path);
        }
        Trust::Anchors(roots) => {
            let path = dir.join("trusted-roots.pem");
            let pem: String = roots.iter().map(|c| c.to_pem()).collect();
            std::fs::write(&path, pem).expect("write roots");
            cmd.arg("certificate").arg("--certificate-chain").arg(path);
        }
    }
    cmd.arg(&s.model).arg("--signature").arg(&signature);
    if s.ignore_unsigned {
        cmd.arg("--ignore-unsigned-files");
    }
    cmd.stdin(Stdio::null())
        .output()
        .expect("model-signing runs")
}

fn names(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Whether the tool said it skipped exactly these unsigned files.
fn lists_skipped(stderr: &str, skipped: &[&str]) -> bool {
    stderr.contains(&format!("skipped {} unsigned file", skipped.len()))
        && support::contains_all(stderr, skipped)
}

#[test]
fn every_row_of_the_verification_matrix() {
    let rows = matrix::all();
    let failures = std::sync::Mutex::new(Vec::new());
    // Rows are independent: run them on a few threads.
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(case) = rows.get(i) else { break };
                let setup = (case.setup)();
                let out = run(&setup);
                let code = out.status.code();
                let stdout = String::from_utf8_lossy(&out.stdout);
                let stderr = String::from_utf8_lossy(&out.stderr);
                // The library with default options decides as the tool does.
                let library = matrix::verify_library(&setup);
                let agree = match &library {
                    Ok(ok) => {
                        code == Some(0)
                            && (ok.unsigned_ignored.is_empty()
                                || lists_skipped(&stderr, &names(&ok.unsigned_ignored)))
                    }
                    Err(_) => code == Some(1),
                };
                let problem = match &case.expect {
                    _ if !agree => Some(format!(
                        "the library says {:?}, the command line exits with {code:?}",
                        library
                            .as_ref()
                            .map(|ok| &ok.unsigned_ignored)
                            .map_err(ToString::to_string)
                    )),
                    Expect::Pass { skipped } => {
                        if code != Some(0) || !stdout.contains("Verification succeeded") {
                            Some(format!("expected success, got {code:?}"))
                        } else if !skipped.is_empty() && !lists_skipped(&stderr, skipped) {
                            Some(format!("skipped files {skipped:?} not listed"))
                        } else {
                            None
                        }
                    }
                    Expect::Fail { cli, .. } => {
                        if code != Some(1) {
                            Some(format!("expected exit code 1, got {code:?}"))
                        } else if !support::contains_all(&stderr, cli) {
                            Some(format!("stderr lacks one of {cli:?}"))
                        } else {
                            None
                        }
                    }
                };
                if let Some(p) = problem {
                    failures.lock().expect("lock").push(format!(
                        "{}: {p}\n--- stdout\n{stdout}--- stderr\n{stderr}",
                        case.name
                    ));
                }
            });
        }
    });
    let failures = failures.into_inner().expect("lock");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
