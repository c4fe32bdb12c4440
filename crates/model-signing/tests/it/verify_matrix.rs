//! The verification matrix (`tests/support/matrix.rs`) run through the
//! library: every row's outcome and error variant, all rows reported at once.

use testkit as support;

use support::matrix::{self, Expect};

#[test]
fn every_row_of_the_verification_matrix() {
    let rows = matrix::all();
    let mut failures = Vec::new();
    for case in &rows {
        let setup = (case.setup)();
        let result = matrix::verify_library(&setup);
        match (&case.expect, result) {
            (Expect::Pass { skipped }, Ok(ok)) => {
                let mut got = ok.unsigned_ignored.clone();
                got.sort();
                let mut want: Vec<String> = skipped.iter().map(|s| (*s).to_owned()).collect();
                want.sort();
                if got != want {
                    failures.push(format!("{}: skipped {got:?}, expected {want:?}", case.name));
                }
            }
            (Expect::Pass { .. }, Err(e)) => {
                failures.push(format!("{}: expected success, got {e:?}", case.name));
            }
            (Expect::Fail { check, .. }, Err(e)) => {
                if !check(&e) {
                    failures.push(format!("{}: unexpected error {e:?} ({e})", case.name));
                }
            }
            (Expect::Fail { .. }, Ok(_)) => {
                failures.push(format!(
                    "{}: verification passed, expected failure",
                    case.name
                ));
            }
        }
    }
    let negative = rows.iter().filter(|c| c.is_negative()).count();
    eprintln!(
        "{} rows: {} positive, {negative} negative",
        rows.len(),
        rows.len() - negative
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
