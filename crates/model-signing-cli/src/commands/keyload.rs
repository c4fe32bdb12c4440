//! Loading keys and certificates named on the command line.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{bail, Context};
use model_signing::keys::{is_encrypted_pem, PrivateKey, PublicKey};
use model_signing::limits::read_bounded;
use model_signing::x509::Certificate;
use zeroize::Zeroizing;

use crate::cli::PasswordArgs;
use crate::env;
use crate::printer::Printer;

/// Largest key, password or certificate file read. Real ones are a few
/// kilobytes; a CA bundle of every public root is under 1 MiB.
pub const MAX_KEY_FILE_BYTES: u64 = 16 << 20;

/// Reads at most [`MAX_KEY_FILE_BYTES`] of `path` (a FIFO or a device
/// reports no size, so the bound applies to the read itself) into a buffer
/// wiped when dropped.
fn read(path: &Path, what: &str) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let context = || format!("cannot read {what} {}", path.display());
    let file = std::fs::File::open(path).with_context(context)?;
    let size = file.metadata().map_or(0, |m| m.len());
    match read_bounded(file, MAX_KEY_FILE_BYTES, size).with_context(context)? {
        Some(bytes) => Ok(bytes),
        None => bail!(crate::exit::UsageError(format!(
            "{what} {} is larger than {MAX_KEY_FILE_BYTES} bytes; it is not a {what}",
            path.display()
        ))),
    }
}

/// The password for an encrypted key: `--password-file`, `--password`, the
/// environment, or a prompt on the terminal, in that order.
fn password(
    args: &PasswordArgs,
    key_path: &Path,
    printer: &Printer,
) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    if let Some(file) = &args.password_file {
        let text = read(file, "password file")?;
        let line_end = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
        let mut line = &text[..line_end];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        return Ok(Zeroizing::new(line.to_vec()));
    }
    if let Some(p) = &args.password {
        printer.warn("--password is visible to other users in the process list; prefer --password-file or MODEL_SIGNING_PASSWORD");
        return Ok(Zeroizing::new(p.expose().as_bytes().to_vec()));
    }
    if let Some(p) = std::env::var_os(env::PASSWORD) {
        return Ok(Zeroizing::new(p.into_encoded_bytes()));
    }
    if std::io::stdin().is_terminal() && printer.stderr_is_terminal() {
        let p = rpassword::prompt_password(format!("Password for {}: ", key_path.display()))
            .context("cannot read the password from the terminal")?;
        return Ok(Zeroizing::new(p.into_bytes()));
    }
    bail!(crate::exit::UsageError(format!(
        "the private key {} is encrypted; give its password with --password-file, {} or on a terminal",
        key_path.display(),
        env::PASSWORD
    )))
}

pub fn private_key(
    path: &Path,
    args: &PasswordArgs,
    printer: &Printer,
) -> anyhow::Result<PrivateKey> {
    let pem = read(path, "private key")?;
    let password = if is_encrypted_pem(&pem) {
        Some(password(args, path, printer)?)
    } else {
        None
    };
    PrivateKey::from_pem(&pem, password.as_ref().map(|p| p.as_slice()))
        .with_context(|| format!("cannot load private key {}", path.display()))
}

pub fn public_key(path: &Path) -> anyhow::Result<PublicKey> {
    let pem = read(path, "public key")?;
    let text = std::str::from_utf8(&pem)
        .with_context(|| format!("public key {} is not PEM text", path.display()))?;
    PublicKey::from_pem(text).with_context(|| format!("cannot load public key {}", path.display()))
}

pub fn certificates(path: &Path) -> anyhow::Result<Vec<Certificate>> {
    let pem = read(path, "certificate file")?;
    Certificate::from_pem_bundle(&pem)
        .with_context(|| format!("cannot load certificates from {}", path.display()))
}
