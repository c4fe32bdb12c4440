//! RFC 3161 timestamps over a signature: reading them from a bundle,
//! verifying them against trusted timestamp authorities, and asking an
//! authority for one when signing.
//!
//! A key or certificate signature may carry timestamps in
//! `verificationMaterial.timestampVerificationData.rfc3161Timestamps`, each a
//! DER `TimeStampResp` (a bare `TimeStampToken` is read too) whose message
//! imprint is a hash of the DSSE signature bytes, as Sigstore bundles and the
//! Go implementation of OMS store them. A timestamp proves the signature
//! existed at its time, so a certificate can be checked at that time instead
//! of now: a signature timestamped while its certificate was valid still
//! verifies after the certificate expired.
//!
//! A timestamp counts only when it verifies against a
//! [`TimestampAuthority`] the verifier trusts. [`check_timestamps`] then
//! requires every timestamp of the bundle to verify:
//!
//! - the response status is granted (or granted with modifications) and it
//!   holds a token whose content is a `TSTInfo` (version 1);
//! - the message imprint (SHA-256, SHA-384 or SHA-512) is that of the
//!   signature bytes;
//! - the token has exactly one signer, with signed attributes whose
//!   content type is `id-ct-TSTInfo` and whose message digest is that of the
//!   `TSTInfo`; the signature over them verifies with the signer
//!   certificate's key (RSA PKCS#1 v1.5 or PSS, ECDSA P-256/P-384/P-521,
//!   Ed25519, with SHA-256/384/512; SHA-1 is refused);
//! - the signer certificate is the authority's own signing certificate when
//!   the authority names one (a chain file with a leaf), otherwise one the
//!   token embeds; it must chain to the authority's root, through its
//!   intermediates or the token's, with every certificate valid at the
//!   timestamp's time, and list the timeStamping extended key usage
//!   ([`ChainPolicy::timestamping`]).
//!
//! Without a trusted authority, timestamps are not used at all: the outcome
//! counts them so that the verifier can say so.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use cms::content_info::ContentInfo;
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
use const_oid::ObjectIdentifier;
use der::asn1::{Any, Int, OctetString};
use der::{Decode, Encode, Reader, Sequence, SliceReader, Tag, TagNumber, Tagged};
use serde_json::Value;
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;

use crate::bundle::Bundle;
use crate::limits::{MAX_CHAIN_CERTIFICATES, MAX_TIMESTAMPS};
use crate::x509::{format_time, verify_chain, Certificate, ChainPolicy, Hash};

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// Why a timestamp, or a timestamp authority, cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// A timestamp is not a well-formed RFC 3161 response or token.
    #[error("{which} is malformed: {detail}")]
    Malformed {
        /// Which timestamp (`timestamp 1 of 2`) or `the timestamp response`.
        which: String,
        /// What is wrong.
        detail: String,
    },
    /// The authority did not grant the timestamp.
    #[error("{which} was not granted: status {status}{text}")]
    NotGranted {
        /// Which timestamp.
        which: String,
        /// The PKIStatus (2 rejection, 3 waiting, 4 revocation warning,
        /// 5 revocation notification).
        status: u8,
        /// The status text the authority gave, if any (`: ...`).
        text: String,
    },
    /// The timestamp is over other bytes than the signature.
    #[error("{which} is over other bytes than the signature (its message imprint differs)")]
    OtherBytes {
        /// Which timestamp.
        which: String,
    },
    /// The timestamp does not verify against any trusted authority.
    #[error("{which} ({time}) does not verify: {detail}")]
    Untrusted {
        /// Which timestamp.
        which: String,
        /// Its time, RFC 3339.
        time: String,
        /// Why, for each authority tried.
        detail: String,
    },
    /// A timestamp authority's certificates cannot be used.
    #[error("the timestamp authority's certificates cannot be used: {detail}")]
    Authority {
        /// What is wrong.
        detail: String,
    },
}

impl TimestampError {
    /// What kind of failure this is: a malformed timestamp is
    /// [`ErrorKind::Malformed`](crate::ErrorKind::Malformed), unusable
    /// authority certificates [`ErrorKind::Usage`](crate::ErrorKind::Usage),
    /// anything else (not granted, other bytes, untrusted)
    /// [`ErrorKind::Rejected`](crate::ErrorKind::Rejected).
    pub fn kind(&self) -> crate::ErrorKind {
        use crate::ErrorKind;
        match self {
            TimestampError::Malformed { .. } => ErrorKind::Malformed,
            TimestampError::Authority { .. } => ErrorKind::Usage,
            _ => ErrorKind::Rejected,
        }
    }
}

/// `PKIStatusInfo` (RFC 3161 2.4.2; the failure bits are not read).
#[derive(Sequence)]
struct PkiStatusInfo {
    status: u8,
    #[asn1(optional = "true")]
    status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    fail_info: Option<der::asn1::BitString>,
}

/// `TimeStampResp` (RFC 3161 2.4.2).
#[derive(Sequence)]
struct TimeStampResp {
    status: PkiStatusInfo,
    #[asn1(optional = "true")]
    time_stamp_token: Option<ContentInfo>,
}

/// `MessageImprint` (RFC 3161 2.4.1).
#[derive(Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

/// `Accuracy` (RFC 3161 2.4.2), read for the structure only.
#[derive(Sequence)]
struct Accuracy {
    #[asn1(optional = "true")]
    seconds: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    millis: Option<Int>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    micros: Option<Int>,
}

/// `TSTInfo` (RFC 3161 2.4.2). `genTime` is read by hand: RFC 3161 allows
/// fractions of a second, which the DER `GeneralizedTime` type refuses.
#[derive(Sequence)]
struct TstInfo {
    version: u8,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: Any,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(optional = "true")]
    ordering: Option<bool>,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<Any>,
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    extensions: Option<Vec<x509_cert::ext::Extension>>,
}

/// Reads a `GeneralizedTime` of the form `YYYYMMDDHHMMSS[.f+]Z` as Unix
/// seconds (fractions dropped).
fn generalized_time(any: &Any) -> Result<i64, String> {
    if any.tag() != Tag::GeneralizedTime {
        return Err(format!("genTime is a {}, not a GeneralizedTime", any.tag()));
    }
    let text = std::str::from_utf8(any.value()).map_err(|_| "genTime is not text".to_string())?;
    let bad = || {
        format!(
            "genTime {:?} is not YYYYMMDDHHMMSS[.fff]Z",
            crate::json::shorten(text, 40)
        )
    };
    let body = text.strip_suffix('Z').ok_or_else(bad)?;
    let (whole, fraction) = match body.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (body, None),
    };
    if let Some(f) = fraction {
        // DER: no trailing zeros, at least one digit.
        if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) || f.ends_with('0')
        {
            return Err(bad());
        }
    }
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| whole.get(r).and_then(|s| s.parse::<u16>().ok());
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        num(0..4),
        num(4..6),
        num(6..8),
        num(8..10),
        num(10..12),
        num(12..14),
    ) else {
        return Err(bad());
    };
    let to_u8 = |v: u16| u8::try_from(v).map_err(|_| bad());
    let time = der::DateTime::new(
        year,
        to_u8(month)?,
        to_u8(day)?,
        to_u8(hour)?,
        to_u8(minute)?,
        to_u8(second)?,
    )
    .map_err(|_| bad())?;
    i64::try_from(time.unix_duration().as_secs()).map_err(|_| bad())
}

/// One RFC 3161 timestamp, parsed but not verified.
#[derive(Clone, Debug)]
pub struct Timestamp {
    time: i64,
    imprint_hash: Hash,
    imprint: Vec<u8>,
    serial: String,
    nonce: Option<Vec<u8>>,
    signed: SignedParts,
    tst_info: Vec<u8>,
}

/// What a timestamp needs of a CMS `SignedData` (RFC 5652 5.1), read field
/// by field: encoders differ where strict DER `SET OF` decoding would refuse
/// them (OpenSSL repeats the signer's certificate in the certificate set
/// when it is both configured and asked for).
#[derive(Clone, Debug)]
struct SignedParts {
    econtent_type: ObjectIdentifier,
    econtent: Option<Any>,
    /// DER of each plain certificate of the certificate set, at most
    /// [`MAX_CHAIN_CERTIFICATES`].
    certificates: Vec<Vec<u8>>,
    signers: Vec<SignerParts>,
}

/// One `SignerInfo` (RFC 5652 5.3).
#[derive(Clone, Debug)]
struct SignerParts {
    sid: SignerIdentifier,
    digest_alg: AlgorithmIdentifierOwned,
    /// The signed attributes as the signature covers them (the `[0]`
    /// encoding sent, tagged as a `SET OF`), and parsed.
    signed_attrs: Option<(Vec<u8>, Vec<Attribute>)>,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: Vec<u8>,
}

/// The TLVs of a constructed value, in order.
fn elements(value: &[u8]) -> der::Result<Vec<Any>> {
    let mut reader = SliceReader::new(value)?;
    let mut items = Vec::new();
    while !reader.is_finished() {
        items.push(Any::decode(&mut reader)?);
    }
    Ok(items)
}

fn context(number: u8) -> Tag {
    Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::new(number),
    }
}

fn expect_tag(item: Option<Any>, tag: Tag, what: &str) -> Result<Any, String> {
    match item {
        Some(any) if any.tag() == tag => Ok(any),
        Some(any) => Err(format!("{what}: expected {tag}, found {}", any.tag())),
        None => Err(format!("{what} is missing")),
    }
}

fn decode_as<T: for<'a> Decode<'a>>(any: &Any, what: &str) -> Result<T, String> {
    let der = any.to_der().map_err(|e| format!("{what}: {e}"))?;
    T::from_der(&der).map_err(|e| format!("{what}: {e}"))
}

impl SignedParts {
    fn parse(signed_data: &Any) -> Result<Self, String> {
        if signed_data.tag() != Tag::Sequence {
            return Err("the signed data is not a SEQUENCE".into());
        }
        let mut fields = elements(signed_data.value())
            .map_err(|e| e.to_string())?
            .into_iter()
            .peekable();
        expect_tag(fields.next(), Tag::Integer, "the version")?;
        expect_tag(fields.next(), Tag::Set, "the digest algorithms")?;
        let encap: EncapsulatedContentInfo = decode_as(
            &expect_tag(fields.next(), Tag::Sequence, "the content")?,
            "the content",
        )?;
        let mut certificates = Vec::new();
        if let Some(set) = fields.next_if(|f| f.tag() == context(0)) {
            for choice in elements(set.value()).map_err(|e| format!("certificates: {e}"))? {
                // Other choices (attribute certificates, ...) are not used.
                if choice.tag() != Tag::Sequence {
                    continue;
                }
                if certificates.len() == MAX_CHAIN_CERTIFICATES {
                    return Err(format!(
                        "the token embeds more than {MAX_CHAIN_CERTIFICATES} certificates"
                    ));
                }
                certificates.push(choice.to_der().map_err(|e| e.to_string())?);
            }
        }
        // Revocation information is not used.
        fields.next_if(|f| f.tag() == context(1));
        let infos = expect_tag(fields.next(), Tag::Set, "the signer infos")?;
        if fields.next().is_some() {
            return Err("the signed data has fields after its signer infos".into());
        }
        let signers = elements(infos.value())
            .map_err(|e| format!("signer infos: {e}"))?
            .iter()
            .map(SignerParts::parse)
            .collect::<Result<_, _>>()?;
        Ok(SignedParts {
            econtent_type: encap.econtent_type,
            econtent: encap.econtent,
            certificates,
            signers,
        })
    }
}

impl SignerParts {
    fn parse(info: &Any) -> Result<Self, String> {
        let bad = |detail: String| format!("signer info: {detail}");
        if info.tag() != Tag::Sequence {
            return Err(bad("not a SEQUENCE".into()));
        }
        let mut fields = elements(info.value())
            .map_err(|e| bad(e.to_string()))?
            .into_iter()
            .peekable();
        expect_tag(fields.next(), Tag::Integer, "its version").map_err(bad)?;
        let sid: SignerIdentifier = decode_as(
            &fields.next().ok_or_else(|| bad("no signer".into()))?,
            "the signer",
        )
        .map_err(bad)?;
        let digest_alg = decode_as(
            &expect_tag(fields.next(), Tag::Sequence, "the digest algorithm").map_err(bad)?,
            "the digest algorithm",
        )
        .map_err(bad)?;
        let signed_attrs = match fields.next_if(|f| f.tag() == context(0)) {
            Some(attrs) => {
                let parsed = elements(attrs.value())
                    .map_err(|e| bad(format!("signed attributes: {e}")))?
                    .iter()
                    .map(|a| decode_as::<Attribute>(a, "a signed attribute"))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(bad)?;
                let set = Any::new(Tag::Set, attrs.value())
                    .and_then(|a| a.to_der())
                    .map_err(|e| bad(e.to_string()))?;
                Some((set, parsed))
            }
            None => None,
        };
        let signature_algorithm = decode_as(
            &expect_tag(fields.next(), Tag::Sequence, "the signature algorithm").map_err(bad)?,
            "the signature algorithm",
        )
        .map_err(bad)?;
        let signature = expect_tag(fields.next(), Tag::OctetString, "the signature")
            .map_err(bad)?
            .value()
            .to_vec();
        // Unsigned attributes are not used.
        fields.next_if(|f| f.tag() == context(1));
        if fields.next().is_some() {
            return Err(bad("fields after its unsigned attributes".into()));
        }
        Ok(SignerParts {
            sid,
            digest_alg,
            signed_attrs,
            signature_algorithm,
            signature,
        })
    }
}

impl Timestamp {
    /// Parses a DER `TimeStampResp` or `TimeStampToken`. `which` names it
    /// in errors. A response whose status is not granted is refused.
    pub fn from_der(der: &[u8], which: &str) -> Result<Self, TimestampError> {
        let malformed = |detail: String| TimestampError::Malformed {
            which: which.to_owned(),
            detail,
        };
        let content = match TimeStampResp::from_der(der) {
            Ok(resp) => {
                // 0 granted, 1 granted with modifications.
                if resp.status.status > 1 {
                    let text = resp
                        .status
                        .status_string
                        .map(|s| format!(": {}", crate::json::shorten(&s.join("; "), 200)))
                        .unwrap_or_default();
                    return Err(TimestampError::NotGranted {
                        which: which.to_owned(),
                        status: resp.status.status,
                        text,
                    });
                }
                resp.time_stamp_token
                    .ok_or_else(|| malformed("a granted response without a token".into()))?
            }
            Err(_) => ContentInfo::from_der(der).map_err(|e| {
                malformed(format!(
                    "neither a TimeStampResp nor a TimeStampToken ({e})"
                ))
            })?,
        };
        if content.content_type != ID_SIGNED_DATA {
            return Err(malformed(format!(
                "the token's content is {}, not signed data",
                content.content_type
            )));
        }
        let signed = SignedParts::parse(&content.content)
            .map_err(|e| malformed(format!("signed data: {e}")))?;
        if signed.econtent_type != ID_CT_TST_INFO {
            return Err(malformed(format!(
                "the signed content is {}, not a TSTInfo",
                signed.econtent_type
            )));
        }
        let tst_info = signed
            .econtent
            .as_ref()
            .ok_or_else(|| malformed("the token holds no TSTInfo".into()))?
            .decode_as::<OctetString>()
            .map_err(|e| malformed(format!("TSTInfo: {e}")))?
            .into_bytes();
        let info = TstInfo::from_der(&tst_info).map_err(|e| malformed(format!("TSTInfo: {e}")))?;
        if info.version != 1 {
            return Err(malformed(format!("TSTInfo version {}", info.version)));
        }
        let imprint_hash = Hash::from_identifier(&info.message_imprint.hash_algorithm)
            .map_err(|e| malformed(format!("message imprint: {e}")))?;
        let imprint = info.message_imprint.hashed_message.as_bytes().to_vec();
        if imprint.len() != imprint_hash.digest(b"").len() {
            return Err(malformed(format!(
                "message imprint of {} bytes for its hash algorithm",
                imprint.len()
            )));
        }
        let time = generalized_time(&info.gen_time).map_err(malformed)?;
        Ok(Timestamp {
            time,
            imprint_hash,
            imprint,
            serial: hex::encode(info.serial_number.as_bytes()),
            nonce: info.nonce.map(|n| n.as_bytes().to_vec()),
            signed,
            tst_info,
        })
    }

    /// The time the authority stamped (`genTime`), Unix seconds.
    pub fn time(&self) -> i64 {
        self.time
    }

    /// The serial number the authority gave it, hex.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The certificate the token embeds for its signer, unverified (what
    /// `inspect` shows); `None` when it embeds none.
    pub fn embedded_signer(&self) -> Option<Certificate> {
        let [signer_info] = self.signed.signers.as_slice() else {
            return None;
        };
        self.embedded_certificates()
            .ok()?
            .into_iter()
            .find(|c| is_signer(c, &signer_info.sid))
    }

    /// Whether its message imprint is the hash of `signature`.
    pub fn covers(&self, signature: &[u8]) -> bool {
        self.imprint_hash.digest(signature) == self.imprint
    }

    /// The certificates the token embeds (untrusted), at most
    /// [`MAX_CHAIN_CERTIFICATES`].
    fn embedded_certificates(&self) -> Result<Vec<Certificate>, String> {
        self.signed
            .certificates
            .iter()
            .map(|der| {
                Certificate::from_der(der).map_err(|e| format!("an embedded certificate: {e}"))
            })
            .collect()
    }

    /// Verifies the token's signature and its signer against `authority`,
    /// at the token's time. Returns the signer certificate's subject.
    fn verify_with(&self, authority: &TimestampAuthority) -> Result<String, String> {
        let infos = &self.signed.signers;
        let [signer_info] = infos.as_slice() else {
            return Err(format!("the token has {} signers, not one", infos.len()));
        };
        let embedded = self.embedded_certificates()?;
        let candidates: &[Certificate] = match &authority.leaf {
            Some(leaf) => std::slice::from_ref(leaf),
            None => &embedded,
        };
        let signer = candidates
            .iter()
            .find(|c| is_signer(c, &signer_info.sid))
            .ok_or_else(|| match &authority.leaf {
                Some(leaf) => format!(
                    "it was not signed by the authority's certificate {}",
                    leaf.subject()
                ),
                None => "the token does not carry its signer's certificate, and the authority's certificates name no signing certificate".into(),
            })?;

        let (signed_set, attrs) = signer_info
            .signed_attrs
            .as_ref()
            .ok_or("the signer has no signed attributes")?;
        let single = |oid: ObjectIdentifier, name: &str| -> Result<&Any, String> {
            let mut found = attrs.iter().filter(|a| a.oid == oid);
            let attr = found
                .next()
                .ok_or_else(|| format!("no {name} among the signed attributes"))?;
            if found.next().is_some() || attr.values.len() != 1 {
                return Err(format!("{name} must be one attribute with one value"));
            }
            attr.values
                .get(0)
                .ok_or_else(|| format!("{name} has no value"))
        };
        let content_type: ObjectIdentifier = single(ID_CONTENT_TYPE, "content-type")?
            .decode_as()
            .map_err(|e| format!("content-type: {e}"))?;
        if content_type != ID_CT_TST_INFO {
            return Err(format!(
                "the signed content type is {content_type}, not TSTInfo"
            ));
        }
        let digest: OctetString = single(ID_MESSAGE_DIGEST, "message-digest")?
            .decode_as()
            .map_err(|e| format!("message-digest: {e}"))?;
        let digest_hash = Hash::from_identifier(&signer_info.digest_alg)
            .map_err(|e| format!("signer digest: {e}"))?;
        if digest.as_bytes() != digest_hash.digest(&self.tst_info).as_slice() {
            return Err("the signed message digest is not that of the TSTInfo".into());
        }
        let algorithm = if signer_info.signature_algorithm.oid == RSA_ENCRYPTION {
            // CMS names PKCS#1 v1.5 by the key type; the digest is the signer's.
            AlgorithmIdentifierOwned {
                oid: digest_hash.rsa_pkcs1_oid(),
                parameters: None,
            }
        } else {
            signer_info.signature_algorithm.clone()
        };
        let subject = signer.subject();
        let ok = crate::x509::verify_message(
            signer,
            &algorithm,
            signed_set,
            &signer_info.signature,
            &subject,
        )
        .map_err(|e| format!("the token's signature cannot be checked: {e}"))?;
        if !ok {
            return Err(format!(
                "the token's signature does not verify with the key of {subject}"
            ));
        }

        let mut intermediates = authority.intermediates.clone();
        intermediates.extend(embedded.iter().cloned());
        verify_chain(
            signer,
            &intermediates,
            &authority.anchors,
            &ChainPolicy::timestamping(self.time),
        )
        .map_err(|e| format!("its signing certificate is not trusted at that time: {e}"))?;
        Ok(subject)
    }
}

fn is_signer(cert: &Certificate, sid: &SignerIdentifier) -> bool {
    let tbs = &cert.as_x509_cert().tbs_certificate;
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            id.issuer == tbs.issuer && id.serial_number == tbs.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            cert.subject_key_id() == Some(ski.0.as_bytes())
        }
    }
}

/// A timestamp authority the verifier trusts: its root certificates, the
/// intermediates under them and, when known, its signing certificate, which
/// every timestamp must then be signed by.
#[derive(Clone, Debug)]
pub struct TimestampAuthority {
    anchors: Vec<Certificate>,
    intermediates: Vec<Certificate>,
    leaf: Option<Certificate>,
}

impl TimestampAuthority {
    /// The authority of the certificates `chain` (a PEM chain file: the
    /// signing certificate, intermediates and root, in any order). The
    /// self-issued CA certificates are the trust anchors and there must be
    /// one; other CA certificates are intermediates; at most one certificate
    /// may be no CA, the authority's signing certificate (without it, a
    /// timestamp's signer comes from the token and must chain to a root).
    pub fn new(chain: Vec<Certificate>) -> Result<Self, TimestampError> {
        let bad = |detail: String| TimestampError::Authority { detail };
        if chain.len() > MAX_CHAIN_CERTIFICATES {
            return Err(bad(format!(
                "{} certificates; at most {MAX_CHAIN_CERTIFICATES} are accepted",
                chain.len()
            )));
        }
        let (mut anchors, mut intermediates, mut leaves) = (Vec::new(), Vec::new(), Vec::new());
        for cert in chain {
            if !cert.is_ca() {
                leaves.push(cert);
            } else if cert.is_self_issued() {
                anchors.push(cert);
            } else {
                intermediates.push(cert);
            }
        }
        if anchors.is_empty() {
            return Err(bad(
                "no root certificate (a self-signed CA certificate) among them".into(),
            ));
        }
        if leaves.len() > 1 {
            return Err(bad(format!(
                "{} certificates that are not CAs ({}); at most one, the authority's signing certificate, may be given",
                leaves.len(),
                leaves.iter().map(|c| c.subject()).collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(TimestampAuthority {
            anchors,
            intermediates,
            leaf: leaves.pop(),
        })
    }

    /// [`TimestampAuthority::new`] of the certificates in PEM `text`.
    pub fn from_pem(text: &[u8]) -> Result<Self, TimestampError> {
        let certs = Certificate::from_pem_bundle(text).map_err(|e| TimestampError::Authority {
            detail: e.to_string(),
        })?;
        Self::new(certs)
    }

    /// How the authority is named in messages: its signing certificate's
    /// subject, or its first root's.
    pub fn name(&self) -> String {
        match (&self.leaf, self.anchors.first()) {
            (Some(leaf), _) => leaf.subject(),
            (None, Some(root)) => root.subject(),
            (None, None) => String::new(),
        }
    }
}

/// A timestamp that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedTimestamp {
    /// Its time, Unix seconds.
    pub time: i64,
    /// The subject of the certificate that signed it.
    pub authority: String,
    /// Its serial number, hex.
    pub serial: String,
}

/// What [`check_timestamps`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimestampOutcome {
    /// The timestamps, all verified, in bundle order (empty when no
    /// authority is trusted).
    pub verified: Vec<VerifiedTimestamp>,
    /// How many timestamps were not looked at because no authority is
    /// trusted.
    pub unverified: usize,
}

impl TimestampOutcome {
    /// The earliest verified time.
    pub fn earliest(&self) -> Option<i64> {
        self.verified.iter().map(|t| t.time).min()
    }

    /// The warning to give about timestamps that were not used, if any.
    pub fn warning(&self) -> Option<String> {
        (self.unverified > 0).then(|| {
            format!(
                "the signature carries {} RFC 3161 timestamp{}, not checked and not used: no timestamp authority is trusted (--tsa-certificate-chain)",
                self.unverified,
                if self.unverified == 1 { "" } else { "s" }
            )
        })
    }
}

/// The DER timestamps of `bundle`, at most [`MAX_TIMESTAMPS`].
pub fn bundle_timestamps(bundle: &Bundle) -> Result<Vec<Vec<u8>>, TimestampError> {
    let Some(data) = &bundle.timestamp_data else {
        return Ok(Vec::new());
    };
    let malformed = |detail: &str| TimestampError::Malformed {
        which: "timestampVerificationData".into(),
        detail: detail.to_owned(),
    };
    let list = match data.get("rfc3161Timestamps") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(malformed("rfc3161Timestamps is not a list")),
    };
    if list.len() > MAX_TIMESTAMPS {
        return Err(malformed(&format!(
            "{} timestamps; at most {MAX_TIMESTAMPS} are accepted",
            list.len()
        )));
    }
    let count = list.len();
    list.iter()
        .enumerate()
        .map(|(i, entry)| {
            let which = format!("timestamp {} of {count}", i + 1);
            let text = entry
                .get("signedTimestamp")
                .and_then(Value::as_str)
                .ok_or_else(|| TimestampError::Malformed {
                    which: which.clone(),
                    detail: "no signedTimestamp".into(),
                })?;
            STANDARD
                .decode(text)
                .map_err(|_| TimestampError::Malformed {
                    which,
                    detail: "signedTimestamp is not base64".into(),
                })
        })
        .collect()
}

/// Checks the timestamps of `bundle` against `authorities`. With none,
/// nothing is verified and the timestamps are only counted. With some,
/// every timestamp must be well formed, cover the bundle's signature and
/// verify against one of the authorities; the first that does not is the
/// error.
pub fn check_timestamps(
    bundle: &Bundle,
    authorities: &[TimestampAuthority],
) -> Result<TimestampOutcome, TimestampError> {
    let ders = bundle_timestamps(bundle)?;
    if authorities.is_empty() {
        return Ok(TimestampOutcome {
            verified: Vec::new(),
            unverified: ders.len(),
        });
    }
    let signature = &bundle.envelope.signature;
    let count = ders.len();
    let mut verified = Vec::with_capacity(count);
    for (i, der) in ders.iter().enumerate() {
        let which = format!("timestamp {} of {count}", i + 1);
        let token = Timestamp::from_der(der, &which)?;
        if !token.covers(signature) {
            return Err(TimestampError::OtherBytes { which });
        }
        let mut failures = Vec::new();
        let mut signed_by = None;
        for authority in authorities {
            match token.verify_with(authority) {
                Ok(subject) => {
                    signed_by = Some(subject);
                    break;
                }
                Err(e) if authorities.len() == 1 => failures.push(e),
                Err(e) => failures.push(format!("with authority {}: {e}", authority.name())),
            }
        }
        let Some(authority) = signed_by else {
            return Err(TimestampError::Untrusted {
                which,
                time: format_time(token.time),
                detail: failures.join("; "),
            });
        };
        verified.push(VerifiedTimestamp {
            time: token.time,
            authority,
            serial: token.serial.clone(),
        });
    }
    Ok(TimestampOutcome {
        verified,
        unverified: 0,
    })
}

/// Asks a timestamp authority for a timestamp over a signature; the
/// transport (HTTP) lives with the implementation, which builds its request
/// with [`TimestampRequest::new`] and checks the answer with
/// [`TimestampRequest::check_response`].
pub trait Timestamper {
    /// The authority, for messages (its URL).
    fn name(&self) -> String;

    /// A DER `TimeStampResp` (or `TimeStampToken`) whose message imprint is
    /// a hash of `signature`.
    fn timestamp(
        &self,
        signature: &[u8],
    ) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>>;
}

/// `TimeStampReq` (RFC 3161 2.4.1), without extensions.
#[derive(Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    req_policy: Option<ObjectIdentifier>,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    cert_req: bool,
}

/// An RFC 3161 request for a timestamp over a signature: SHA-256 of the
/// signature bytes, a random 64-bit nonce, the signer's certificate asked
/// for.
#[derive(Clone, Debug)]
pub struct TimestampRequest {
    der: Vec<u8>,
    nonce: Vec<u8>,
}

impl TimestampRequest {
    /// A request for a timestamp over `signature`.
    pub fn new(signature: &[u8]) -> Self {
        use rand_core::{OsRng, RngCore};
        // A positive INTEGER: its first byte below 0x80, never zero (DER
        // allows no leading zero byte).
        let mut nonce = [0u8; 8];
        OsRng.fill_bytes(&mut nonce);
        nonce[0] = (nonce[0] & 0x7f) | 0x40;
        let request = TimeStampReq {
            version: 1,
            message_imprint: MessageImprint {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: SHA256,
                    parameters: None,
                },
                hashed_message: OctetString::new(Sha256::digest(signature).to_vec())
                    .expect("a SHA-256 digest fits an OCTET STRING"),
            },
            req_policy: None,
            nonce: Some(Int::new(&nonce).expect("a positive 8-byte INTEGER")),
            cert_req: true,
        };
        TimestampRequest {
            der: request.to_der().expect("a fixed-shape request encodes"),
            nonce: nonce.to_vec(),
        }
    }

    /// The DER request, to send as `application/timestamp-query`.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Checks the answer: a granted, well-formed timestamp over `signature`
    /// that echoes this request's nonce. Its signer is not checked here:
    /// that is the verifier's work, against the authorities it trusts.
    pub fn check_response(
        &self,
        der: &[u8],
        signature: &[u8],
    ) -> Result<Timestamp, TimestampError> {
        let which = "the timestamp response";
        let token = check_response(der, signature)?;
        if token.nonce.as_deref() != Some(self.nonce.as_slice()) {
            return Err(TimestampError::Malformed {
                which: which.into(),
                detail: format!(
                    "its nonce ({}) is not the request's ({})",
                    token.nonce.as_deref().map_or("none".into(), hex::encode),
                    hex::encode(&self.nonce)
                ),
            });
        }
        Ok(token)
    }
}

/// Checks a timestamp a [`Timestamper`] returned: granted, well formed,
/// over `signature`. Its nonce and signer are not checked.
pub fn check_response(der: &[u8], signature: &[u8]) -> Result<Timestamp, TimestampError> {
    let which = "the timestamp response";
    let token = Timestamp::from_der(der, which)?;
    if !token.covers(signature) {
        return Err(TimestampError::OtherBytes {
            which: which.into(),
        });
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(text: &str) -> Result<i64, String> {
        let der = der::asn1::Any::new(Tag::GeneralizedTime, text.as_bytes()).expect("any");
        generalized_time(&der)
    }

    #[test]
    fn generalized_times_with_and_without_fractions() {
        assert_eq!(time("19700101000000Z"), Ok(0));
        assert_eq!(time("20240601120000Z"), Ok(1_717_243_200));
        assert_eq!(time("20240601120000.5Z"), Ok(1_717_243_200));
        assert_eq!(time("20240601120000.123456789Z"), Ok(1_717_243_200));
    }

    #[test]
    fn malformed_generalized_times_are_refused() {
        for bad in [
            "",
            "Z",
            "20240601120000",
            "20240601120000+0000",
            "2024060112000Z",
            "202406011200000Z",
            "20240601120000.Z",
            "20240601120000.50Z",
            "20240601120000.1234567890Z",
            "20241301120000Z",
            "20240631120000Z",
            "20240601250000Z",
            "2024-6-01120000Z",
            "20240601120000.-1Z",
            "+2024601120000Z",
        ] {
            assert!(time(bad).is_err(), "{bad:?} was accepted");
        }
        let utc = der::asn1::Any::new(Tag::UtcTime, b"240601120000Z".as_slice()).expect("any");
        assert!(generalized_time(&utc).is_err());
    }

    #[test]
    fn garbage_is_malformed() {
        for der in [&b""[..], b"\x30\x00", b"\x30\x03\x02\x01\x00", b"not der"] {
            let err = Timestamp::from_der(der, "timestamp 1 of 1").expect_err("garbage");
            assert!(matches!(err, TimestampError::Malformed { .. }), "{err}");
        }
    }

    #[test]
    fn a_rejection_is_not_granted() {
        // TimeStampResp { status { 2, ["bad"] } }
        let der = [
            0x30, 0x0c, 0x30, 0x0a, 0x02, 0x01, 0x02, 0x30, 0x05, 0x0c, 0x03, b'b', b'a', b'd',
        ];
        let err = Timestamp::from_der(&der, "t").expect_err("rejected");
        assert_eq!(
            err,
            TimestampError::NotGranted {
                which: "t".into(),
                status: 2,
                text: ": bad".into()
            }
        );
    }

    #[test]
    fn an_authority_needs_a_root() {
        let err = TimestampAuthority::new(Vec::new()).expect_err("empty");
        assert!(err.to_string().contains("no root certificate"), "{err}");
    }
}
