//! `model-signing sign pkcs11-key|pkcs11-certificate`: sign with a key held
//! by a PKCS#11 token.

use std::io::{self, IsTerminal};

use anyhow::Context;
use model_signing::sign::{CertificateSigner, KeySigner};
use model_signing_pkcs11::{Callbacks, OpenOptions, Pin, PinRequest, Pkcs11Key, Pkcs11Uri};

use crate::cli::{Pkcs11Args, Pkcs11CertificateMethodArgs, Pkcs11KeyMethodArgs};
use crate::commands::sign::Signs;
use crate::commands::{keyload, sign};
use crate::env;
use crate::exit;
use crate::printer::Printer;

pub fn key<C: Signs>(args: Pkcs11KeyMethodArgs<C>, printer: &Printer) -> anyhow::Result<u8> {
    let key = open(&args.token, printer)?;
    let signer = KeySigner::new(Box::new(key))?;
    args.common.sign_with(&signer, &args.tsa.tsa_url, printer)
}

pub fn certificate<C: Signs>(
    args: Pkcs11CertificateMethodArgs<C>,
    printer: &Printer,
) -> anyhow::Result<u8> {
    // The files first: a mistake there should not cost a PIN entry.
    let mut leaf = keyload::certificates(&args.signing_certificate)?;
    if leaf.len() != 1 {
        return Err(exit::UsageError(format!(
            "{} holds {} certificates; --signing-certificate takes exactly one (put the others in --certificate-chain)",
            args.signing_certificate.display(),
            leaf.len()
        ))
        .into());
    }
    let leaf = leaf.remove(0);
    let mut chain = Vec::new();
    for path in &args.certificate_chain {
        chain.extend(keyload::certificates(path)?);
    }
    sign::warn_about_chain(&leaf, &chain, printer);
    let key = open(&args.token, printer)?;
    // Refuses a token key that is not the certificate's, before any hashing.
    let signer = CertificateSigner::new(Box::new(key), leaf, chain, model_signing::sign::now())
        .with_context(|| {
            format!(
                "cannot sign with the PKCS#11 key and the certificate {}",
                args.signing_certificate.display()
            )
        })?;
    args.common.sign_with(&signer, &args.tsa.tsa_url, printer)
}

fn open(args: &Pkcs11Args, printer: &Printer) -> anyhow::Result<Pkcs11Key> {
    let uri = Pkcs11Uri::parse(&args.pkcs11_uri.0).context("invalid --pkcs11-uri")?;
    if uri.has_pin_value() {
        printer.warn(&format!(
            "the PIN in --pkcs11-uri (pin-value) is visible to other users in the process list; prefer pin-source=/FILE or {}",
            env::PKCS11_PIN
        ));
    }
    let callbacks = TerminalPin { printer };
    let mut options = OpenOptions::new(&callbacks);
    if let Some(path) = &args.module_path {
        options = options.module_path(path);
    }
    let key = Pkcs11Key::open(&uri, &options).context("cannot open the PKCS#11 key")?;
    printer.verbose(&format!(
        "Signing with PKCS#11 key `{}` ({}) on token `{}` (slot {}), module {}",
        key.key(),
        key.public().algorithm(),
        key.token().label,
        key.token().slot_id,
        key.module_path().display()
    ));
    Ok(key)
}

/// The PIN when the URI has none: the environment, else the terminal.
struct TerminalPin<'a> {
    printer: &'a Printer,
}

impl Callbacks for TerminalPin<'_> {
    fn request_pin(&self, request: &PinRequest) -> io::Result<Option<Pin>> {
        if let Some(pin) = std::env::var_os(env::PKCS11_PIN) {
            return Ok(Some(Pin::new(pin.into_encoded_bytes())));
        }
        if !(io::stdin().is_terminal() && self.printer.stderr_is_terminal()) {
            return Ok(None);
        }
        if request.final_try {
            self.printer.warn(&format!(
                "token `{}`: one more wrong PIN locks it",
                request.token_label
            ));
        } else if request.count_low {
            self.printer.warn(&format!(
                "token `{}` reports wrong PINs since its last login",
                request.token_label
            ));
        }
        let pin = rpassword::prompt_password(format!("PIN for token `{}`: ", request.token_label))?;
        Ok(Some(Pin::from(pin)))
    }
}
