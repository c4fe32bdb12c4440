//! The RFC 7512 URI parser against `testdata/pkcs11-uri`: every valid case
//! gives exactly the attributes listed, every invalid case fails with the
//! message listed, and no message shows a PIN.

use std::path::{Path, PathBuf};

use model_signing_pkcs11::Pkcs11Uri;
use serde_json::Value;

fn cases(name: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/pkcs11-uri")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    match serde_json::from_str(&text) {
        Ok(Value::Array(cases)) => cases,
        other => panic!("{}: not a JSON array: {other:?}", path.display()),
    }
}

fn field<'a>(case: &'a Value, name: &str) -> &'a str {
    case[name]
        .as_str()
        .unwrap_or_else(|| panic!("case without `{name}`: {case}"))
}

/// What a parse gave, in the vocabulary of `valid.json`.
fn observed(uri: &Pkcs11Uri) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    let mut text = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            out.insert(k.to_owned(), Value::from(v));
        }
    };
    text("token", uri.token());
    text("manufacturer", uri.manufacturer());
    text("serial", uri.serial());
    text("model", uri.model());
    text("library_manufacturer", uri.library_manufacturer());
    text("library_description", uri.library_description());
    text("object", uri.object());
    text("slot_description", uri.slot_description());
    text("slot_manufacturer", uri.slot_manufacturer());
    text("module_name", uri.module_name());
    text("type", uri.object_type().map(|t| t.as_str()));
    let path = |p: Option<&Path>| p.map(|p| Value::from(p.to_string_lossy().into_owned()));
    if let Some(v) = path(uri.module_path()) {
        out.insert("module_path".into(), v);
    }
    if let Some(v) = path(uri.pin_source()) {
        out.insert("pin_source".into(), v);
    }
    if let Some(id) = uri.id() {
        out.insert("id".into(), Value::from(hex::encode(id)));
    }
    if let Some(id) = uri.slot_id() {
        out.insert("slot_id".into(), Value::from(id));
    }
    if let Some((major, minor)) = uri.library_version() {
        out.insert("library_version".into(), serde_json::json!([major, minor]));
    }
    if let Some(pin) = uri.pin_value() {
        let pin = String::from_utf8(pin.expose().to_vec()).expect("UTF-8 PIN in the vectors");
        out.insert("pin_value".into(), Value::from(pin));
    }
    out
}

#[test]
fn valid_uris_give_exactly_the_listed_attributes() {
    let cases = cases("valid.json");
    assert!(cases.len() >= 20, "{} valid cases", cases.len());
    for case in &cases {
        let text = field(case, "uri");
        let uri = Pkcs11Uri::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let expected = case["expect"].as_object().expect("expect object");
        assert_eq!(&observed(&uri), expected, "{text} ({})", field(case, "why"));
        // What it prints parses back to the same attributes, the PIN aside.
        let shown = uri.to_string();
        let again = Pkcs11Uri::parse(&shown).unwrap_or_else(|e| panic!("{shown}: {e}"));
        let mut expected = expected.clone();
        if expected.contains_key("pin_value") {
            expected.insert("pin_value".into(), Value::from("REDACTED"));
        }
        assert_eq!(observed(&again), expected, "{text} printed as {shown}");
    }
}

#[test]
fn invalid_uris_fail_with_a_clear_message() {
    let invalid = cases("invalid.json");
    let valid = cases("valid.json");
    assert!(
        invalid.len() > 2 * valid.len(),
        "negative cases ({}) must outnumber positive ones ({}) well",
        invalid.len(),
        valid.len()
    );
    for case in &invalid {
        let text = field(case, "uri");
        let expected = field(case, "error");
        let err = match Pkcs11Uri::parse(text) {
            Ok(uri) => panic!("{text:?} parsed as {uri:?}"),
            Err(e) => e,
        };
        let message = err.to_string();
        assert!(
            message.contains(expected),
            "{text:?}: expected {expected:?} in {message:?}"
        );
        let shown = format!("{message}\n{err:?}");
        assert!(
            !shown.contains("SECRET"),
            "{text:?}: the PIN shows in {shown}"
        );
    }
}

#[test]
fn every_rule_of_the_issue_has_negative_cases() {
    let invalid = cases("invalid.json");
    let count = |needle: &str| {
        invalid
            .iter()
            .filter(|c| field(c, "error").contains(needle))
            .count()
    };
    for (rule, needle) in [
        ("missing scheme", "must start with `pkcs11:`"),
        ("duplicate attributes", "appears more than once"),
        ("bad escapes", "bad percent-escape"),
        (
            "pin-value with pin-source",
            "both `pin-value` and `pin-source`",
        ),
        ("relative module-path", "must be an absolute path"),
        ("unknown type", "unknown object type"),
    ] {
        assert!(count(needle) >= 4, "{rule}: {} cases", count(needle));
    }
}

#[test]
fn module_and_pin_paths_are_absolute_paths() {
    let uri = Pkcs11Uri::parse(
        "pkcs11:object=k?module-path=/opt/hsm/lib%20x.so&pin-source=file:/run/pin",
    )
    .expect("parses");
    assert_eq!(
        uri.module_path(),
        Some(PathBuf::from("/opt/hsm/lib x.so").as_path())
    );
    assert_eq!(uri.pin_source(), Some(Path::new("/run/pin")));
}
