//! Lineage queries on a generated graph of 10,000 models and datasets.
//!
//! Method: a fresh SQLite index in a temporary directory holds 2,000
//! datasets and 8,000 models; model `i` derives from one to three datasets
//! and, for three in four models, from one to two earlier models, picked by
//! a fixed pseudo-random sequence (the same graph every run), each link
//! signed by one of two claim signers. Dataset 0 is an input of one model
//! in ten, so an impact query from it reaches most of the graph: the worst
//! case of incident response. Each query opens nothing new: the index is
//! opened once, as a long-running service would, and `walk` prepares its
//! statements from SQLite's cache. `cargo bench -p model-signing-policy
//! --bench lineage`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use model_signing::keys::KeyAlgorithm;
use model_signing::verify::Signer;
use model_signing_policy::lineage::__private::{insert_edges, insert_node};
use model_signing_policy::lineage::{Direction, Index, Kind};
use model_signing_policy::Policy;

const DATASETS: usize = 2_000;
const MODELS: usize = 8_000;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }
}

fn digest(kind: &str, i: usize) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(format!("{kind}{i}")))
}

fn key_signer(hint: String) -> Signer {
    Signer::Key {
        hint,
        algorithm: "PKIX_ECDSA_P256_SHA_256",
    }
}

fn build(dir: &std::path::Path) -> (Index, Policy) {
    let trusted = testkit::key(KeyAlgorithm::EcdsaP256Sha256);
    let other = testkit::key(KeyAlgorithm::EcdsaP256Sha256);
    let pem = testkit::public(&trusted).to_pem();
    std::fs::write(dir.join("trainer.pub"), &pem).expect("key");
    let trusted_hint = testkit::public(&trusted).hint();
    let other_hint = testkit::public(&other).hint();
    std::fs::write(
        dir.join("policy.yaml"),
        "version: 1\nsigners:\n  trainer: {key: trainer.pub}\nmodel:\n  signers: [trainer]\n",
    )
    .expect("policy");
    let policy = Policy::load(&dir.join("policy.yaml")).expect("policy");
    let mut index = Index::open(&dir.join("lineage.db"), true).expect("index");
    let release = key_signer(trusted_hint.clone());
    for i in 0..DATASETS {
        insert_node(
            &mut index,
            &digest("d", i),
            &format!("dataset-{i}"),
            Kind::Dataset,
            &release,
        )
        .expect("node");
    }
    for i in 0..MODELS {
        insert_node(
            &mut index,
            &digest("m", i),
            &format!("model-{i}"),
            Kind::Model,
            &release,
        )
        .expect("node");
    }
    let mut rng = Lcg(42);
    let mut edges = Vec::new();
    for i in 0..MODELS {
        let signer = if rng.next(4) == 0 {
            key_signer(other_hint.clone())
        } else {
            key_signer(trusted_hint.clone())
        };
        if rng.next(10) == 0 {
            edges.push((digest("d", 0), digest("m", i), "dataset", signer.clone()));
        }
        for _ in 0..=rng.next(3) {
            let d = rng.next(DATASETS);
            edges.push((digest("d", d), digest("m", i), "dataset", signer.clone()));
        }
        if i > 0 && rng.next(4) != 0 {
            for _ in 0..=rng.next(2) {
                let base = rng.next(i);
                edges.push((
                    digest("m", base),
                    digest("m", i),
                    "base-model",
                    signer.clone(),
                ));
            }
        }
    }
    insert_edges(&mut index, &edges).expect("edges");
    (index, policy)
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (index, policy) = build(tmp.path());
    let counts = index.counts().expect("counts");
    let poisoned = vec![digest("d", 0)];
    let reach = index
        .walk(&poisoned, Direction::Derived, None)
        .expect("walk")
        .nodes
        .len();
    let reach_trusted = index
        .walk(&poisoned, Direction::Derived, Some(&policy))
        .expect("walk")
        .nodes
        .len();
    let last = vec![digest("m", MODELS - 1)];
    let inputs = index
        .walk(&last, Direction::Inputs, None)
        .expect("walk")
        .nodes
        .len();
    eprintln!(
        "graph: {} nodes, {} edges; impact of dataset-0 reaches {reach} nodes ({reach_trusted} through trusted claims); inputs of model-{} reach {inputs}",
        counts[0],
        counts[3],
        MODELS - 1
    );
    let mut g = c.benchmark_group("lineage-10k");
    g.sample_size(20);
    g.bench_function("impact of a poisoned dataset", |b| {
        b.iter(|| {
            black_box(
                index
                    .walk(&poisoned, Direction::Derived, None)
                    .expect("walk"),
            )
        })
    });
    g.bench_function("impact, trusted claims only", |b| {
        b.iter(|| {
            black_box(
                index
                    .walk(&poisoned, Direction::Derived, Some(&policy))
                    .expect("walk"),
            )
        })
    });
    g.bench_function("inputs of a model", |b| {
        b.iter(|| black_box(index.walk(&last, Direction::Inputs, None).expect("walk")))
    });
    g.bench_function("resolve by name and impact", |b| {
        b.iter(|| {
            let start = index.resolve("dataset-0").expect("resolve");
            black_box(index.walk(&start, Direction::Derived, None).expect("walk"))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
