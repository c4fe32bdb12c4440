//! Deployment gates and incident response for signed models.
//!
//! - [`policy`]: verification policies (YAML or JSON, schema
//!   `docs/policy-v1.schema.json`): which signers are trusted for the
//!   model, which hashing parameters are accepted, whether unsigned files
//!   are tolerated, which claims must be present, from whom, and conditions
//!   on their content in CEL ([`expr`], with a bounded cost).
//! - [`gate`]: [`gate::decide`] verifies a model under a policy and
//!   reports each rule with pass or fail and why.
//! - [`lineage`]: an embedded SQLite index of verified signatures and
//!   claims, and the queries incident response needs: what derives from a
//!   dataset or model, and what went into one.
//!
//! See docs/policies.md.

pub mod expr;
pub mod gate;
pub mod lineage;
pub mod policy;

pub use gate::{decide, Decision, GateError, GateOptions, RuleResult, Status};
pub use lineage::{Direction, Graph, Index, Kind, LineageError};
pub use policy::{Policy, PolicyError};
