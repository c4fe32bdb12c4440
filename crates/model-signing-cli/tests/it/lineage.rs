//! lineage tests
