//! The loopback OAuth provider ([`sigstore_standin_harness::oauth`]) as a
//! process, for tests in other languages (the Python package's).
//!
//! ```text
//! oauth-provider --client-id ID --id-token-file FILE [--client-secret SECRET]
//! ```
//!
//! Prints one JSON line `{"url": ISSUER}` when it serves, then serves until
//! its standard input ends, and prints what it was asked as one JSON line:
//! `{"authorizations": [{query}], "token_requests": [{"form", "basic",
//! "status", "error"}]}`.

use std::io::Read;
use std::process::ExitCode;

use serde_json::{json, Value};
use sigstore_standin_harness::oauth::{OAuthProvider, ProviderOptions};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("oauth-provider: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut client_id = None;
    let mut client_secret = None;
    let mut token_file = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--client-id" => client_id = Some(value()?),
            "--client-secret" => client_secret = Some(value()?),
            "--id-token-file" => token_file = Some(value()?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let client_id = client_id.ok_or("--client-id is required")?;
    let token_file = token_file.ok_or("--id-token-file is required")?;
    let id_token = std::fs::read_to_string(&token_file)
        .map_err(|e| format!("cannot read {token_file}: {e}"))?;
    let provider = OAuthProvider::start(ProviderOptions {
        client_secret,
        ..ProviderOptions::new(&client_id, id_token.trim())
    })
    .map_err(|e| e.to_string())?;
    println!("{}", json!({ "url": provider.url() }));
    // Serve until the test closes our standard input.
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    let log = provider.log();
    let requests: Vec<Value> = log
        .token_requests
        .iter()
        .map(|r| {
            json!({
                "form": r.form,
                "basic": r.basic.as_ref().map(|(user, password)| json!([user, password])),
                "status": r.status,
                "error": r.error,
            })
        })
        .collect();
    println!(
        "{}",
        json!({ "authorizations": log.authorizations, "token_requests": requests })
    );
    Ok(())
}
