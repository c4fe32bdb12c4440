//! Path building and validation.

use std::collections::{HashMap, HashSet};

use super::signature::verify_signed_by;
use super::{CertError, Certificate, ChainPolicy, LeafCaRule, ObjectIdentifier, EKU_ANY};

/// The most signature checks one [`verify_chain`] call performs before giving
/// up (each issuer/subject pair is checked at most once).
pub const MAX_SIGNATURE_CHECKS: usize = 64;

/// The most path-building steps (an intermediate tried at some position) one
/// [`verify_chain`] call takes before giving up.
pub const MAX_PATH_STEPS: usize = 1024;

/// Builds and validates a path from `leaf` through some of `intermediates`
/// (untrusted, in any order, extra ones ignored) to one of `anchors` (the only
/// trusted certificates), at `policy.time`. Returns the path, leaf first and
/// anchor last. See the [module documentation](super) for the rules.
pub fn verify_chain(
    leaf: &Certificate,
    intermediates: &[Certificate],
    anchors: &[Certificate],
    policy: &ChainPolicy,
) -> Result<Vec<Certificate>, CertError> {
    if policy.max_depth == 0 {
        return Err(CertError::InvalidPolicy {
            detail: "max_depth must be at least 1".into(),
        });
    }
    check_leaf(leaf, policy)?;

    if anchors.contains(leaf) && leaf.is_self_issued() && verify_signed_by(leaf, leaf).is_ok() {
        return Ok(vec![leaf.clone()]);
    }
    if anchors.is_empty() {
        return Err(no_path(leaf, "no trust anchors were given".into()));
    }

    // Everything the search can use, by index: the leaf, the anchors, then
    // the intermediates that are not also anchors (or repeated).
    let mut certs: Vec<&Certificate> = vec![leaf];
    certs.extend(anchors.iter());
    let anchor_count = anchors.len();
    let mut seen: HashSet<&[u8]> = certs.iter().map(|c| c.der()).collect();
    for cert in intermediates {
        if seen.insert(cert.der()) {
            certs.push(cert);
        }
    }
    let mut search = Search {
        certs,
        anchors: 1..=anchor_count,
        policy,
        edges: HashMap::new(),
        signature_checks: 0,
        steps: 0,
        best: None,
    };
    let mut path = vec![0];
    match search.extend(&mut path) {
        Ok(Some(found)) => Ok(found
            .into_iter()
            .filter_map(|i| search.certs.get(i).map(|c| (*c).clone()))
            .collect()),
        Ok(None) => Err(search
            .best
            .map(|(_, e)| e)
            .unwrap_or_else(|| no_path(leaf, "no path found".into()))),
        Err(Exhausted) => Err(no_path(
            leaf,
            format!(
                "gave up after {} signature checks and {} path-building steps",
                search.signature_checks, search.steps
            ),
        )),
    }
}

/// What the certificates a signature carries may lack, found by
/// [`chain_gap`]; signing warns about it, since a verifier then needs more
/// than a root among the certificates it trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainGap {
    /// Only the signing certificate is carried, and it was issued by
    /// another: a verifier must trust `issuer` itself. When `issuer` is an
    /// intermediate CA, a verifier that trusts only the root fails.
    LeafOnly {
        /// The signing certificate's subject.
        subject: String,
        /// Its issuer's name.
        issuer: String,
    },
    /// A certificate given above the signing certificate is not on its
    /// chain: walking up by issuer names from the signing certificate never
    /// reaches it (the chain stops at `top`, issued by `top_issuer`).
    Unlinked {
        /// The certificate that is not on the chain.
        subject: String,
        /// The topmost certificate the walk reached.
        top: String,
        /// The issuer of `top`, which the signature does not carry.
        top_issuer: String,
    },
}

/// Checks the certificates a signature would carry: `leaf` and the `chain`
/// above it. Walks up from `leaf` by issuer name; `None` when every
/// certificate of `chain` is on that walk and the chain is not just a leaf
/// issued by another. A chain that stops below a root is normal (verifiers
/// hold the root), so that alone is no gap. No signature is checked here.
pub fn chain_gap(leaf: &Certificate, chain: &[Certificate]) -> Option<ChainGap> {
    if chain.is_empty() {
        return (!leaf.is_self_issued()).then(|| ChainGap::LeafOnly {
            subject: leaf.subject(),
            issuer: leaf.issuer(),
        });
    }
    let mut used = vec![false; chain.len()];
    let mut current = leaf;
    while !current.is_self_issued() {
        let next = chain
            .iter()
            .enumerate()
            .find(|(i, c)| !used[*i] && c.subject_der() == current.issuer_der());
        match next {
            Some((i, c)) => {
                used[i] = true;
                current = c;
            }
            None => break,
        }
    }
    // A certificate given twice counts as on the chain when its copy is.
    let on_chain = |c: &Certificate| chain.iter().zip(&used).any(|(d, u)| *u && d == c);
    let unused = chain
        .iter()
        .zip(&used)
        .find(|(c, u)| !**u && !on_chain(c))?
        .0;
    Some(ChainGap::Unlinked {
        subject: unused.subject(),
        top: current.subject(),
        top_issuer: current.issuer(),
    })
}

fn no_path(leaf: &Certificate, detail: String) -> CertError {
    CertError::NoPathToTrustAnchor {
        leaf_subject: leaf.subject(),
        detail,
    }
}

fn check_validity(cert: &Certificate, time: i64) -> Result<(), CertError> {
    if time < cert.not_before() {
        return Err(CertError::NotYetValid {
            subject: cert.subject(),
            not_before: cert.not_before(),
        });
    }
    if time > cert.not_after() {
        return Err(CertError::Expired {
            subject: cert.subject(),
            not_after: cert.not_after(),
        });
    }
    Ok(())
}

fn check_critical(cert: &Certificate) -> Result<(), CertError> {
    match cert.unknown_critical_extension() {
        Some(oid) => Err(CertError::UnknownCriticalExtension {
            subject: cert.subject(),
            oid: oid.to_string(),
        }),
        None => Ok(()),
    }
}

/// Checks that `leaf` may sign under `policy` (validity at `policy.time`,
/// critical extensions, keyUsage, extendedKeyUsage, the CA-leaf rule) without
/// building a path: what a signer checks before using its certificate.
pub fn check_signing_certificate(
    leaf: &Certificate,
    policy: &ChainPolicy,
) -> Result<(), CertError> {
    check_leaf(leaf, policy)
}

fn check_leaf(leaf: &Certificate, policy: &ChainPolicy) -> Result<(), CertError> {
    check_validity(leaf, policy.time)?;
    check_critical(leaf)?;
    let subject = || leaf.subject();
    let key_usage = leaf.key_usage();

    if leaf.is_ca() {
        match policy.allow_ca_leaf {
            LeafCaRule::Reject => {
                return Err(CertError::CaLeaf {
                    subject: subject(),
                    detail: "basicConstraints CA:TRUE is not accepted for a signing certificate"
                        .into(),
                })
            }
            LeafCaRule::AllowWithoutCertSign => match key_usage {
                None => {
                    return Err(CertError::CaLeaf {
                        subject: subject(),
                        detail: "CA:TRUE without a keyUsage extension could sign certificates"
                            .into(),
                    })
                }
                Some(ku) if ku.key_cert_sign() || ku.crl_sign() => {
                    return Err(CertError::CaLeaf {
                        subject: subject(),
                        detail: "CA:TRUE with keyCertSign or cRLSign in keyUsage".into(),
                    })
                }
                Some(_) => {}
            },
        }
    }

    if let Some(ku) = key_usage {
        if !ku.digital_signature() {
            return Err(CertError::KeyUsage {
                subject: subject(),
                detail: "digitalSignature is not allowed".into(),
            });
        }
    }

    match leaf.extended_key_usage() {
        None if policy.eku_required_present => {
            return Err(CertError::ExtendedKeyUsage {
                subject: subject(),
                detail: match policy.required_eku {
                    Some(oid) => format!("the extension is missing ({} required)", eku_name(oid)),
                    None => "the extension is missing".into(),
                },
            });
        }
        None if key_usage.is_none() => {
            return Err(CertError::KeyUsage {
                subject: subject(),
                detail: "neither keyUsage nor extendedKeyUsage says the key may sign".into(),
            });
        }
        None => {}
        Some(purposes) => {
            if let Some(required) = policy.required_eku {
                if !purposes.contains(&required) {
                    let any = if purposes.contains(&EKU_ANY) {
                        " (anyExtendedKeyUsage does not count)"
                    } else {
                        ""
                    };
                    return Err(CertError::ExtendedKeyUsage {
                        subject: subject(),
                        detail: format!("{} is not listed{any}", eku_name(required)),
                    });
                }
            }
        }
    }
    Ok(())
}

/// The search ran out of budget.
struct Exhausted;

struct Search<'a> {
    certs: Vec<&'a Certificate>,
    anchors: std::ops::RangeInclusive<usize>,
    policy: &'a ChainPolicy,
    /// Signature checks done: (subject index, issuer index) -> outcome.
    edges: HashMap<(usize, usize), Result<(), CertError>>,
    signature_checks: usize,
    steps: usize,
    /// The error from the deepest position reached, with that position.
    best: Option<(usize, CertError)>,
}

impl<'a> Search<'a> {
    fn cert(&self, i: usize) -> Option<&'a Certificate> {
        self.certs.get(i).copied()
    }

    fn record(&mut self, depth: usize, error: CertError) {
        if self.best.as_ref().is_none_or(|(d, _)| depth > *d) {
            self.best = Some((depth, error));
        }
    }

    /// Candidate issuers of `child` in `range` by name and key identifier,
    /// those whose subject key identifier matches first.
    fn candidates(&self, child: &Certificate, range: impl Iterator<Item = usize>) -> Vec<usize> {
        let mut matched: Vec<(bool, usize)> = range
            .filter_map(|i| {
                let cand = self.cert(i)?;
                if cand.subject_der() != child.issuer_der() {
                    return None;
                }
                match (child.authority_key_id(), cand.subject_key_id()) {
                    (Some(aki), Some(ski)) if aki != ski => None,
                    (Some(_), Some(_)) => Some((false, i)),
                    _ => Some((true, i)),
                }
            })
            .collect();
        matched.sort_by_key(|(unsure, _)| *unsure);
        matched.into_iter().map(|(_, i)| i).collect()
    }

    /// Whether a certificate with the same subject and key is on the path.
    fn on_path(&self, path: &[usize], cand: &Certificate) -> bool {
        path.iter()
            .filter_map(|&p| self.cert(p))
            .any(|c| c.subject_der() == cand.subject_der() && c.spki_der() == cand.spki_der())
    }

    fn edge(&mut self, child: usize, issuer: usize) -> Result<Result<(), CertError>, Exhausted> {
        if let Some(outcome) = self.edges.get(&(child, issuer)) {
            return Ok(outcome.clone());
        }
        if self.signature_checks >= MAX_SIGNATURE_CHECKS {
            return Err(Exhausted);
        }
        self.signature_checks += 1;
        let outcome = match (self.cert(child), self.cert(issuer)) {
            (Some(c), Some(i)) => verify_signed_by(c, i),
            _ => Err(CertError::Malformed {
                detail: "internal index out of range".into(),
            }),
        };
        self.edges.insert((child, issuer), outcome.clone());
        Ok(outcome)
    }

    /// Checks `issuer` for the position after `path` (which ends with the
    /// certificate it issued).
    fn check_issuer(&self, issuer: &Certificate, path: &[usize]) -> Result<(), CertError> {
        check_validity(issuer, self.policy.time)?;
        if issuer.has_name_constraints() {
            return Err(CertError::UnsupportedNameConstraints {
                subject: issuer.subject(),
            });
        }
        check_critical(issuer)?;
        if !issuer.is_ca() {
            return Err(CertError::NotACa {
                subject: issuer.subject(),
            });
        }
        if let Some(ku) = issuer.key_usage() {
            if !ku.key_cert_sign() {
                return Err(CertError::KeyUsage {
                    subject: issuer.subject(),
                    detail: "keyCertSign is not allowed, yet it issued a certificate".into(),
                });
            }
        }
        if let Some(max) = issuer.path_len_constraint() {
            let below = path
                .iter()
                .skip(1)
                .filter_map(|&p| self.cert(p))
                .filter(|c| !c.is_self_issued())
                .count();
            if below > usize::from(max) {
                return Err(CertError::PathLenExceeded {
                    subject: issuer.subject(),
                });
            }
        }
        Ok(())
    }

    /// Tries an issuer for the last certificate of `path`: signature, then
    /// the issuer's own checks. Records why it does not fit.
    fn try_issuer(&mut self, path: &[usize], cand: usize) -> Result<bool, Exhausted> {
        let Some(child) = path.last().copied() else {
            return Ok(false);
        };
        let Some(cert) = self.cert(cand) else {
            return Ok(false);
        };
        if self.on_path(path, cert) {
            return Ok(false);
        }
        let depth = path.len();
        if let Err(e) = self.edge(child, cand)? {
            self.record(depth, e);
            return Ok(false);
        }
        if let Err(e) = self.check_issuer(cert, path) {
            self.record(depth, e);
            return Ok(false);
        }
        Ok(true)
    }

    /// Extends `path` (leaf first) to an anchor, depth first.
    fn extend(&mut self, path: &mut Vec<usize>) -> Result<Option<Vec<usize>>, Exhausted> {
        let Some(child) = path.last().and_then(|&i| self.cert(i)) else {
            return Ok(None);
        };
        let depth = path.len();
        let anchors = self.candidates(child, self.anchors.clone());
        let intermediates = self.candidates(child, (*self.anchors.end() + 1)..self.certs.len());

        let anchor_room = depth < self.policy.max_depth;
        if anchor_room {
            for cand in anchors.iter().copied() {
                if self.try_issuer(path, cand)? {
                    path.push(cand);
                    return Ok(Some(path.clone()));
                }
            }
        }
        let room = depth + 2 <= self.policy.max_depth;
        if room {
            for cand in intermediates.iter().copied() {
                self.steps += 1;
                if self.steps > MAX_PATH_STEPS {
                    return Err(Exhausted);
                }
                if self.try_issuer(path, cand)? {
                    path.push(cand);
                    if let Some(found) = self.extend(path)? {
                        return Ok(Some(found));
                    }
                    path.pop();
                }
            }
        }

        let leaf_subject = self.cert(0).map(Certificate::subject).unwrap_or_default();
        let named_alike = (0..self.certs.len())
            .filter_map(|i| self.cert(i))
            .any(|c| !std::ptr::eq(c, child) && c.subject_der() == child.issuer_der());
        let detail = if anchors.is_empty() && intermediates.is_empty() && named_alike {
            // Left out by `candidates` for their key identifier.
            format!(
                "certificates named {} were given, but none has the key identifier that {} names for its issuer (authorityKeyIdentifier)",
                child.issuer(),
                child.subject()
            )
        } else if anchors.is_empty() && intermediates.is_empty() {
            format!(
                "no trust anchor or intermediate is named {}, the issuer of {}",
                child.issuer(),
                child.subject()
            )
        } else if (!anchor_room && !anchors.is_empty()) || (!room && !intermediates.is_empty()) {
            format!(
                "the path through {} would be longer than {} certificates",
                child.subject(),
                self.policy.max_depth
            )
        } else {
            format!(
                "the path ends at {}: none of the certificates named {} issued it and can be trusted",
                child.subject(),
                child.issuer()
            )
        };
        self.record(
            depth - 1,
            CertError::NoPathToTrustAnchor {
                leaf_subject,
                detail,
            },
        );
        Ok(None)
    }
}

/// An extended key usage by its name, with the OID: `codeSigning
/// (1.3.6.1.5.5.7.3.3)`; unknown purposes by their OID alone.
pub(crate) fn eku_name(oid: ObjectIdentifier) -> String {
    let name = match oid.to_string().as_str() {
        "1.3.6.1.5.5.7.3.1" => "serverAuth",
        "1.3.6.1.5.5.7.3.2" => "clientAuth",
        "1.3.6.1.5.5.7.3.3" => "codeSigning",
        "1.3.6.1.5.5.7.3.4" => "emailProtection",
        "1.3.6.1.5.5.7.3.8" => "timeStamping",
        "1.3.6.1.5.5.7.3.9" => "OCSPSigning",
        "2.5.29.37.0" => "anyExtendedKeyUsage",
        _ => return oid.to_string(),
    };
    format!("{name} ({oid})")
}

#[cfg(test)]
mod eku_tests {
    use super::*;

    #[test]
    fn extended_key_usages_are_named() {
        assert_eq!(
            eku_name(crate::x509::EKU_CODE_SIGNING),
            "codeSigning (1.3.6.1.5.5.7.3.3)"
        );
        assert_eq!(eku_name(EKU_ANY), "anyExtendedKeyUsage (2.5.29.37.0)");
        let unknown = ObjectIdentifier::new_unwrap("1.2.3.4");
        assert_eq!(eku_name(unknown), "1.2.3.4");
    }
}
