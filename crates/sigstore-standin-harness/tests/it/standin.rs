//! The stand-in itself: its unit tests (Node's test runner), its trust files,
//! its OIDC issuer and tokens, its lifecycle.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde_json::{json, Value};
use sigstore_standin_harness::{http, prepare, standin_dir, Flavour, StandIn};

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("JWT payload is base64url");
    serde_json::from_slice(&bytes).expect("JWT payload is JSON")
}

fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("seconds fit i64")
}

fn rfc3339_seconds(text: &str) -> i64 {
    // "YYYY-MM-DDTHH:MM:SS.sssZ" -> seconds since the epoch (proleptic Gregorian).
    let num = |r: std::ops::Range<usize>| -> i64 { text[r].parse().expect("a date field") };
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    let (hh, mm, ss) = (num(11..13), num(14..16), num(17..19));
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hh * 3600 + mm * 60 + ss
}

#[test]
fn adapter_unit_tests_pass() {
    let node = prepare().unwrap_or_else(|e| panic!("{e}"));
    let dir = standin_dir();
    let mut files: Vec<_> = std::fs::read_dir(dir.join("test"))
        .expect("the adapter has a test directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".test.js"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no adapter tests found");
    let out = Command::new(node)
        .arg("--test")
        .args(&files)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "node --test failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn trust_files_name_this_instance_only() {
    let standin = StandIn::shared();
    let urls = standin.urls();
    for url in [
        &urls.oidc,
        &urls.fulcio,
        &urls.rekor_v1,
        &urls.rekor_v2,
        &urls.tsa,
    ] {
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    }
    assert_eq!(standin.issuer(), urls.oidc);

    let root = read_json(standin.trusted_root());
    assert_eq!(
        root["mediaType"],
        "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
    );
    let start = root["certificateAuthorities"][0]["validFor"]["start"]
        .as_str()
        .expect("validFor.start");
    assert!(
        rfc3339_seconds(start) < now(),
        "validFor starts in the past: {start}"
    );
    assert_eq!(root["tlogs"].as_array().map(Vec::len), Some(2));
    assert_eq!(root["tlogs"][0]["baseUrl"], urls.rekor_v1.as_str());
    assert_eq!(root["tlogs"][1]["baseUrl"], urls.rekor_v2.as_str());
    assert_eq!(root["tlogs"][1]["publicKey"]["keyDetails"], "PKIX_ED25519");
    assert_eq!(
        root["timestampAuthorities"][0]["certChain"]["certificates"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    for flavour in Flavour::ALL {
        let config = read_json(standin.trust_config(flavour));
        assert_eq!(
            config["mediaType"],
            "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
        );
        assert_eq!(config["trustedRoot"], root);
        let signing = &config["signingConfig"];
        assert_eq!(signing, &read_json(standin.signing_config(flavour)));
        assert_eq!(
            signing["mediaType"],
            "application/vnd.dev.sigstore.signingconfig.v0.2+json"
        );
        assert_eq!(signing["oidcUrls"][0]["url"], standin.issuer());
        assert_eq!(signing["caUrls"][0]["url"], urls.fulcio.as_str());
        let (rekor_url, major, tsa) = match flavour {
            Flavour::RekorV1 => (&urls.rekor_v1, 1, false),
            Flavour::RekorV1Tsa => (&urls.rekor_v1, 1, true),
            Flavour::RekorV2 => (&urls.rekor_v2, 2, true),
        };
        assert_eq!(signing["rekorTlogUrls"][0]["url"], rekor_url.as_str());
        assert_eq!(signing["rekorTlogUrls"][0]["majorApiVersion"], major);
        assert_eq!(
            signing["tsaUrls"].as_array().map(Vec::len),
            Some(usize::from(tsa)),
            "{flavour:?}"
        );
    }
}

#[test]
fn issuer_serves_discovery_and_mints_tokens() {
    let standin = StandIn::shared();
    let discovery = http::get(&format!(
        "{}/.well-known/openid-configuration",
        standin.issuer()
    ))
    .expect("discovery");
    assert_eq!(discovery.status, 200);
    let discovery: Value = serde_json::from_slice(&discovery.body).expect("JSON");
    assert_eq!(discovery["issuer"], standin.issuer());
    assert!(discovery["authorization_endpoint"].is_string());
    assert!(discovery["token_endpoint"].is_string());

    let subject = "https://example.com/a subject?with=odd&chars";
    let claims = jwt_claims(&standin.identity_token(subject).expect("token"));
    assert_eq!(claims["sub"], subject);
    assert_eq!(claims["iss"], standin.issuer());
    assert_eq!(claims["aud"], "sigstore");
    let (iat, exp) = (
        claims["iat"].as_i64().expect("iat"),
        claims["exp"].as_i64().expect("exp"),
    );
    assert!(
        iat <= now() + 1 && exp > now() && exp - iat == 600,
        "{claims}"
    );

    let custom = standin
        .identity_token_with(&json!({
            "sub": "repo:owner/name:ref:refs/heads/main",
            "iss": "https://token.actions.githubusercontent.com",
            "repository": "owner/name",
            "ttl": -60,
        }))
        .expect("custom token");
    let claims = jwt_claims(&custom);
    assert_eq!(claims["iss"], "https://token.actions.githubusercontent.com");
    assert_eq!(claims["repository"], "owner/name");
    assert!(claims["exp"].as_i64().expect("exp") < now());

    let err = standin
        .identity_token_with(&json!({"email": "no-subject@example.com"}))
        .expect_err("sub is required");
    assert!(err.to_string().contains("sub"), "{err}");
}

#[test]
fn fulcio_refuses_tokens_it_did_not_sign_and_expired_ones() {
    let standin = StandIn::shared();
    let url = format!("{}/api/v2/signingCert", standin.urls().fulcio);
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let unsigned = format!(
        "{}.{}.",
        engine.encode(br#"{"alg":"none"}"#),
        engine.encode(
            json!({"iss": standin.issuer(), "aud": "sigstore", "sub": "x", "iat": now(), "exp": now() + 60})
                .to_string()
        )
    );
    let expired = standin
        .identity_token_with(&json!({"sub": "x", "ttl": -60}))
        .expect("token");
    for (token, why) in [
        (unsigned.as_str(), "unsigned"),
        (expired.as_str(), "\"exp\""),
    ] {
        let body =
            json!({"credentials": {"oidcIdentityToken": token}, "certificateSigningRequest": ""});
        let response = http::post(&url, "application/json", body.to_string().as_bytes())
            .expect("fulcio answers");
        let text = String::from_utf8_lossy(&response.body);
        assert_eq!(response.status, 401, "{why}: {text}");
    }
}

#[test]
fn instances_are_independent_start_fast_and_stop_on_drop() {
    let started = Instant::now();
    let a = StandIn::start().unwrap_or_else(|e| panic!("{e}"));
    let a_time = started.elapsed();
    let b = StandIn::start().unwrap_or_else(|e| panic!("{e}"));
    eprintln!("stand-in start-up: {a_time:?}");
    assert!(a_time < Duration::from_secs(10), "start-up took {a_time:?}");
    assert_ne!(a.issuer(), b.issuer());
    assert_ne!(
        read_json(a.trusted_root())["certificateAuthorities"],
        read_json(b.trusted_root())["certificateAuthorities"]
    );
    let (pid, dir) = (a.pid(), a.dir().to_path_buf());
    assert!(dir.join("trusted_root.json").is_file());
    drop(a);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the adapter process {pid} is gone"
    );
    assert!(!dir.exists(), "{} is removed", dir.display());
    // The other instance still answers.
    let token = b.identity_token("still-here").expect("token");
    assert!(!token.is_empty());
}
