//! `model-signing sign sigstore` (also `model-signing sign MODEL`): the
//! instance from the flags, the identity token sources in the reference's
//! order, then the shared sign flow (hash first, then token and certificate).

use std::io::{BufRead, IsTerminal, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use model_signing_sigstore::{
    IdentityToken, InteractiveLogin, LoginCallbacks, Secret, SigningConfig, SigningError,
    SigstoreSigner, TokenSource,
};
use zeroize::Zeroizing;

use crate::cli::{SigstoreMethodArgs, SigstoreSignOptions};
use crate::commands::sign::Signs;
use crate::exit;
use crate::printer::Printer;

/// An identity token, when no flag gives one.
pub const ID_TOKEN_ENV: &str = "SIGSTORE_ID_TOKEN";
/// `true` (or `1`) inside CI: ambient credentials are used by default.
pub const CI_ENV: &str = "CI";

/// Largest token file read (JWTs are a few kilobytes).
const MAX_TOKEN_BYTES: u64 = 64 << 10;

fn parse_token(text: &str, origin: &str, printer: &Printer) -> anyhow::Result<IdentityToken> {
    let token = IdentityToken::parse(text)
        .map_err(|e| exit::UsageError(format!("the identity token from {origin}: {e}")))?;
    if !token.is_for_sigstore() {
        // Private instances may configure another audience; Fulcio decides.
        printer.warn(&format!(
            "the identity token from {origin} is not for the audience `sigstore`; the certificate authority may refuse it"
        ));
    }
    Ok(token)
}

fn read_token_file(path: &Path) -> anyhow::Result<Zeroizing<String>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the identity token file {}", path.display()))?;
    let mut text = Zeroizing::new(String::with_capacity(8 << 10));
    file.take(MAX_TOKEN_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read the identity token file {}", path.display()))?;
    if text.len() as u64 > MAX_TOKEN_BYTES {
        return Err(exit::UsageError(format!(
            "{} is larger than {MAX_TOKEN_BYTES} bytes; it is not an identity token",
            path.display()
        ))
        .into());
    }
    Ok(text)
}

fn in_ci() -> bool {
    std::env::var(CI_ENV).is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// The token sources, in order: --identity-token, --identity-token-file,
/// SIGSTORE_ID_TOKEN, ambient CI credentials (when enabled), the login
/// (from a terminal, or out of band when asked for).
fn token_sources(
    opts: &SigstoreSignOptions,
    printer: &Printer,
) -> anyhow::Result<Vec<TokenSource>> {
    if let Some(text) = &opts.identity_token {
        return Ok(vec![TokenSource::Token(parse_token(
            text.expose(),
            "--identity-token",
            printer,
        )?)]);
    }
    if let Some(path) = &opts.identity_token_file {
        let text = read_token_file(path)?;
        let origin = path.display().to_string();
        return Ok(vec![TokenSource::Token(parse_token(
            &text, &origin, printer,
        )?)]);
    }
    if let Some(text) = std::env::var(ID_TOKEN_ENV)
        .ok()
        .map(Zeroizing::new)
        .filter(|t| !t.trim().is_empty())
    {
        return Ok(vec![TokenSource::Token(parse_token(
            &text,
            ID_TOKEN_ENV,
            printer,
        )?)]);
    }
    let mut sources = Vec::new();
    let ambient = if opts.no_use_ambient_credentials {
        false
    } else {
        opts.use_ambient_credentials || in_ci()
    };
    if ambient {
        sources.push(TokenSource::Ambient);
    }
    if opts.oauth_force_oob || std::io::stdin().is_terminal() {
        sources.push(TokenSource::Interactive(InteractiveLogin {
            force_oob: opts.oauth_force_oob,
            client_id: opts.client_id.clone(),
            client_secret: opts.client_secret.clone(),
        }));
    }
    Ok(sources)
}

/// The login's prompts, on stderr (stdout is for results).
struct TerminalLogin;

/// Names the browser to open (commands separated like `PATH`; `%s` stands
/// for the URL, else it is appended).
pub const BROWSER_ENV: &str = "BROWSER";

/// Runs a browser opener. Openers return at once; a browser that keeps the
/// command running counts as opened.
fn run_opener(program: &str, args: &[&str]) -> bool {
    let Ok(mut child) = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    for _ in 0..30 {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(_) => return false,
        }
    }
    true
}

/// Opens `url` in a browser: `$BROWSER` when set, else the platform's
/// opener (`open` on macOS, the URL handler on Windows, `xdg-open` in a
/// graphical session elsewhere).
fn open_browser(url: &str) -> bool {
    if let Some(list) = std::env::var_os(BROWSER_ENV).filter(|v| !v.is_empty()) {
        return open_with(&list, url);
    }
    if cfg!(target_os = "macos") {
        run_opener("open", &[url])
    } else if cfg!(windows) {
        run_opener("rundll32", &["url.dll,FileProtocolHandler", url])
    } else {
        // Without a graphical session, xdg-open may start a text browser
        // that fights over the terminal: log in out of band instead.
        let graphical = ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
        graphical && run_opener("xdg-open", &[url])
    }
}

/// Tries the commands of a `$BROWSER` list in turn.
fn open_with(list: &std::ffi::OsStr, url: &str) -> bool {
    std::env::split_paths(list).any(|entry| {
        let entry = entry.to_string_lossy();
        let mut words = entry.split_whitespace();
        let Some(program) = words.next() else {
            return false;
        };
        let mut args: Vec<&str> = words.map(|w| if w == "%s" { url } else { w }).collect();
        if !entry.split_whitespace().any(|w| w == "%s") {
            args.push(url);
        }
        run_opener(program, &args)
    })
}

/// A line on the process's stderr: a closed or failing stderr is not an
/// error (the login goes on), and never a panic as `eprintln!` would be.
fn login_message(text: &str) {
    use std::io::Write;
    let text = model_signing::text::escape_keep_newlines(text);
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

impl LoginCallbacks for TerminalLogin {
    fn open_browser(&self, url: &str) -> bool {
        open_browser(url)
    }

    fn login_url(&self, url: &str, browser_opened: bool) {
        if browser_opened {
            login_message(&format!(
                "Opened a browser to log in. If it did not open, visit:\n\n  {}\n\n",
                model_signing::text::escape(url)
            ));
        } else {
            login_message(&format!(
                "Go to the following link in a browser to log in:\n\n  {}\n\n",
                model_signing::text::escape(url)
            ));
        }
    }

    fn prompt_for_code(&self) -> std::io::Result<Secret> {
        login_message("Enter verification code: ");
        let mut line = zeroize::Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line)?;
        let code = line.trim();
        if code.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "no verification code was entered",
            ));
        }
        Ok(Secret::new(code))
    }

    fn waiting_for_browser(&self) {
        login_message("Waiting for the browser login...\n");
    }
}

fn config(opts: &SigstoreSignOptions) -> anyhow::Result<SigningConfig> {
    let config = if let Some(path) = &opts.trust_config {
        SigningConfig::from_trust_config_file(path)
    } else if opts.use_staging {
        SigningConfig::staging()
    } else {
        SigningConfig::production()
    };
    config.context("cannot load the Sigstore signing configuration")
}

pub fn sign<C: Signs>(args: SigstoreMethodArgs<C>, printer: &Printer) -> anyhow::Result<u8> {
    let opts = &args.sigstore;
    let sources = token_sources(opts, printer)?;
    if sources.is_empty() {
        // Known before hashing: nothing could give a token.
        return Err(SigningError::NoToken.into());
    }
    let config = config(opts)?;
    printer.verbose(&format!(
        "Sigstore: {} (Fulcio {}, Rekor v{} {}, timestamp authority {})",
        config.origin(),
        config.fulcio_url(),
        config.rekor_version(),
        config.rekor_url(),
        config.tsa_url().unwrap_or("none")
    ));
    let signer = SigstoreSigner::new(config, sources)?.with_callbacks(Box::new(TerminalLogin));
    args.common.sign_with(&signer, &[], printer)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `$BROWSER` entries are tried in turn; the URL replaces `%s` or is
    /// appended.
    #[cfg(unix)]
    #[test]
    fn browser_commands_from_the_environment() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let seen = dir.path().join("seen");
        let script = dir.path().join("browser");
        std::fs::write(
            &script,
            format!("#!/bin/sh\nprintf '%s|' \"$@\" > '{}'\n", seen.display()),
        )
        .expect("write");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let url = "http://127.0.0.1:1/auth?a=1&b=2";
        let script = script.display().to_string();

        assert!(open_with(script.as_ref(), url));
        assert_eq!(
            std::fs::read_to_string(&seen).expect("read"),
            format!("{url}|")
        );
        let list = format!("/nonexistent/browser:false:{script} --new-window %s --x");
        assert!(open_with(list.as_ref(), url));
        assert_eq!(
            std::fs::read_to_string(&seen).expect("read"),
            format!("--new-window|{url}|--x|")
        );
        assert!(!open_with("false".as_ref(), url));
        assert!(!open_with("/nonexistent/browser".as_ref(), url));
    }
}
