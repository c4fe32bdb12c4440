//! The integration tests of `model-signing-cli`, in one binary:
//! `cargo test -p model-signing-cli --test it`.
//! Each module is one area; shared helpers come from the `testkit` crate.

mod attest;
mod caps;
mod claims_cases;
mod compat_golden;
mod datasets;
mod digest;
mod exit_codes;
mod faults;
mod go_keys;
mod hf_layouts;
mod incremental;
mod lineage;
mod memory_bounds;
mod oci_layout;
mod oci_methods;
mod oci_registry;
mod oci_server;
mod pkcs11;
mod policy_cases;
mod reference_flags;
mod secrets;
mod sign_verify_cli;
mod sign_verify_interop;
mod sigstore;
mod sigstore_e2e;
mod snapshots;
mod timestamps;
mod verify_matrix;
mod verify_partial;

/// The CLI, run in `cwd` with credentials from `docker_config` alone (no
/// `REGISTRY_AUTH_FILE`, no stdin): the start of every OCI test command.
fn cli_with_docker_config(
    cwd: &std::path::Path,
    docker_config: &std::path::Path,
) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_model-signing"));
    cmd.current_dir(cwd)
        .env("DOCKER_CONFIG", docker_config)
        .env_remove("REGISTRY_AUTH_FILE")
        .stdin(std::process::Stdio::null());
    cmd
}
