//! Conditions on claims, in the Common Expression Language (CEL), with a
//! bounded cost.
//!
//! The CEL interpreter has no cost accounting of its own, so a condition's
//! cost is estimated from its syntax tree and the input it is about to be
//! evaluated on, before it runs; a condition whose estimate is over the
//! limit is not run and fails. The estimate is an upper bound:
//!
//! - every node of the expression costs 1; a function or operator call
//!   costs 1 more per started 100 bytes of the longest string in the input
//!   (`S`), for string operations;
//! - a comprehension (`all`, `exists`, `exists_one`, `map`, `filter`) costs
//!   its range, its start and its result once, and its loop condition and
//!   step once per element of its range;
//! - the size of a range is the number of elements of a list or map
//!   literal, the sum of both sides of a `+`, the size of the range of a
//!   `map` or `filter` it is the result of, and for anything else (a
//!   variable, a field, a function's result) the size of the largest list
//!   or map, or the longest string, in the input.
//!
//! So a comprehension nested in another over lists of `n` elements costs
//! about `n * n`: the limit bounds time, and the memory a condition can
//! build (at most 100 bytes of string per unit of cost).

use std::collections::HashMap;
use std::sync::Arc;

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use cel::{Context, Env, Program, Value};

use crate::policy::MAX_CONDITION_BYTES;

/// A compiled condition.
pub struct Condition {
    source: String,
    program: Program,
    env: Arc<Env>,
}

impl std::fmt::Debug for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Condition").field(&self.source).finish()
    }
}

/// The inputs of a condition: its variables, and the statement digests the
/// lineage index knows as signed, with the names of the policy's signers
/// who signed them (for `signed_by`).
pub struct Inputs<'a> {
    /// Variables by name (`predicate`, `claim`, `model`).
    pub variables: Vec<(&'static str, &'a serde_json::Value)>,
    /// `signed_by(digest, signer)`.
    pub signed: Arc<HashMap<String, Vec<String>>>,
}

/// The variables a condition may use.
pub const VARIABLES: [&str; 3] = ["predicate", "claim", "model"];

impl Condition {
    /// Compiles `source`. Fails when it is longer than
    /// [`MAX_CONDITION_BYTES`], does not parse, or uses a variable that is
    /// not one of [`VARIABLES`].
    pub fn compile(source: &str) -> Result<Condition, String> {
        if source.len() > MAX_CONDITION_BYTES {
            return Err(format!(
                "longer than {MAX_CONDITION_BYTES} bytes ({} bytes)",
                source.len()
            ));
        }
        if source.trim().is_empty() {
            return Err("empty".into());
        }
        let env = Env::stdlib();
        let program = env.compile(source).map_err(|e| {
            let text = e.to_string();
            format!(
                "does not parse: {}",
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        })?;
        let mut unknown: Vec<String> = Vec::new();
        free_variables(program.expression(), &mut Vec::new(), &mut unknown);
        if !unknown.is_empty() {
            unknown.sort();
            return Err(format!(
                "unknown variable{} {} (the variables are {})",
                if unknown.len() == 1 { "" } else { "s" },
                unknown
                    .iter()
                    .map(|u| format!("`{u}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                VARIABLES.map(|v| format!("`{v}`")).join(", ")
            ));
        }
        Ok(Condition {
            source: source.to_owned(),
            program,
            env: Arc::new(env),
        })
    }

    /// The condition as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The estimated cost on `inputs` (see the module documentation).
    pub fn cost(&self, inputs: &Inputs<'_>) -> u64 {
        let mut sizes = Sizes::default();
        for (_, v) in &inputs.variables {
            sizes.measure(v, 0);
        }
        let per_call = 1 + (sizes.string as u64).div_ceil(100);
        let big = sizes.collection.max(sizes.string) as u64;
        cost(self.program.expression(), big, per_call).0
    }

    /// Evaluates the condition on `inputs` when its estimated cost is
    /// within `limit`: `Ok(true)` or `Ok(false)`, or why it could not be
    /// decided (over the limit, an error while evaluating, not a boolean).
    pub fn evaluate(&self, inputs: &Inputs<'_>, limit: u64) -> Result<bool, String> {
        let estimate = self.cost(inputs);
        if estimate > limit {
            return Err(format!(
                "is over its cost limit: estimated cost {estimate} on this input, limit {limit}"
            ));
        }
        let mut context = Context::with_env(Arc::clone(&self.env));
        for (name, value) in &inputs.variables {
            let v = cel::to_value(value)
                .map_err(|e| format!("cannot pass `{name}` to the condition: {e}"))?;
            context.add_variable_from_value(*name, v);
        }
        let signed = Arc::clone(&inputs.signed);
        context
            .add_function(
                "signed_by",
                move |digest: Arc<String>, signer: Arc<String>| {
                    let digest = digest.strip_prefix("sha256:").unwrap_or(&digest);
                    signed
                        .get(digest)
                        .is_some_and(|names| names.iter().any(|n| **n == *signer))
                },
            )
            .map_err(|e| format!("cannot declare signed_by: {e}"))?;
        match self.program.execute(&context) {
            Ok(Value::Bool(b)) => Ok(b),
            Ok(other) => Err(format!(
                "gave {}, not a boolean",
                describe(&other).chars().take(200).collect::<String>()
            )),
            Err(e) => Err(format!("could not be evaluated: {e}")),
        }
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Int(i) => format!("the integer {i}"),
        Value::UInt(i) => format!("the unsigned integer {i}"),
        Value::Float(f) => format!("the number {f}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::List(l) => format!("a list of {}", l.len()),
        Value::Map(_) => "a map".into(),
        _ => "a value of another type".into(),
    }
}

/// The largest collection and the longest string of an input.
#[derive(Default)]
struct Sizes {
    collection: usize,
    string: usize,
}

impl Sizes {
    fn measure(&mut self, v: &serde_json::Value, depth: usize) {
        // serde_json refuses documents nested deeper than 128.
        if depth > 256 {
            return;
        }
        match v {
            serde_json::Value::String(s) => self.string = self.string.max(s.len()),
            serde_json::Value::Array(a) => {
                self.collection = self.collection.max(a.len());
                for x in a {
                    self.measure(x, depth + 1);
                }
            }
            serde_json::Value::Object(o) => {
                self.collection = self.collection.max(o.len());
                for (k, x) in o {
                    self.string = self.string.max(k.len());
                    self.measure(x, depth + 1);
                }
            }
            _ => {}
        }
    }
}

/// The variables `e` uses that are not bound by a comprehension around
/// them and are not one of [`VARIABLES`].
fn free_variables(e: &IdedExpr, bound: &mut Vec<String>, out: &mut Vec<String>) {
    match &e.expr {
        Expr::Unspecified | Expr::Literal(_) => {}
        Expr::Ident(name) => {
            if !VARIABLES.contains(&name.as_str()) && !bound.contains(name) && !out.contains(name) {
                out.push(name.clone());
            }
        }
        Expr::Select(s) => free_variables(&s.operand, bound, out),
        Expr::List(l) => {
            for x in &l.elements {
                free_variables(x, bound, out);
            }
        }
        Expr::Map(m) => {
            for entry in &m.entries {
                entry_variables(&entry.expr, bound, out);
            }
        }
        Expr::Struct(st) => {
            for entry in &st.entries {
                entry_variables(&entry.expr, bound, out);
            }
        }
        Expr::Call(call) => {
            if let Some(t) = &call.target {
                free_variables(t, bound, out);
            }
            for a in &call.args {
                free_variables(a, bound, out);
            }
        }
        Expr::Comprehension(comp) => {
            free_variables(&comp.iter_range, bound, out);
            free_variables(&comp.accu_init, bound, out);
            let before = bound.len();
            bound.push(comp.iter_var.clone());
            bound.push(comp.accu_var.clone());
            free_variables(&comp.loop_cond, bound, out);
            free_variables(&comp.loop_step, bound, out);
            free_variables(&comp.result, bound, out);
            bound.truncate(before);
        }
    }
}

fn entry_variables(e: &EntryExpr, bound: &mut Vec<String>, out: &mut Vec<String>) {
    match e {
        EntryExpr::StructField(f) => free_variables(&f.value, bound, out),
        EntryExpr::MapEntry(m) => {
            free_variables(&m.key, bound, out);
            free_variables(&m.value, bound, out);
        }
    }
}

/// (cost, size bound of the value) of `e`.
fn cost(e: &IdedExpr, big: u64, per_call: u64) -> (u64, u64) {
    match &e.expr {
        Expr::Unspecified | Expr::Literal(_) => (1, 1),
        Expr::Ident(_) => (1, big),
        Expr::Select(s) => (cost(&s.operand, big, per_call).0.saturating_add(1), big),
        Expr::List(l) => {
            let c = l
                .elements
                .iter()
                .fold(1u64, |acc, x| acc.saturating_add(cost(x, big, per_call).0));
            (c, l.elements.len() as u64)
        }
        Expr::Map(m) => {
            let c = m.entries.iter().fold(1u64, |acc, entry| {
                acc.saturating_add(entry_cost(&entry.expr, big, per_call))
            });
            (c, m.entries.len() as u64)
        }
        Expr::Struct(s) => {
            let c = s.entries.iter().fold(1u64, |acc, entry| {
                acc.saturating_add(entry_cost(&entry.expr, big, per_call))
            });
            (c, s.entries.len() as u64)
        }
        Expr::Call(call) => {
            let mut c = per_call;
            let mut sizes = Vec::new();
            if let Some(t) = &call.target {
                let (tc, ts) = cost(t, big, per_call);
                c = c.saturating_add(tc);
                sizes.push(ts);
            }
            for a in &call.args {
                let (ac, s) = cost(a, big, per_call);
                c = c.saturating_add(ac);
                sizes.push(s);
            }
            let size = if call.func_name == "_+_" {
                sizes.iter().fold(0u64, |a, b| a.saturating_add(*b))
            } else {
                big
            };
            (c, size)
        }
        Expr::Comprehension(comp) => {
            let (range_cost, range) = cost(&comp.iter_range, big, per_call);
            let (init, _) = cost(&comp.accu_init, big, per_call);
            let (cond, _) = cost(&comp.loop_cond, big, per_call);
            let (step, _) = cost(&comp.loop_step, big, per_call);
            let (result, _) = cost(&comp.result, big, per_call);
            let c = range_cost
                .saturating_add(init)
                .saturating_add(result)
                .saturating_add(range.saturating_mul(cond.saturating_add(step)));
            (c, range)
        }
    }
}

fn entry_cost(e: &EntryExpr, big: u64, per_call: u64) -> u64 {
    match e {
        EntryExpr::StructField(f) => cost(&f.value, big, per_call).0,
        EntryExpr::MapEntry(m) => cost(&m.key, big, per_call)
            .0
            .saturating_add(cost(&m.value, big, per_call).0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(src: &str, predicate: serde_json::Value, limit: u64) -> Result<bool, String> {
        let c = Condition::compile(src)?;
        let claim = json!({});
        let model = json!({"name": "m"});
        let inputs = Inputs {
            variables: vec![
                ("predicate", &predicate),
                ("claim", &claim),
                ("model", &model),
            ],
            signed: Arc::new(HashMap::from([(
                "ab".to_owned(),
                vec!["data-team".to_owned()],
            )])),
        };
        c.evaluate(&inputs, limit)
    }

    #[test]
    fn numbers_compare_across_int_and_double() {
        let p = json!({"results": [{"metric": "accuracy", "value": 0.85}, {"metric": "f1", "value": 1}]});
        assert_eq!(
            eval(
                "predicate.results.exists(r, r.metric == 'accuracy' && r.value >= 0.8)",
                p.clone(),
                1000
            ),
            Ok(true)
        );
        assert_eq!(
            eval(
                "predicate.results.exists(r, r.metric == 'accuracy' && r.value >= 0.9)",
                p.clone(),
                1000
            ),
            Ok(false)
        );
        assert_eq!(
            eval(
                "predicate.results.exists(r, r.metric == 'f1' && double(r.value) >= 0.9)",
                p,
                1000
            ),
            Ok(true)
        );
    }

    #[test]
    fn signed_by_looks_up_the_index() {
        assert_eq!(
            eval("signed_by('sha256:ab', 'data-team')", json!({}), 100),
            Ok(true)
        );
        assert_eq!(eval("signed_by('ab', 'other')", json!({}), 100), Ok(false));
        assert_eq!(
            eval("signed_by('cd', 'data-team')", json!({}), 100),
            Ok(false)
        );
    }

    #[test]
    fn refusals() {
        assert!(Condition::compile("predicate.x ==")
            .expect_err("refused")
            .contains("does not parse"));
        assert!(Condition::compile("predicat.x == 1")
            .expect_err("refused")
            .contains("unknown variable `predicat`"));
        assert!(Condition::compile(&"1 + ".repeat(2000))
            .expect_err("refused")
            .contains("longer than"));
        assert!(Condition::compile("  ")
            .expect_err("refused")
            .contains("empty"));
        // Not a boolean.
        assert!(eval("predicate.a", json!({"a": 3}), 100)
            .expect_err("refused")
            .contains("not a boolean"));
        // A missing field is an error, never a pass.
        assert!(eval("predicate.missing > 1", json!({}), 100)
            .expect_err("refused")
            .contains("could not be evaluated"));
    }

    #[test]
    fn nested_comprehensions_cost_the_product_of_their_ranges() {
        let list: Vec<u32> = (0..300).collect();
        let p = json!({ "l": list });
        let nested = "predicate.l.all(x, predicate.l.all(y, predicate.l.all(z, x + y + z >= 0)))";
        let err = eval(nested, p.clone(), 1_000_000).expect_err("refused");
        assert!(err.contains("over its cost limit"), "{err}");
        // One level costs a few per element: within the limit.
        assert_eq!(
            eval("predicate.l.all(x, x >= 0)", p.clone(), 10_000),
            Ok(true)
        );
        // The estimate grows with the input, not only with the expression.
        let c = Condition::compile("predicate.l.all(x, x >= 0)").expect("compiles");
        let small = json!({"l": [1]});
        let none = Arc::new(HashMap::new());
        let cost_small = c.cost(&Inputs {
            variables: vec![("predicate", &small)],
            signed: Arc::clone(&none),
        });
        let cost_big = c.cost(&Inputs {
            variables: vec![("predicate", &p)],
            signed: none,
        });
        assert!(cost_big > 100 * cost_small, "{cost_small} {cost_big}");
        // Concatenated lists count both sides.
        assert!(eval(
            "(predicate.l + predicate.l + predicate.l).all(x, (predicate.l + predicate.l).all(y, true))",
            p,
            100_000
        )
        .expect_err("refused")
        .contains("over its cost limit"));
    }

    #[test]
    fn long_strings_raise_the_cost_of_calls() {
        let p = json!({"s": "a".repeat(1 << 20)});
        assert!(eval("predicate.s.contains('b') == false", p.clone(), 1000)
            .expect_err("refused")
            .contains("over its cost limit"));
        assert_eq!(
            eval("predicate.s.contains('b') == false", p, 100_000),
            Ok(true)
        );
    }
}
