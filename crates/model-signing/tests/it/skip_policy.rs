//! The policy for tests whose prerequisite is missing (`skip_support`): a
//! failure under CI, a recorded skip elsewhere, never a silent pass.

use testkit::skip_support;

#[test]
fn a_missing_prerequisite_fails_under_ci() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("skipped.log");
    let result = std::panic::catch_unwind(|| {
        skip_support::record_skip("some_test", "setpriv is not installed", true, &log);
    });
    let message = result.expect_err("it fails under CI");
    let text = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        text.contains("some_test") && text.contains("setpriv is not installed"),
        "{text}"
    );
    assert!(!log.exists(), "nothing is recorded as skipped under CI");
}

#[test]
fn a_missing_prerequisite_is_recorded_elsewhere() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("tmp/skipped.log");
    skip_support::record_skip("first_test", "no CAP_MKNOD", false, &log);
    skip_support::record_skip("second_test", "no tmpfs", false, &log);
    let recorded = std::fs::read_to_string(&log).expect("the log is written");
    assert_eq!(
        recorded,
        "first_test: no CAP_MKNOD\nsecond_test: no tmpfs\n"
    );
}

#[test]
fn the_policy_follows_model_signing_ci() {
    assert_eq!(
        skip_support::required(),
        std::env::var_os("MODEL_SIGNING_CI").is_some_and(|v| !v.is_empty())
    );
    // The log lies where `scripts/test` reads it: Cargo's temporary folder
    // for integration tests (which the testkit library cannot name at
    // compile time, so it finds it from the test binary's path).
    assert_eq!(
        skip_support::skip_log(),
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("skipped-tests.log")
    );
}
