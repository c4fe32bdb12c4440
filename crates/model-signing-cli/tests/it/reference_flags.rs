//! Every flag of the reference's command line (model-signing 1.1.1), read
//! from the reference's own command definitions at test time, is accepted
//! here in both spellings (hyphens and underscores), on the same command;
//! and the ones that were missing do what they do in the reference.

use testkit as support;

use std::process::Command;

use clap::CommandFactory;
use model_signing_cli::cli::Cli;

/// `[(command path, [option names])]` of the reference's click commands.
const DUMP: &str = r#"
import json, click
from model_signing import _cli

def walk(cmd, path):
    out = []
    names = []
    for p in cmd.params:
        if isinstance(p, click.Option):
            names += list(p.opts) + list(p.secondary_opts)
    out.append({"path": path, "options": names})
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            out += walk(sub, path + [name])
    return out

print(json.dumps(walk(_cli.main, [])))
"#;

fn accepts(cmd: &clap::Command, long: &str) -> bool {
    cmd.get_arguments().any(|a| {
        a.get_long() == Some(long)
            || a.get_all_aliases()
                .is_some_and(|aliases| aliases.contains(&long))
    }) || (long == "version" || long == "help")
}

#[test]
fn every_flag_of_the_reference_is_accepted_in_both_spellings() {
    let dump = support::reference::run_python(DUMP, &[]);
    let commands: Vec<serde_json::Value> = serde_json::from_str(&dump).expect("JSON");
    let mut ours = Cli::command();
    ours.build();
    let mut missing = Vec::new();
    let mut checked = 0;
    for c in &commands {
        let path: Vec<&str> = c["path"]
            .as_array()
            .expect("path")
            .iter()
            .map(|p| p.as_str().expect("name"))
            .collect();
        let mut cmd = &ours;
        for name in &path {
            cmd = cmd
                .find_subcommand(name)
                .unwrap_or_else(|| panic!("no command {path:?} here"));
        }
        for option in c["options"].as_array().expect("options") {
            let option = option.as_str().expect("option");
            let Some(long) = option.strip_prefix("--") else {
                continue;
            };
            for spelling in [
                long.replace('_', "-"),
                long.replace('-', "_"),
                long.to_owned(),
            ] {
                checked += 1;
                // clap propagates global flags into subcommands when built.
                if !accepts(cmd, &spelling) {
                    missing.push(format!("{} --{spelling}", path.join(" ")));
                }
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} spellings read from the reference"
    );
    assert!(
        missing.is_empty(),
        "flags of the reference refused here: {missing:#?}"
    );
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_model-signing"))
        .args(args)
        .env_remove("MODEL_SIGNING_LOG_LEVEL")
        .output()
        .expect("runs")
}

/// Regression: `--no-ignore_unsigned_files` and `--log-level` were refused.
#[test]
fn log_level_and_no_ignore_unsigned_files_do_what_the_reference_does() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = support::small_model(tmp.path());
    let root = support::root();
    let key = root.join("examples/keys/demo-signing-key.pem");
    let public = root.join("examples/keys/demo-signing-key.pub");
    let s = support::path_str;
    let sign = run(&[
        "sign",
        "key",
        s(&model),
        "--private_key",
        s(&key),
        "--signature",
        s(&model.join("model.sig")),
    ]);
    assert!(sign.status.success(), "{sign:?}");
    std::fs::write(model.join("unsigned.txt"), "x").expect("write");
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", "key", s(&model), "--public_key", s(&public)];
        args.extend_from_slice(extra);
        run(&args)
    };
    // The last of the pair wins, as in the reference.
    let r = verify(&["--ignore_unsigned_files", "--no-ignore_unsigned_files"]);
    assert_eq!(r.status.code(), Some(1), "{r:?}");
    let r = verify(&["--no-ignore_unsigned_files", "--ignore_unsigned_files"]);
    assert_eq!(r.status.code(), Some(0), "{r:?}");
    let stderr = |r: &std::process::Output| String::from_utf8_lossy(&r.stderr).into_owned();
    // INFO is the default: says which signature it found.
    let r = verify(&["--ignore-unsigned-files", "--log-level", "INFO"]);
    assert!(stderr(&r).contains("using signature"), "{r:?}");
    // WARNING and above: quiet.
    for level in ["WARNING", "error", "CRITICAL"] {
        let r = run(&[
            "--log-level",
            level,
            "verify",
            "key",
            s(&model),
            "--public-key",
            s(&public),
            "--ignore-unsigned-files",
        ]);
        assert_eq!(r.status.code(), Some(0), "{r:?}");
        assert!(!stderr(&r).contains("using signature"), "{level}: {r:?}");
    }
    // DEBUG: verbose (the digest command says what it hashes).
    let r = run(&["digest", s(&model), "--log_level", "DEBUG"]);
    assert!(stderr(&r).contains("hashing"), "{r:?}");
    let r = run(&["digest", s(&model)]);
    assert!(!stderr(&r).contains("hashing"), "{r:?}");
    // An unknown level is a usage error.
    let r = run(&["digest", s(&model), "--log-level", "LOUD"]);
    assert_eq!(r.status.code(), Some(2), "{r:?}");
}
