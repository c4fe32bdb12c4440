//! `model-signing digest`: the digest a signature of the model would carry.

use std::path::PathBuf;

use anyhow::Context;
use model_signing::Manifest;
use serde::Serialize;

use crate::cli::DigestArgs;
use crate::commands::hashing;
use crate::commands::report::JSON_VERSION;
use crate::exit;
use crate::hf;
use crate::paths;
use crate::printer::Printer;

/// Version of the `digest --json` document.

#[derive(Serialize)]
struct DigestJson<'a> {
    version: u32,
    digest: String,
    #[serde(flatten)]
    manifest: &'a Manifest,
}

pub fn run(args: DigestArgs, printer: &Printer) -> anyhow::Result<u8> {
    if let Some(reference) = super::oci::parse(&args.model)? {
        let manifest = super::oci::digest(&reference, &args.hashing, &args.oci, printer)?;
        return print(&manifest, args.json, printer);
    }
    let model = hf::resolve_model(&args.model)?;
    // A signature inside the model is left out, as `sign` leaves out the
    // file it writes: `model.sig` in the model folder (where `verify` looks
    // first) and the default `./model.sig`, when either lies inside.
    let mut extra = Vec::new();
    if let Ok(root) = paths::model_root(&model) {
        for candidate in [model.join("model.sig"), PathBuf::from("model.sig")] {
            let Ok(sig) = paths::resolve(&candidate) else {
                continue;
            };
            if let Some(rel) = paths::inside(&root, &sig) {
                if sig.is_file() && !extra.contains(&rel) {
                    printer.info(&format!(
                        "leaving out {}, a signature inside the model (as `sign` does)",
                        model_signing::text::escape_path(&candidate)
                    ));
                    extra.push(rel);
                }
            }
        }
    }
    let config = hashing::config(&args.hashing, &model, extra, printer)?;
    printer.verbose(&format!(
        "hashing {} ({}, {})",
        model.display(),
        config.get_method().name(),
        config.get_algorithm()
    ));
    let progress = printer.hashing_progress("hashing");
    let manifest = Manifest::hash(&model, &config, &progress)
        .with_context(|| format!("cannot hash model {}", args.model.display()))?;
    print(&manifest, args.json, printer)
}

fn print(manifest: &Manifest, json: bool, printer: &Printer) -> anyhow::Result<u8> {
    let digest = format!("sha256:{}", manifest.root_digest_hex());
    if json {
        let doc = DigestJson {
            version: JSON_VERSION,
            digest,
            manifest,
        };
        printer.out_json(&doc)?;
    } else {
        printer.out(&digest);
    }
    Ok(exit::SUCCESS)
}
