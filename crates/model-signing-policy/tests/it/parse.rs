//! Policies the library refuses, each with its reason and line, and the
//! bounds on what it reads.

use std::path::Path;

use model_signing_policy::policy::{Quantifier, UnsignedFiles, DEFAULT_CEL_COST, MAX_POLICY_BYTES};
use model_signing_policy::{Policy, PolicyError};

struct Dir {
    tmp: tempfile::TempDir,
}

fn dir() -> Dir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = testkit::key(model_signing::keys::KeyAlgorithm::EcdsaP256Sha256);
    std::fs::write(tmp.path().join("k.pub"), testkit::public(&key).to_pem()).expect("key");
    Dir { tmp }
}

impl Dir {
    fn parse(&self, text: &str) -> Result<Policy, PolicyError> {
        Policy::parse(Path::new("p.yaml"), text, false, self.tmp.path())
    }

    fn refuse(&self, text: &str, reason: &str, line: Option<usize>) {
        match self.parse(text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => {
                assert!(e.reason.contains(reason), "{e} (expected {reason:?})");
                assert_eq!(e.line, line, "{e}");
                assert!(!e.unreadable, "{e}");
            }
        }
    }
}

const BASE: &str = "version: 1\nsigners:\n  a:\n    key: k.pub\nmodel:\n  signers: [a]\n";

#[test]
fn a_minimal_policy_has_safe_defaults() {
    let d = dir();
    let p = d.parse(BASE).expect("policy");
    assert_eq!(p.unsigned_files, UnsignedFiles::Deny);
    assert_eq!(p.cel_cost, DEFAULT_CEL_COST);
    assert!(p.algorithms.is_none() && p.methods.is_none());
    assert!(p.claims.is_empty());
    let with_rule =
        format!("{BASE}claims:\n  - id: r\n    predicate_type: https://x/y\n    signers: [a]\n");
    assert_eq!(
        d.parse(&with_rule).expect("policy").claims[0].require,
        Quantifier::All
    );
}

#[test]
fn structural_mistakes_are_refused_with_their_line() {
    let d = dir();
    d.refuse("", "missing field `version`", None);
    d.refuse("- 1\n- 2\n", "invalid type", None);
    d.refuse(
        &BASE.replace("version: 1", "version: one"),
        "invalid type",
        Some(1),
    );
    d.refuse(
        &BASE.replace("version: 1", "version: 0"),
        "version 0 is not supported",
        Some(1),
    );
    d.refuse(
        &format!("{BASE}extra: 1\n"),
        "unknown field `extra`",
        Some(7),
    );
    d.refuse(
        &BASE.replace("    key: k.pub\n", "    key: k.pub\n    key2: x\n"),
        "unknown field `key2`",
        Some(5),
    );
    d.refuse(
        &BASE.replace("  signers: [a]\n", "  signers: []\n"),
        "`signers` is empty",
        Some(5),
    );
    d.refuse(
        "version: 1\nsigners: {}\nmodel:\n  signers: [a]\n",
        "names no signer",
        Some(2),
    );
    d.refuse(
        &BASE.replace("    key: k.pub\n", "    {}\n"),
        "exactly one of",
        Some(3),
    );
    d.refuse(
        &BASE.replace(
            "    key: k.pub\n",
            "    key: k.pub\n    certificate_chain: k.pub\n",
        ),
        "exactly one of",
        Some(3),
    );
    d.refuse(
        &BASE
            .replace("  a:\n", "  'a b':\n")
            .replace("[a]", "['a b']"),
        "is not a name",
        Some(3),
    );
    d.refuse(
        &format!("{BASE}  hashing:\n    algorithms: []\n"),
        "an empty list accepts nothing",
        Some(7),
    );
    d.refuse(
        &format!("{BASE}  hashing:\n    algorithms: [md5]\n"),
        "unknown variant `md5`",
        Some(8),
    );
    d.refuse(
        &format!("{BASE}  unsigned_files: maybe\n"),
        "unknown variant `maybe`",
        Some(7),
    );
    d.refuse(
        &format!("{BASE}sigstore:\n  instance: staging\n  trusted_root: r.json\n"),
        "at most one of",
        Some(7),
    );
}

#[test]
fn claim_rules_are_checked() {
    let d = dir();
    let rule = |body: &str| format!("{BASE}claims:\n{body}");
    d.refuse(
        &rule("  - id: r\n    predicate_type: not a uri\n    signers: [a]\n"),
        "is not a URI",
        Some(9),
    );
    d.refuse(
        &rule("  - id: r\n    predicate_type: https://x\n    signers: [a]\n  - id: r\n    predicate_type: https://x\n    signers: [a]\n"),
        "used twice",
        Some(8),
    );
    d.refuse(
        &rule("  - id: r\n    predicate_type: https://x\n    signers: [b]\n"),
        "no signer named `b`",
        Some(10),
    );
    d.refuse(
        &rule("  - id: r\n    predicate_type: https://x\n    signers: []\n"),
        "`signers` is empty",
        Some(8),
    );
    d.refuse(
        &rule("  - id: r\n    predicate_type: https://x\n    signers: [a]\n    require: most\n"),
        "unknown variant `most`",
        Some(11),
    );
    d.refuse(
        &rule("  - id: r\n    predicate_type: https://x\n    signers: [a]\n    condition: 'predicate.x <'\n"),
        "does not parse",
        Some(11),
    );
    d.refuse(
        &rule("  - id: r\n    predicate_type: https://x\n    signers: [a]\n    condition: 'now > 1'\n"),
        "unknown variable `now`",
        Some(11),
    );
    let long = format!("'{}true'", "true && ".repeat(600));
    d.refuse(
        &rule(&format!(
            "  - id: r\n    predicate_type: https://x\n    signers: [a]\n    condition: {long}\n"
        )),
        "longer than 4096 bytes",
        Some(11),
    );
    d.refuse(
        &format!("{BASE}limits:\n  cel_cost: 0\n"),
        "not between 1 and",
        Some(8),
    );
}

#[test]
fn bounds_on_size_and_counts() {
    let d = dir();
    let mut big = String::from(BASE);
    big.push_str(&format!("# {}\n", "x".repeat(MAX_POLICY_BYTES as usize)));
    d.refuse(&big, "larger than", None);
    let mut many = String::from("version: 1\nsigners:\n");
    for i in 0..65 {
        many.push_str(&format!("  s{i}:\n    key: k.pub\n"));
    }
    many.push_str("model:\n  signers: [s0]\n");
    d.refuse(&many, "more than 64 signers", Some(3));
    let mut rules = format!("{BASE}claims:\n");
    for i in 0..257 {
        rules.push_str(&format!(
            "  - id: r{i}\n    predicate_type: https://x\n    signers: [a]\n"
        ));
    }
    d.refuse(&rules, "more than 256 claim rules", Some(7));
    // YAML aliases cannot blow a small file up.
    let bomb = "version: 1\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    assert!(d.parse(bomb).is_err());
}

#[test]
fn files_the_policy_names_must_load() {
    let d = dir();
    // Unreadable: an environment error.
    let e = d
        .parse(&BASE.replace("k.pub", "missing.pub"))
        .expect_err("missing key");
    assert!(
        e.unreadable && e.reason.contains("cannot read the public key"),
        "{e}"
    );
    assert_eq!(e.kind(), model_signing::ErrorKind::Environment);
    // Present but not a key: a bad policy.
    std::fs::write(d.tmp.path().join("junk.pub"), "junk").expect("write");
    d.refuse(
        &BASE.replace("k.pub", "junk.pub"),
        "cannot load the public key",
        Some(4),
    );
    d.refuse(
        &BASE.replace("    key: k.pub", "    certificate_chain: [junk.pub]"),
        "cannot load certificates",
        Some(4),
    );
    d.refuse(
        &BASE.replace("    key: k.pub", "    certificate_chain: []"),
        "names no file",
        Some(3),
    );
    std::fs::create_dir(d.tmp.path().join("adir")).expect("mkdir");
    d.refuse(&BASE.replace("k.pub", "adir"), "is not a file", Some(4));
    // A policy file that is not UTF-8, or not a file.
    let path = d.tmp.path().join("p.yaml");
    std::fs::write(&path, b"version: 1\n\xff\n").expect("write");
    let e = Policy::load(&path).expect_err("not UTF-8");
    assert_eq!((e.reason.as_str(), e.line), ("not UTF-8 text", Some(2)));
    let e = Policy::load(d.tmp.path()).expect_err("a directory");
    assert!(e.reason.contains("not a file"), "{e}");
    let e = Policy::load(&d.tmp.path().join("none.yaml")).expect_err("missing");
    assert!(e.unreadable, "{e}");
}

#[test]
fn json_policies_read_the_same() {
    let d = dir();
    let json = r#"{"version": 1, "signers": {"a": {"key": "k.pub"}}, "model": {"signers": ["a"], "unsigned_files": "allow"}}"#;
    let p = Policy::parse(Path::new("p.json"), json, true, d.tmp.path()).expect("policy");
    assert_eq!(p.unsigned_files, UnsignedFiles::Allow);
    let e = Policy::parse(
        Path::new("p.json"),
        "{\"version\": 1,\n \"x\": 2}",
        true,
        d.tmp.path(),
    )
    .expect_err("unknown field");
    assert_eq!(e.line, Some(2), "{e}");
}
