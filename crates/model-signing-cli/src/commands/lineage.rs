//! `model-signing lineage add|derived|inputs`.

use anyhow::Context;
use model_signing::text::{escape, escape_path};
use model_signing_policy::gate::decide;
use model_signing_policy::lineage::{Direction, Graph, Index, Kind};
use serde::Serialize;
use serde_json::Value;

use crate::cli::{GraphFormat, LineageAddArgs, LineageCommand, LineageQueryArgs};
use crate::commands::gate::{claim_json, gate_options, index_path, load_policy, GateClaimJson};
use crate::commands::report::JSON_VERSION;
use crate::exit;
use crate::hf;
use crate::printer::Printer;

pub fn run(cmd: LineageCommand, printer: &Printer) -> anyhow::Result<u8> {
    match cmd {
        LineageCommand::Add(args) => add(args, printer),
        LineageCommand::Derived(args) => query(args, Direction::Derived, printer),
        LineageCommand::Inputs(args) => query(args, Direction::Inputs, printer),
    }
}

#[derive(Serialize)]
struct AddJson<'a> {
    version: u32,
    index: String,
    model: String,
    kind: &'static str,
    statement_digest: &'a str,
    new_signature: bool,
    new_claims: usize,
    known_claims: usize,
    new_edges: usize,
    /// Every claim of the claims file, with its verdict: only valid ones are recorded.
    claims: Vec<GateClaimJson<'a>>,
}

fn add(args: LineageAddArgs, printer: &Printer) -> anyhow::Result<u8> {
    super::oci::on_disk_only(&args.model, "lineage add")?;
    let policy = load_policy(&args.policy)?;
    let path = index_path(&args.index.index)?;
    let model = hf::resolve_model(&args.model)?;
    let dataset = args.dataset
        || hf::parse(&args.model)
            .ok()
            .flatten()
            .is_some_and(|r| r.dataset);
    let options = gate_options(&args.inputs, &args.model, &model, printer)?;
    let progress = printer.hashing_progress("verifying");
    let decision = decide(&policy, &model, &options, &progress)
        .with_context(|| format!("cannot verify {}", args.model.display()))?;
    let kind = if dataset { Kind::Dataset } else { Kind::Model };
    let mut index = Index::open(&path, true)?;
    let recorded = index.record(&decision, kind)?;
    for c in &decision.claims {
        if let Some(reason) = c.verdict.reason() {
            printer.warn(&format!(
                "claim at line {} not recorded ({}): {}",
                c.line,
                c.verdict.as_str().replace('_', " "),
                escape(reason)
            ));
        }
    }
    if args.json {
        printer.out_json(&AddJson {
            version: JSON_VERSION,
            index: path.display().to_string(),
            model: args.model.display().to_string(),
            kind: kind.as_str(),
            statement_digest: &recorded.digest,
            new_signature: recorded.new_signature,
            new_claims: recorded.new_claims,
            known_claims: recorded.known_claims,
            new_edges: recorded.new_edges,
            claims: decision.claims.iter().map(claim_json).collect(),
        })?;
    } else {
        printer.out(&format!(
            "Recorded {} {} (sha256:{}) in {}: signature {}, {} new claim(s), {} new link(s)",
            kind.as_str(),
            escape_path(&args.model),
            recorded.digest,
            escape_path(&path),
            if recorded.new_signature {
                "new"
            } else {
                "already recorded"
            },
            recorded.new_claims,
            recorded.new_edges
        ));
    }
    Ok(exit::SUCCESS)
}

#[derive(Serialize)]
struct NodeJson<'a> {
    statement_digest: &'a str,
    name: &'a str,
    root_digest: Option<&'a str>,
    kind: &'static str,
    depth: usize,
    /// Whether its own signature is recorded (else only a claim names it).
    recorded: bool,
    signers: &'a [Value],
    /// With --policy: the policy's signers among its signers.
    trusted_signers: &'a [String],
}

#[derive(Serialize)]
struct EdgeJson<'a> {
    /// The input.
    from: &'a str,
    /// What was made from it.
    to: &'a str,
    relation: &'a str,
    /// Who signed the claim that says so.
    signer: &'a Value,
}

#[derive(Serialize)]
struct GraphJson<'a> {
    version: u32,
    index: String,
    direction: &'static str,
    start: &'a [String],
    nodes: Vec<NodeJson<'a>>,
    edges: Vec<EdgeJson<'a>>,
}

fn query(args: LineageQueryArgs, direction: Direction, printer: &Printer) -> anyhow::Result<u8> {
    let policy = match &args.policy {
        Some(p) => Some(load_policy(p)?),
        None => None,
    };
    let path = index_path(&args.index.index)?;
    let index = Index::open(&path, false)?;
    let start = index.resolve(&args.reference)?;
    let graph = index.walk(&start, direction, policy.as_ref())?;
    match args.format {
        GraphFormat::Dot => printer.out(graph.to_dot().trim_end()),
        GraphFormat::Json => print_json(&graph, &path, direction, printer)?,
        GraphFormat::Text => print_text(&graph, direction, policy.is_some(), printer),
    }
    Ok(exit::SUCCESS)
}

fn print_json(
    graph: &Graph,
    path: &std::path::Path,
    direction: Direction,
    printer: &Printer,
) -> anyhow::Result<()> {
    printer.out_json(&GraphJson {
        version: JSON_VERSION,
        index: path.display().to_string(),
        direction: match direction {
            Direction::Derived => "derived",
            Direction::Inputs => "inputs",
        },
        start: &graph.start,
        nodes: graph
            .nodes
            .iter()
            .map(|n| NodeJson {
                statement_digest: &n.digest,
                name: &n.name,
                root_digest: n.root_digest.as_deref(),
                kind: n.kind.as_str(),
                depth: n.depth,
                recorded: n.recorded,
                signers: &n.signers,
                trusted_signers: &n.trusted,
            })
            .collect(),
        edges: graph
            .edges
            .iter()
            .map(|e| EdgeJson {
                from: &e.parent,
                to: &e.child,
                relation: &e.relation,
                signer: &e.signer,
            })
            .collect(),
    })
}

fn signer_text(v: &Value) -> String {
    let f = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
    match f("kind") {
        "key" => format!("key {}", f("hint")),
        "certificate" => format!("certificate {}", escape(f("subject"))),
        "sigstore" => format!("{} (issuer {})", escape(f("identity")), escape(f("issuer"))),
        _ => "unknown signer".to_owned(),
    }
}

fn print_text(graph: &Graph, direction: Direction, filtered: bool, printer: &Printer) {
    let found = graph.nodes.iter().filter(|n| n.depth > 0).count();
    let what = match direction {
        Direction::Derived => "derive from",
        Direction::Inputs => "went into",
    };
    for n in graph.nodes.iter().filter(|n| n.depth == 0) {
        printer.out(&format!(
            "{} {} (sha256:{}): {found} {what} it",
            n.kind.as_str(),
            escape(&n.name),
            n.digest
        ));
    }
    for n in graph.nodes.iter().filter(|n| n.depth > 0) {
        let signed = if !n.recorded {
            "signature not recorded".to_owned()
        } else if filtered && n.trusted.is_empty() {
            "signed by no signer of the policy".to_owned()
        } else if filtered {
            format!("signed by {}", n.trusted.join(", "))
        } else {
            format!(
                "signed by {}",
                n.signers
                    .iter()
                    .map(signer_text)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        printer.out(&format!(
            "  {}{} {}  sha256:{}  ({signed})",
            "  ".repeat(n.depth.saturating_sub(1)),
            n.kind.as_str(),
            escape(&n.name),
            n.digest
        ));
    }
}
