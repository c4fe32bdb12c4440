//! The lineage index: which signed models and datasets went into which.
//!
//! An embedded SQLite database of verified facts only: the signatures
//! [`Index::record`] is given as a passed [`Decision`] (the signature
//! verified by a signer a policy trusts and the files matched), and the
//! claims of that decision that verified. A node is a signature, named by
//! the SHA-256 of its statement (the digest claims bind to); an edge says
//! that a valid training-provenance claim (SLSA Provenance v1) about the
//! child lists the parent among its resolved dependencies, and who signed
//! that claim.
//!
//! Queries walk the edges in either direction, breadth first, each node
//! once (cycles end there); with a policy, only edges whose claim a signer
//! of the policy signed are followed.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use model_signing::claims::STATEMENT_SUBJECT;
use model_signing::predicates::SLSA_PROVENANCE_V1;
use model_signing::verify::Signer;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use crate::gate::Decision;
use crate::policy::{Policy, SignerSpec};

/// The schema version the index records in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 1;
/// The most nodes a query returns.
pub const MAX_QUERY_NODES: usize = 1_000_000;

/// What went wrong with the index.
#[derive(Debug, thiserror::Error)]
pub enum LineageError {
    /// SQLite failed (the file cannot be opened or written, or is not an index).
    #[error("lineage index {path}: {source}")]
    Sqlite {
        /// The index file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// The index was made by another version of the schema.
    #[error("lineage index {path} has schema version {found}; this release reads version {SCHEMA_VERSION}")]
    Version {
        /// The index file.
        path: PathBuf,
        /// Its version.
        found: i64,
    },
    /// The index's directory cannot be made.
    #[error("cannot create the directory of the lineage index {path}: {source}")]
    Directory {
        /// The index file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A decision that did not pass is not recorded.
    #[error("not recorded: {0}")]
    NotVerified(String),
    /// A reference names nothing in the index.
    #[error("{0}")]
    NotFound(String),
    /// A reference that is not a digest, a signature file or a name.
    #[error("{0}")]
    BadReference(String),
}

impl LineageError {
    /// How the command line classifies it.
    pub fn kind(&self) -> model_signing::ErrorKind {
        match self {
            LineageError::NotVerified(_) => model_signing::ErrorKind::Rejected,
            LineageError::NotFound(_) | LineageError::BadReference(_) => {
                model_signing::ErrorKind::Usage
            }
            _ => model_signing::ErrorKind::Environment,
        }
    }
}

/// Whether a node is a model or a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A model.
    Model,
    /// A dataset.
    Dataset,
}

impl Kind {
    /// `model` or `dataset`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Model => "model",
            Kind::Dataset => "dataset",
        }
    }

    fn parse(s: &str) -> Kind {
        if s == "dataset" {
            Kind::Dataset
        } else {
            Kind::Model
        }
    }
}

/// Which way a query walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// To what derives from the start (impact of a poisoned input).
    Derived,
    /// To what went into the start.
    Inputs,
}

/// What [`Index::record`] added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// The statement digest of the signature recorded.
    pub digest: String,
    /// Whether the signature (with this signer) is new to the index.
    pub new_signature: bool,
    /// Claims recorded that the index did not hold.
    pub new_claims: usize,
    /// Edges added that the index did not hold.
    pub new_edges: usize,
    /// Valid claims that were already recorded.
    pub known_claims: usize,
}

/// A node of a query's result.
#[derive(Debug, Clone)]
pub struct Node {
    /// The statement digest (hex).
    pub digest: String,
    /// The name its signature (or the claim naming it) gives.
    pub name: String,
    /// Its root digest (hex), where known.
    pub root_digest: Option<String>,
    /// Model or dataset.
    pub kind: Kind,
    /// Steps from the start (0 for the start).
    pub depth: usize,
    /// Whether its own signature was recorded (else it is only named by a
    /// claim about another).
    pub recorded: bool,
    /// Who signed it (recorded signatures).
    pub signers: Vec<Value>,
    /// The names of the policy's signers among them (with a policy).
    pub trusted: Vec<String>,
}

/// An edge of a query's result: `child` was made from `parent`.
#[derive(Debug, Clone)]
pub struct Edge {
    /// The input (dataset or base model).
    pub parent: String,
    /// What was made from it.
    pub child: String,
    /// `dataset`, `base-model` or `input`.
    pub relation: String,
    /// Who signed the claim that says so.
    pub signer: Value,
}

/// A query's result.
#[derive(Debug, Clone)]
pub struct Graph {
    /// The start nodes' digests.
    pub start: Vec<String>,
    /// Every node reached, the start included, by depth.
    pub nodes: Vec<Node>,
    /// Every edge followed.
    pub edges: Vec<Edge>,
}

/// A lineage index.
pub struct Index {
    conn: Connection,
    path: PathBuf,
}

/// Whether a stored signer (as [`Signer::to_json`] writes it) is `spec`.
/// Sigstore signers are matched on identity and issuer; a policy's
/// `github_repository` and `github_ref` (checked on the certificate when
/// the signature was recorded) are matched on the identity, which for
/// GitHub Actions names the workflow as
/// `https://github.com/OWNER/REPO/...@REF`.
pub fn signer_matches(spec: &SignerSpec, stored: &Value) -> bool {
    let field = |k: &str| stored.get(k).and_then(Value::as_str);
    match spec {
        SignerSpec::Key { key, .. } => {
            field("kind") == Some("key") && field("hint") == Some(key.hint().as_str())
        }
        SignerSpec::CertificateChain { certificates, .. } => {
            if field("kind") != Some("certificate") {
                return false;
            }
            let anchors: HashSet<String> = certificates
                .iter()
                .map(|c| c.fingerprint_sha256())
                .collect();
            stored
                .get("path")
                .and_then(Value::as_array)
                .is_some_and(|p| {
                    p.iter().any(|e| {
                        e.get("fingerprint")
                            .and_then(Value::as_str)
                            .is_some_and(|f| anchors.contains(f))
                    })
                })
        }
        SignerSpec::Sigstore {
            identity,
            issuer,
            github_repository,
            github_ref,
        } => {
            let (Some("sigstore"), Some(id), Some(iss)) =
                (field("kind"), field("identity"), field("issuer"))
            else {
                return false;
            };
            identity.is_match(id)
                && issuer.is_match(iss)
                && github_repository
                    .as_ref()
                    .is_none_or(|r| id.starts_with(&format!("https://github.com/{r}/")))
                && github_ref
                    .as_ref()
                    .is_none_or(|r| id.ends_with(&format!("@{r}")))
        }
    }
}

/// The names of `policy`'s signers that `stored` is.
pub fn policy_names(policy: &Policy, stored: &Value) -> Vec<String> {
    policy
        .signers
        .iter()
        .filter(|s| signer_matches(&s.spec, stored))
        .map(|s| s.name.clone())
        .collect()
}

fn is_digest(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Index {
    /// Where the index lives by default: `$XDG_DATA_HOME/model-signing/lineage.db`,
    /// else `~/.local/share/model-signing/lineage.db`.
    pub fn default_path() -> Option<PathBuf> {
        let base = match std::env::var_os("XDG_DATA_HOME") {
            Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d),
            _ => PathBuf::from(std::env::var_os("HOME")?).join(".local/share"),
        };
        Some(base.join("model-signing").join("lineage.db"))
    }

    fn sqlite(&self) -> impl Fn(rusqlite::Error) -> LineageError + '_ {
        |source| LineageError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Opens the index at `path`, creating it (and its directory, private
    /// to the user) when `create`.
    pub fn open(path: &Path, create: bool) -> Result<Index, LineageError> {
        let sqlite = |source| LineageError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        if create {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                if !dir.exists() {
                    let mut b = std::fs::DirBuilder::new();
                    b.recursive(true);
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::DirBuilderExt;
                        b.mode(0o700);
                    }
                    b.create(dir).map_err(|source| LineageError::Directory {
                        path: path.to_path_buf(),
                        source,
                    })?;
                }
            }
        } else if !path.is_file() {
            return Err(LineageError::NotFound(format!(
                "no lineage index at {} (record into it with `lineage add`)",
                path.display()
            )));
        }
        use rusqlite::OpenFlags;
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(path, flags).map_err(sqlite)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sqlite)?;
        // A page cache of up to 64 MiB: queries of a large index walk
        // pages all over the file.
        conn.execute_batch("PRAGMA cache_size = -65536;")
            .map_err(sqlite)?;
        let index = Index {
            conn,
            path: path.to_path_buf(),
        };
        let version: i64 = index
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sqlite)?;
        match version {
            0 => index.create_schema()?,
            SCHEMA_VERSION => {}
            found => {
                return Err(LineageError::Version {
                    path: path.to_path_buf(),
                    found,
                })
            }
        }
        Ok(index)
    }

    fn create_schema(&self) -> Result<(), LineageError> {
        self.conn
            .execute_batch(
                "BEGIN IMMEDIATE;
                 CREATE TABLE IF NOT EXISTS artifacts (
                     id INTEGER PRIMARY KEY,
                     digest TEXT NOT NULL UNIQUE,
                     name TEXT NOT NULL,
                     root_digest TEXT,
                     kind TEXT NOT NULL,
                     recorded INTEGER NOT NULL DEFAULT 0
                 );
                 CREATE INDEX IF NOT EXISTS artifacts_name ON artifacts(name);
                 CREATE TABLE IF NOT EXISTS signers (
                     id INTEGER PRIMARY KEY,
                     json TEXT NOT NULL UNIQUE
                 );
                 CREATE TABLE IF NOT EXISTS signatures (
                     artifact INTEGER NOT NULL REFERENCES artifacts(id),
                     signer INTEGER NOT NULL REFERENCES signers(id),
                     signed_at INTEGER,
                     PRIMARY KEY (artifact, signer)
                 ) WITHOUT ROWID;
                 CREATE TABLE IF NOT EXISTS claims (
                     claim TEXT NOT NULL,
                     subject INTEGER NOT NULL REFERENCES artifacts(id),
                     predicate_type TEXT NOT NULL,
                     signer INTEGER NOT NULL REFERENCES signers(id),
                     PRIMARY KEY (claim, signer)
                 ) WITHOUT ROWID;
                 CREATE TABLE IF NOT EXISTS edges (
                     parent INTEGER NOT NULL REFERENCES artifacts(id),
                     child INTEGER NOT NULL REFERENCES artifacts(id),
                     relation TEXT NOT NULL,
                     signer INTEGER NOT NULL REFERENCES signers(id),
                     claim TEXT NOT NULL,
                     PRIMARY KEY (parent, child, relation, signer, claim)
                 ) WITHOUT ROWID;
                 CREATE INDEX IF NOT EXISTS edges_up ON edges(child, parent, relation, signer);
                 PRAGMA user_version = 1;
                 COMMIT;",
            )
            .map_err(self.sqlite())
    }

    /// The index file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records a decision that passed its signer, hashing and files rules:
    /// the model's signature with its signer, then each valid claim with
    /// the signer that verified it, and an edge per input that a valid
    /// training-provenance claim lists. Claim rules need not pass: what
    /// is recorded is what verified. Records already held are kept once.
    pub fn record(&mut self, decision: &Decision, kind: Kind) -> Result<Recorded, LineageError> {
        let (Some((signer, _)), Some((name, root, digest)), Some(_)) =
            (&decision.signer, &decision.subject, &decision.model)
        else {
            let failed: Vec<String> = decision
                .rules
                .iter()
                .filter(|r| r.status != crate::gate::Status::Pass)
                .take(1)
                .map(|r| format!("{}: {}", r.rule, r.detail))
                .collect();
            return Err(LineageError::NotVerified(format!(
                "the model did not verify under the policy ({})",
                failed.join("")
            )));
        };
        let signer_json = signer.to_json().to_string();
        let tx = self
            .conn
            .transaction()
            .map_err(|source| LineageError::Sqlite {
                path: self.path.clone(),
                source,
            })?;
        let path = self.path.clone();
        let sqlite = |source| LineageError::Sqlite {
            path: path.clone(),
            source,
        };
        let mut out = Recorded {
            digest: digest.clone(),
            ..Recorded::default()
        };
        let id = upsert_artifact(&tx, digest, name, Some(root), kind, true).map_err(sqlite)?;
        let signer_id = intern_signer(&tx, &signer_json).map_err(sqlite)?;
        out.new_signature = tx
            .execute(
                "INSERT OR IGNORE INTO signatures(artifact, signer, signed_at) VALUES (?1, ?2, ?3)",
                params![
                    id,
                    signer_id,
                    decision
                        .model
                        .as_ref()
                        .and_then(|m| m.manifest.check().signed_at)
                ],
            )
            .map_err(sqlite)?
            > 0;
        for claim in &decision.claims {
            if claim.verdict != model_signing::claims::ClaimVerdict::Valid {
                continue;
            }
            let (Some(claim_digest), Some(claim_signer), Some(ptype)) =
                (&claim.digest, &claim.signer, &claim.predicate_type)
            else {
                continue;
            };
            let claim_signer =
                intern_signer(&tx, &claim_signer.to_json().to_string()).map_err(sqlite)?;
            let added = tx
                .execute(
                    "INSERT OR IGNORE INTO claims(claim, subject, predicate_type, signer) VALUES (?1, ?2, ?3, ?4)",
                    params![claim_digest, id, ptype, claim_signer],
                )
                .map_err(sqlite)?;
            if added > 0 {
                out.new_claims += 1;
            } else {
                out.known_claims += 1;
            }
            if ptype != SLSA_PROVENANCE_V1 {
                continue;
            }
            let Some(predicate) = &claim.predicate else {
                continue;
            };
            for input in inputs_of(predicate) {
                let parent = upsert_artifact(
                    &tx,
                    &input.digest,
                    &input.name,
                    input.root_digest.as_deref(),
                    input.kind,
                    false,
                )
                .map_err(sqlite)?;
                out.new_edges += tx
                    .execute(
                        "INSERT OR IGNORE INTO edges(parent, child, relation, signer, claim) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![parent, id, input.relation, claim_signer, claim_digest],
                    )
                    .map_err(sqlite)?;
            }
        }
        tx.commit().map_err(sqlite)?;
        Ok(out)
    }

    /// The statement digests a reference names: `sha256:HEX` (or the bare
    /// hex) of a statement, a signature file (its statement's digest), or
    /// the name of recorded models or datasets (every one of that name).
    pub fn resolve(&self, reference: &str) -> Result<Vec<String>, LineageError> {
        let hex = reference.strip_prefix("sha256:").unwrap_or(reference);
        let digests = if is_digest(hex) {
            vec![hex.to_owned()]
        } else if reference.starts_with("sha256:") {
            return Err(LineageError::BadReference(format!(
                "{reference:?} is not a SHA-256 digest (64 lowercase hex digits)"
            )));
        } else if Path::new(reference).is_file() {
            let bundle =
                model_signing::bundle::Bundle::read(Path::new(reference)).map_err(|e| {
                    LineageError::BadReference(format!(
                        "{reference} is not a signature the index can name: {e}"
                    ))
                })?;
            vec![model_signing::claims::statement_digest_of(&bundle)]
        } else {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT digest FROM artifacts WHERE name = ?1 ORDER BY digest")
                .map_err(self.sqlite())?;
            let rows = stmt
                .query_map([reference], |r| r.get::<_, String>(0))
                .map_err(self.sqlite())?;
            let mut out = Vec::new();
            for r in rows {
                out.push(r.map_err(self.sqlite())?);
            }
            out
        };
        for d in &digests {
            let known: Option<i64> = self
                .conn
                .query_row("SELECT 1 FROM artifacts WHERE digest = ?1", [d], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(self.sqlite())?;
            if known.is_none() {
                return Err(LineageError::NotFound(format!(
                    "sha256:{d} is not in the lineage index {}",
                    self.path.display()
                )));
            }
        }
        if digests.is_empty() {
            return Err(LineageError::NotFound(format!(
                "no model or dataset named {reference:?} in the lineage index {} (give a name, a sha256: statement digest or a signature file)",
                self.path.display()
            )));
        }
        Ok(digests)
    }

    /// Walks from `start` in `direction`. With `policy`, only edges whose
    /// claim one of its signers signed are followed, and each node says
    /// which of its signers signed it.
    pub fn walk(
        &self,
        start: &[String],
        direction: Direction,
        policy: Option<&Policy>,
    ) -> Result<Graph, LineageError> {
        let sqlite = self.sqlite();
        // One read transaction for the whole walk: SQLite then locks the
        // file and checks it for changes once, not once per statement.
        let tx = self.conn.unchecked_transaction().map_err(&sqlite)?;
        let mut id_stmt = self
            .conn
            .prepare_cached("SELECT id FROM artifacts WHERE digest = ?1")
            .map_err(&sqlite)?;
        let sql = match direction {
            Direction::Derived => "SELECT child, relation, signer FROM edges WHERE parent = ?1",
            Direction::Inputs => "SELECT parent, relation, signer FROM edges WHERE child = ?1",
        };
        let mut next_stmt = self.conn.prepare_cached(sql).map_err(&sqlite)?;
        let mut signer_stmt = self
            .conn
            .prepare_cached("SELECT json FROM signers WHERE id = ?1")
            .map_err(&sqlite)?;
        // Each signer parsed (and matched against the policy) once.
        let mut signers: HashMap<i64, (Value, Vec<String>)> = HashMap::new();
        let mut signer = |id: i64| -> Result<(Value, Vec<String>), LineageError> {
            if let Some(s) = signers.get(&id) {
                return Ok(s.clone());
            }
            let json: String = signer_stmt.query_row([id], |r| r.get(0)).map_err(&sqlite)?;
            let value: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
            let names = policy.map(|p| policy_names(p, &value)).unwrap_or_default();
            signers.insert(id, (value.clone(), names.clone()));
            Ok((value, names))
        };
        let mut depth: HashMap<i64, usize> = HashMap::new();
        let mut order: Vec<i64> = Vec::new();
        let mut queue: VecDeque<i64> = VecDeque::new();
        for digest in start {
            let id: Option<i64> = id_stmt
                .query_row([digest], |r| r.get(0))
                .optional()
                .map_err(&sqlite)?;
            let Some(id) = id else {
                return Err(LineageError::NotFound(format!(
                    "sha256:{digest} is not in the lineage index {}",
                    self.path.display()
                )));
            };
            if let std::collections::hash_map::Entry::Vacant(e) = depth.entry(id) {
                e.insert(0);
                order.push(id);
                queue.push_back(id);
            }
        }
        let mut edges: Vec<(i64, i64, String, i64)> = Vec::new();
        let mut seen_edges: HashSet<(i64, i64, String)> = HashSet::new();
        let mut rows: Vec<(i64, String, i64)> = Vec::new();
        while let Some(node) = queue.pop_front() {
            let d = depth[&node];
            rows.clear();
            let found = next_stmt
                .query_map([node], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(&sqlite)?;
            for row in found {
                rows.push(row.map_err(&sqlite)?);
            }
            for (other, relation, signer_id) in rows.drain(..) {
                if policy.is_some() && signer(signer_id)?.1.is_empty() {
                    continue;
                }
                let (parent, child) = match direction {
                    Direction::Derived => (node, other),
                    Direction::Inputs => (other, node),
                };
                // One edge per relation, whichever claims (or signers) say so.
                if seen_edges.insert((parent, child, relation.clone())) {
                    edges.push((parent, child, relation, signer_id));
                }
                if !depth.contains_key(&other) && order.len() < MAX_QUERY_NODES {
                    depth.insert(other, d + 1);
                    order.push(other);
                    queue.push_back(other);
                }
            }
        }
        let mut node_stmt = self
            .conn
            .prepare_cached(
                "SELECT digest, name, root_digest, kind, recorded FROM artifacts WHERE id = ?1",
            )
            .map_err(&sqlite)?;
        let mut sig_stmt = self
            .conn
            .prepare_cached("SELECT signer FROM signatures WHERE artifact = ?1")
            .map_err(&sqlite)?;
        let mut digests: HashMap<i64, String> = HashMap::with_capacity(order.len());
        let mut nodes = Vec::with_capacity(order.len());
        for id in order {
            let (digest, name, root_digest, kind, recorded) = node_stmt
                .query_row([id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                })
                .map_err(&sqlite)?;
            let ids: Vec<i64> = sig_stmt
                .query_map([id], |r| r.get(0))
                .map_err(&sqlite)?
                .collect::<Result<_, _>>()
                .map_err(&sqlite)?;
            let mut node_signers = Vec::new();
            let mut trusted: Vec<String> = Vec::new();
            for s in ids {
                let (value, names) = signer(s)?;
                for n in names {
                    if !trusted.contains(&n) {
                        trusted.push(n);
                    }
                }
                node_signers.push(value);
            }
            digests.insert(id, digest.clone());
            nodes.push(Node {
                depth: depth[&id],
                digest,
                name,
                root_digest,
                kind: Kind::parse(&kind),
                recorded: recorded != 0,
                signers: node_signers,
                trusted,
            });
        }
        let mut out_edges = Vec::with_capacity(edges.len());
        for (parent, child, relation, signer_id) in edges {
            out_edges.push(Edge {
                parent: digests.get(&parent).cloned().unwrap_or_default(),
                child: digests.get(&child).cloned().unwrap_or_default(),
                relation,
                signer: signer(signer_id)?.0,
            });
        }
        drop((id_stmt, next_stmt, node_stmt, sig_stmt));
        tx.commit().map_err(&sqlite)?;
        Ok(Graph {
            start: start.to_vec(),
            nodes,
            edges: out_edges,
        })
    }

    /// Every recorded signature whose signer is one of `policy`'s, as
    /// statement digest to signer names (for `signed_by` in conditions).
    pub fn signed_map(
        &self,
        policy: &Policy,
    ) -> Result<HashMap<String, Vec<String>>, LineageError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT a.digest, s.json FROM signatures g JOIN artifacts a ON a.id = g.artifact JOIN signers s ON s.id = g.signer",
            )
            .map_err(self.sqlite())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(self.sqlite())?;
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for r in rows {
            let (digest, signer) = r.map_err(self.sqlite())?;
            let Ok(v) = serde_json::from_str::<Value>(&signer) else {
                continue;
            };
            let names = policy_names(policy, &v);
            if !names.is_empty() {
                out.entry(digest).or_default().extend(names);
            }
        }
        Ok(out)
    }

    /// How many nodes, signatures, claims and edges the index holds.
    pub fn counts(&self) -> Result<[u64; 4], LineageError> {
        let mut out = [0u64; 4];
        for (i, table) in ["artifacts", "signatures", "claims", "edges"]
            .iter()
            .enumerate()
        {
            out[i] = self
                .conn
                .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| {
                    r.get::<_, i64>(0)
                })
                .map_err(self.sqlite())? as u64;
        }
        Ok(out)
    }
}

fn upsert_artifact(
    tx: &rusqlite::Transaction<'_>,
    digest: &str,
    name: &str,
    root: Option<&str>,
    kind: Kind,
    recorded: bool,
) -> rusqlite::Result<i64> {
    if recorded {
        // The signature itself names the model: that wins over a claim's
        // name for it.
        tx.execute(
            "INSERT INTO artifacts(digest, name, root_digest, kind, recorded) VALUES (?1, ?2, ?3, ?4, 1)
             ON CONFLICT(digest) DO UPDATE SET name = excluded.name, root_digest = excluded.root_digest,
               kind = excluded.kind, recorded = 1",
            params![digest, name, root, kind.as_str()],
        )?;
    } else {
        tx.execute(
            "INSERT OR IGNORE INTO artifacts(digest, name, root_digest, kind, recorded) VALUES (?1, ?2, ?3, ?4, 0)",
            params![digest, name, root, kind.as_str()],
        )?;
    }
    tx.query_row(
        "SELECT id FROM artifacts WHERE digest = ?1",
        [digest],
        |r| r.get(0),
    )
}

/// The id of a signer (its JSON, as [`Signer::to_json`] writes it), added when new.
fn intern_signer(tx: &rusqlite::Transaction<'_>, json: &str) -> rusqlite::Result<i64> {
    tx.execute("INSERT OR IGNORE INTO signers(json) VALUES (?1)", [json])?;
    tx.query_row("SELECT id FROM signers WHERE json = ?1", [json], |r| {
        r.get(0)
    })
}

/// An input a training-provenance predicate lists by its signature.
struct InputRef {
    digest: String,
    name: String,
    root_digest: Option<String>,
    kind: Kind,
    relation: String,
}

/// The inputs of a SLSA provenance predicate named by statement digest:
/// resolved dependencies with a `sha256` digest whose `annotations.subject`
/// says it is a signature's statement (as `predicate training` writes).
fn inputs_of(predicate: &Value) -> Vec<InputRef> {
    let Some(deps) = predicate
        .pointer("/buildDefinition/resolvedDependencies")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for d in deps {
        let Some(digest) = d.pointer("/digest/sha256").and_then(Value::as_str) else {
            continue;
        };
        if !is_digest(digest)
            || d.pointer("/annotations/subject").and_then(Value::as_str) != Some(STATEMENT_SUBJECT)
        {
            continue;
        }
        let relation = d
            .pointer("/annotations/kind")
            .and_then(Value::as_str)
            .unwrap_or("input");
        let relation = match relation {
            "dataset" | "base-model" => relation.to_owned(),
            _ => "input".to_owned(),
        };
        out.push(InputRef {
            digest: digest.to_owned(),
            name: d
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .chars()
                .take(1024)
                .collect(),
            root_digest: d
                .pointer("/annotations/rootDigest")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("sha256:"))
                .filter(|r| is_digest(r))
                .map(str::to_owned),
            kind: if relation == "dataset" {
                Kind::Dataset
            } else {
                Kind::Model
            },
            relation,
        });
    }
    out
}

/// Low-level insertion for benchmarks and tests of queries: records that
/// no verification produced. Not for use outside this crate's benches.
#[doc(hidden)]
pub mod __private {
    use super::*;

    /// Inserts a node signed by `signer`.
    pub fn insert_node(
        index: &mut Index,
        digest: &str,
        name: &str,
        kind: Kind,
        signer: &Signer,
    ) -> Result<(), LineageError> {
        let path = index.path.clone();
        let sqlite = |source| LineageError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = index.conn.transaction().map_err(sqlite)?;
        let id = upsert_artifact(&tx, digest, name, None, kind, true).map_err(sqlite)?;
        let signer = intern_signer(&tx, &signer.to_json().to_string()).map_err(sqlite)?;
        tx.execute(
            "INSERT OR IGNORE INTO signatures(artifact, signer) VALUES (?1, ?2)",
            params![id, signer],
        )
        .map_err(sqlite)?;
        tx.commit().map_err(sqlite)
    }

    /// Inserts many edges in one transaction: (parent, child, relation, claim signer).
    pub fn insert_edges(
        index: &mut Index,
        edges: &[(String, String, &str, Signer)],
    ) -> Result<(), LineageError> {
        let path = index.path.clone();
        let sqlite = |source| LineageError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = index.conn.transaction().map_err(sqlite)?;
        let id = |digest: &str| {
            tx.query_row(
                "SELECT id FROM artifacts WHERE digest = ?1",
                [digest],
                |r| r.get::<_, i64>(0),
            )
        };
        for (i, (parent, child, relation, signer)) in edges.iter().enumerate() {
            let signer = intern_signer(&tx, &signer.to_json().to_string()).map_err(sqlite)?;
            tx.execute(
                "INSERT OR IGNORE INTO edges(parent, child, relation, signer, claim) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id(parent).map_err(sqlite)?, id(child).map_err(sqlite)?, relation, signer, format!("{i:064x}")],
            )
            .map_err(sqlite)?;
        }
        tx.commit().map_err(sqlite)
    }
}

/// A string as a Graphviz double-quoted ID: quotes and backslashes
/// escaped, control characters (a newline included) written as `\uXXXX`
/// text, so nothing a name holds can end the string or the graph.
fn dot_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
                out.push_str(&format!("\\\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Graph {
    /// The graph in Graphviz DOT: one node per signature (labelled with
    /// its kind, name and statement digest), an edge from each input to
    /// what was made from it, labelled with the relation. The start nodes
    /// are drawn bold.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph lineage {\n  rankdir=LR;\n  node [shape=box];\n");
        for n in &self.nodes {
            let label = format!(
                "{} {}\\nsha256:{}",
                n.kind.as_str(),
                dot_string(&n.name).trim_matches('"'),
                n.digest.get(..16).unwrap_or(&n.digest)
            );
            out.push_str(&format!(
                "  \"{}\" [label=\"{label}\"{}{}];\n",
                n.digest,
                if n.kind == Kind::Dataset {
                    ", shape=cylinder"
                } else {
                    ""
                },
                if n.depth == 0 { ", style=bold" } else { "" }
            ));
        }
        for e in &self.edges {
            out.push_str(&format!(
                "  \"{}\" -> \"{}\" [label={}];\n",
                e.parent,
                e.child,
                dot_string(&e.relation)
            ));
        }
        out.push_str("}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_strings_cannot_break_out() {
        assert_eq!(dot_string("a\"b"), "\"a\\\"b\"");
        assert_eq!(dot_string("a\\"), "\"a\\\\\"");
        assert_eq!(dot_string("a\nb"), "\"a\\\\u000ab\"");
        assert!(!dot_string("x\"];\n evil -> x [label=\"").contains('\n'));
    }

    #[test]
    fn inputs_are_read_only_when_named_by_statement_digest() {
        let d = "ab".repeat(32);
        let p = serde_json::json!({"buildDefinition": {"resolvedDependencies": [
            {"name": "data", "digest": {"sha256": d}, "annotations": {"kind": "dataset", "subject": STATEMENT_SUBJECT, "rootDigest": format!("sha256:{}", "cd".repeat(32))}},
            {"name": "root only", "digest": {"sha256": d}, "annotations": {"kind": "dataset"}},
            {"name": "short", "digest": {"sha256": "abc"}, "annotations": {"subject": STATEMENT_SUBJECT}},
            {"name": "upper", "digest": {"sha256": d.to_uppercase()}, "annotations": {"subject": STATEMENT_SUBJECT}},
            {"name": "odd kind", "digest": {"sha256": d}, "annotations": {"kind": "x", "subject": STATEMENT_SUBJECT}},
            "not an object",
        ]}});
        let inputs = inputs_of(&p);
        assert_eq!(inputs.len(), 2);
        assert_eq!(inputs[0].kind, Kind::Dataset);
        assert_eq!(
            inputs[0].root_digest.as_deref(),
            Some("cd".repeat(32).as_str())
        );
        assert_eq!(inputs[1].relation, "input");
        assert!(
            inputs_of(&serde_json::json!({"buildDefinition": {"resolvedDependencies": 3}}))
                .is_empty()
        );
    }
}
