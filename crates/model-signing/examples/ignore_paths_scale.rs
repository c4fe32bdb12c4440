//! Measures signing and verifying a model whose signature records many long
//! ignore paths, end to end through the library: hash and sign with a key,
//! write the bundle, then read it back, check the signature and compare the
//! model, as `model-signing verify key` does.
//!
//! Method: a model of two small signed files is made in a temporary folder.
//! `PATHS` ignore paths (default 10,000, the most a signature may hold) of
//! `COMPONENTS` one-letter components (default 300) are given to the signer:
//! 299 shared components and a distinct last one, the case where comparing
//! two paths component by component costs the most. With the default sizes
//! the bundle is about 8 MB. `PRESENT` of the ignored paths (default 0) are
//! also created in the model as empty files, so that the walk meets them.
//! Each phase is timed once with a monotonic clock. The peak resident memory
//! is read from `/proc/self/status` after signing, then reset, and read again
//! after verifying.
//!
//! ```sh
//! cargo run --release -p model-signing --example ignore_paths_scale -- [PATHS [COMPONENTS [PRESENT]]]
//! ```
//!
//! `docs/security.md` records the numbers of one run.

use std::fs;
use std::path::Path;
use std::time::Instant;

use model_signing::bundle::Bundle;
use model_signing::hashing::{HashConfig, NoProgress};
use model_signing::keys::{EcPrivateKey, KeyAlgorithm};
use model_signing::sign::{sign_model, KeySigner};
use model_signing::verify::{verify_bundle, KeyVerifier, ModelCheckOptions};

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .map(|a| a.parse().expect("a number"))
        .unwrap_or(default)
}

fn peak_rss_mib() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    println!("{what:<28} {:>9.3} s", start.elapsed().as_secs_f64());
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let paths = arg(1, 10_000);
    let components = arg(2, 300).max(1);
    let present = arg(3, 0).min(paths);

    let tmp = tempfile::tempdir()?;
    let model = tmp.path().join("model");
    fs::create_dir(&model)?;
    fs::write(model.join("config.json"), "{}\n")?;
    fs::write(model.join("weights.bin"), vec![7u8; 1 << 20])?;
    let prefix: Vec<&str> = std::iter::repeat_n("a", components - 1).collect();
    let prefix = prefix.join("/");
    let ignore: Vec<String> = (0..paths)
        .map(|i| {
            if prefix.is_empty() {
                format!("i{i}")
            } else {
                format!("{prefix}/i{i}")
            }
        })
        .collect();
    if present > 0 {
        let dir = model.join(&prefix);
        fs::create_dir_all(&dir)?;
        for i in 0..present {
            fs::write(dir.join(format!("i{i}")), "")?;
        }
    }
    println!(
        "{paths} ignore paths of {components} components, {present} of them present in the model"
    );

    let key = EcPrivateKey::generate(KeyAlgorithm::EcdsaP256Sha256);
    let public = key.public_key().clone();
    let signer = KeySigner::new(Box::new(key))?;
    let sig_path = tmp.path().join("model.sig");

    // Only the given paths, so that the signature holds exactly `PATHS`.
    let config = timed("config (ignore paths)", || {
        HashConfig::new()
            .ignore_git_paths(false)
            .ignore_hf_download_cache(false)
            .ignore_paths(&ignore)
    })?;
    {
        let (bundle, _) = timed("sign (walk, hash, sign)", || {
            sign_model(&model, &config, &signer, &NoProgress)
        })?;
        fs::write(&sig_path, bundle.to_json())?;
    }
    println!(
        "bundle: {:.1} MB",
        fs::metadata(&sig_path)?.len() as f64 / 1e6
    );

    drop((config, signer, ignore));
    let sign_peak = peak_rss_mib();
    // Resets the peak to the current use (Linux 4.0 and later), so that the
    // peak printed at the end is that of verification.
    let _ = fs::write("/proc/self/clear_refs", "5");

    let total = Instant::now();
    let bundle = timed(
        "read + parse bundle",
        || -> Result<Bundle, Box<dyn std::error::Error>> {
            Ok(Bundle::from_json(&fs::read(&sig_path)?)?)
        },
    )?;
    let verified = timed("verify signature + payload", || {
        verify_bundle(&bundle, &KeyVerifier::new(public))
    })?;
    let ok = timed("check model (walk, hash)", || {
        verified.check_model(
            Path::new(&model),
            &ModelCheckOptions::default(),
            &NoProgress,
        )
    })?;
    println!(
        "{:<28} {:>9.3} s ({} resources checked)",
        "verify total",
        total.elapsed().as_secs_f64(),
        ok.resources_checked
    );
    if let (Some(sign), Some(verify)) = (sign_peak, peak_rss_mib()) {
        println!("peak resident memory: signing {sign} MiB, verifying {verify} MiB");
    }
    Ok(())
}
