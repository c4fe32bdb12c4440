//! The parsed certificate and its accessors.

use std::fmt;
use std::ops::Range;

use const_oid::ObjectIdentifier;
use der::asn1::{Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};
use sha2::{Digest, Sha256};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, SubjectKeyIdentifier,
};
use x509_cert::name::Name;

use super::CertError;

pub(crate) const OID_BASIC_CONSTRAINTS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.5.29.19");
pub(crate) const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
pub(crate) const OID_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
pub(crate) const OID_SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
pub(crate) const OID_SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
pub(crate) const OID_AUTHORITY_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
pub(crate) const OID_NAME_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.30");

/// Extensions that may be critical: the chain validation understands them.
const UNDERSTOOD: [ObjectIdentifier; 6] = [
    OID_BASIC_CONSTRAINTS,
    OID_KEY_USAGE,
    OID_EXT_KEY_USAGE,
    OID_SUBJECT_ALT_NAME,
    OID_SUBJECT_KEY_ID,
    OID_AUTHORITY_KEY_ID,
];

/// The bits of a keyUsage extension (RFC 5280 4.2.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyUsage(u16);

impl KeyUsage {
    fn bit(self, n: u16) -> bool {
        self.0 & (1 << n) != 0
    }

    /// The raw bits, bit `n` of the ASN.1 BIT STRING as `1 << n`
    /// (digitalSignature is `1 << 0`, keyCertSign `1 << 5`).
    pub fn bits(self) -> u16 {
        self.0
    }

    /// digitalSignature (bit 0).
    pub fn digital_signature(self) -> bool {
        self.bit(0)
    }

    /// nonRepudiation, also called contentCommitment (bit 1).
    pub fn content_commitment(self) -> bool {
        self.bit(1)
    }

    /// keyEncipherment (bit 2).
    pub fn key_encipherment(self) -> bool {
        self.bit(2)
    }

    /// dataEncipherment (bit 3).
    pub fn data_encipherment(self) -> bool {
        self.bit(3)
    }

    /// keyAgreement (bit 4).
    pub fn key_agreement(self) -> bool {
        self.bit(4)
    }

    /// keyCertSign (bit 5).
    pub fn key_cert_sign(self) -> bool {
        self.bit(5)
    }

    /// cRLSign (bit 6).
    pub fn crl_sign(self) -> bool {
        self.bit(6)
    }

    /// encipherOnly (bit 7).
    pub fn encipher_only(self) -> bool {
        self.bit(7)
    }

    /// decipherOnly (bit 8).
    pub fn decipher_only(self) -> bool {
        self.bit(8)
    }
}

/// One entry of a subjectAltName extension.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubjectAltName {
    /// rfc822Name.
    Email(String),
    /// uniformResourceIdentifier.
    Uri(String),
    /// dNSName.
    Dns(String),
    /// iPAddress, 4 or 16 bytes.
    IpAddress(Vec<u8>),
    /// otherName; `value` is set when the value is a UTF8String (as in
    /// Fulcio's username identities, type `1.3.6.1.4.1.57264.1.7`).
    OtherName {
        /// The otherName's type identifier.
        type_id: ObjectIdentifier,
        /// The value, when it is a UTF8String.
        value: Option<String>,
    },
    /// A directory name, EDI party name or registered identifier.
    Other,
}

/// A parsed X.509 certificate (untrusted until [`super::verify_chain`] says
/// otherwise).
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: Range<usize>,
    inner: x509_cert::Certificate,
    spki_der: Vec<u8>,
    subject_der: Vec<u8>,
    issuer_der: Vec<u8>,
    subject: String,
    issuer: String,
    not_before: i64,
    not_after: i64,
    ext: ExtensionInfo,
}

/// What the extensions say, decoded once.
#[derive(Clone, Default)]
struct ExtensionInfo {
    basic_constraints: Option<BasicConstraints>,
    key_usage: Option<KeyUsage>,
    eku: Option<Vec<ObjectIdentifier>>,
    san: Vec<SubjectAltName>,
    ski: Option<Vec<u8>>,
    aki: Option<Vec<u8>>,
    name_constraints: bool,
    unknown_critical: Option<ObjectIdentifier>,
}

fn malformed(detail: impl Into<String>) -> CertError {
    CertError::Malformed {
        detail: detail.into(),
    }
}

fn der_err(what: &str, e: der::Error) -> CertError {
    malformed(format!("{what}: {e}"))
}

impl Certificate {
    /// Parses one DER certificate. The encoding must be strict DER and cover
    /// the whole input; known extensions (basicConstraints, keyUsage,
    /// extendedKeyUsage, subjectAltName, key identifiers) must be well
    /// formed and appear at most once, like every extension.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        let inner = x509_cert::Certificate::from_der(der).map_err(|e| der_err("DER", e))?;
        let tbs = tbs_range(der)?;
        let tbs_cert = &inner.tbs_certificate;

        if inner.signature_algorithm != tbs_cert.signature {
            return Err(malformed(
                "the signature algorithm differs from the one in the signed part",
            ));
        }
        if inner.signature.unused_bits() != 0 {
            return Err(malformed("the signature BIT STRING has unused bits"));
        }
        if tbs_cert.extensions.is_some() && tbs_cert.version != x509_cert::Version::V3 {
            return Err(malformed(
                "extensions in a certificate older than version 3",
            ));
        }

        let spki_der = tbs_cert
            .subject_public_key_info
            .to_der()
            .map_err(|e| der_err("subject public key", e))?;
        let subject_der = tbs_cert
            .subject
            .to_der()
            .map_err(|e| der_err("subject", e))?;
        let issuer_der = tbs_cert.issuer.to_der().map_err(|e| der_err("issuer", e))?;
        let not_before = unix(&tbs_cert.validity.not_before);
        let not_after = unix(&tbs_cert.validity.not_after);

        let ext = parse_extensions(&inner)?;
        Ok(Self {
            der: der.to_vec(),
            tbs,
            subject: display_name(&tbs_cert.subject),
            issuer: display_name(&tbs_cert.issuer),
            spki_der,
            subject_der,
            issuer_der,
            not_before,
            not_after,
            ext,
            inner,
        })
    }

    /// Parses every `CERTIFICATE` block of a PEM file, in order. Text outside
    /// the blocks is allowed (certtool and openssl write some) and blocks of
    /// other types (keys, `TRUSTED CERTIFICATE`) are skipped; a file without
    /// any `CERTIFICATE` block is an error.
    pub fn from_pem_bundle(text: &[u8]) -> Result<Vec<Self>, CertError> {
        let blocks = super::pem::certificate_blocks(text)?;
        if blocks.is_empty() {
            return Err(CertError::NoCertificate);
        }
        blocks.iter().map(|der| Self::from_der(der)).collect()
    }

    /// The certificate's DER encoding, exactly as parsed.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate in PEM form (64-column base64, LF line ends).
    pub fn to_pem(&self) -> String {
        super::pem::encode("CERTIFICATE", &self.der)
    }

    /// The signed part (TBSCertificate), exactly as encoded.
    pub fn tbs_der(&self) -> &[u8] {
        self.der.get(self.tbs.clone()).unwrap_or_default()
    }

    /// The subject's public key as a DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The subject name in RFC 4514 form (`CN=leaf,O=Example`); values that
    /// are not strings appear as `OID=#hex`.
    pub fn subject(&self) -> String {
        self.subject.clone()
    }

    /// The issuer name in RFC 4514 form.
    pub fn issuer(&self) -> String {
        self.issuer.clone()
    }

    /// The subject name's DER encoding.
    pub fn subject_der(&self) -> &[u8] {
        &self.subject_der
    }

    /// The issuer name's DER encoding.
    pub fn issuer_der(&self) -> &[u8] {
        &self.issuer_der
    }

    /// Whether subject and issuer names are the same (the certificate may
    /// still be signed by another key).
    pub fn is_self_issued(&self) -> bool {
        self.subject_der == self.issuer_der
    }

    /// The serial number as lowercase hex, without the sign-padding zero byte.
    pub fn serial_hex(&self) -> String {
        let bytes = self.inner.tbs_certificate.serial_number.as_bytes();
        match bytes {
            [0, rest @ ..] if !rest.is_empty() && rest[0] & 0x80 != 0 => hex::encode(rest),
            _ => hex::encode(bytes),
        }
    }

    /// Lowercase hex SHA-256 of the DER encoding, without separators.
    pub fn fingerprint_sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.der))
    }

    /// notBefore, in seconds since the Unix epoch.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// notAfter, in seconds since the Unix epoch.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// Whether basicConstraints says `CA:TRUE`.
    pub fn is_ca(&self) -> bool {
        self.ext.basic_constraints.as_ref().is_some_and(|bc| bc.ca)
    }

    /// The pathLenConstraint of basicConstraints, if any.
    pub fn path_len_constraint(&self) -> Option<u8> {
        self.ext
            .basic_constraints
            .as_ref()
            .and_then(|bc| bc.path_len_constraint)
    }

    /// The keyUsage extension, if present.
    pub fn key_usage(&self) -> Option<KeyUsage> {
        self.ext.key_usage
    }

    /// The purposes of the extendedKeyUsage extension, if present.
    pub fn extended_key_usage(&self) -> Option<&[ObjectIdentifier]> {
        self.ext.eku.as_deref()
    }

    /// The URIs and email addresses of the subjectAltName extension, in order
    /// (the identities Sigstore certificates carry).
    pub fn subject_alt_names(&self) -> Vec<String> {
        self.ext
            .san
            .iter()
            .filter_map(|name| match name {
                SubjectAltName::Email(s) | SubjectAltName::Uri(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    /// Every subjectAltName entry, in order.
    pub fn subject_alt_name_entries(&self) -> &[SubjectAltName] {
        &self.ext.san
    }

    /// The subjectKeyIdentifier, if present.
    pub fn subject_key_id(&self) -> Option<&[u8]> {
        self.ext.ski.as_deref()
    }

    /// The keyIdentifier of authorityKeyIdentifier, if present.
    pub fn authority_key_id(&self) -> Option<&[u8]> {
        self.ext.aki.as_deref()
    }

    /// The raw extnValue (the DER inside the OCTET STRING) of the extension
    /// with this dotted OID, if present; `None` also for an invalid OID.
    pub fn extension(&self, oid: &str) -> Option<Vec<u8>> {
        let oid = ObjectIdentifier::new(oid).ok()?;
        self.extension_by_oid(&oid).map(|(_, value)| value.to_vec())
    }

    /// The criticality and raw extnValue of the extension with this OID.
    pub fn extension_by_oid(&self, oid: &ObjectIdentifier) -> Option<(bool, &[u8])> {
        self.inner
            .tbs_certificate
            .extensions
            .as_deref()?
            .iter()
            .find(|e| &e.extn_id == oid)
            .map(|e| (e.critical, e.extn_value.as_bytes()))
    }

    /// The OID of the signature algorithm the issuer used, dotted.
    pub fn signature_algorithm_oid(&self) -> String {
        self.inner.signature_algorithm.oid.to_string()
    }

    /// The parsed certificate, for checks this module does not offer.
    pub fn as_x509_cert(&self) -> &x509_cert::Certificate {
        &self.inner
    }

    pub(crate) fn has_name_constraints(&self) -> bool {
        self.ext.name_constraints
    }

    pub(crate) fn unknown_critical_extension(&self) -> Option<&ObjectIdentifier> {
        self.ext.unknown_critical.as_ref()
    }

    /// The issuer's signature over the signed part, as raw bytes.
    pub(crate) fn signature_bytes(&self) -> &[u8] {
        self.inner.signature.raw_bytes()
    }

    pub(crate) fn signature_algorithm(&self) -> &spki::AlgorithmIdentifierOwned {
        &self.inner.signature_algorithm
    }

    pub(crate) fn public_key_info(&self) -> &spki::SubjectPublicKeyInfoOwned {
        &self.inner.tbs_certificate.subject_public_key_info
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject)
            .field("issuer", &self.issuer)
            .field("serial", &self.serial_hex())
            .field("sha256", &self.fingerprint_sha256())
            .finish()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl std::hash::Hash for Certificate {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.der.hash(state);
    }
}

fn parse_extensions(cert: &x509_cert::Certificate) -> Result<ExtensionInfo, CertError> {
    let mut info = ExtensionInfo::default();
    let extensions = cert.tbs_certificate.extensions.as_deref().unwrap_or(&[]);
    for (i, ext) in extensions.iter().enumerate() {
        if extensions[..i].iter().any(|e| e.extn_id == ext.extn_id) {
            return Err(malformed(format!("duplicate extension {}", ext.extn_id)));
        }
        let value = ext.extn_value.as_bytes();
        let what = |name: &'static str| move |e| der_err(&format!("extension {name}"), e);
        match ext.extn_id {
            OID_BASIC_CONSTRAINTS => {
                info.basic_constraints =
                    Some(BasicConstraints::from_der(value).map_err(what("basicConstraints"))?);
            }
            OID_KEY_USAGE => info.key_usage = Some(parse_key_usage(value)?),
            OID_EXT_KEY_USAGE => {
                let eku = ExtendedKeyUsage::from_der(value).map_err(what("extendedKeyUsage"))?;
                info.eku = Some(eku.0);
            }
            OID_SUBJECT_ALT_NAME => {
                let san = x509_cert::ext::pkix::SubjectAltName::from_der(value)
                    .map_err(what("subjectAltName"))?;
                info.san = san.0.iter().map(convert_general_name).collect();
            }
            OID_SUBJECT_KEY_ID => {
                let ski =
                    SubjectKeyIdentifier::from_der(value).map_err(what("subjectKeyIdentifier"))?;
                info.ski = Some(ski.0.as_bytes().to_vec());
            }
            OID_AUTHORITY_KEY_ID => {
                let aki = AuthorityKeyIdentifier::from_der(value)
                    .map_err(what("authorityKeyIdentifier"))?;
                info.aki = aki.key_identifier.map(|k| k.as_bytes().to_vec());
            }
            OID_NAME_CONSTRAINTS => info.name_constraints = true,
            _ => {}
        }
        if ext.critical && !UNDERSTOOD.contains(&ext.extn_id) && info.unknown_critical.is_none() {
            info.unknown_critical = Some(ext.extn_id);
        }
    }
    Ok(info)
}

/// The byte range of the TBSCertificate inside the certificate's DER.
fn tbs_range(der: &[u8]) -> Result<Range<usize>, CertError> {
    let err = |e| der_err("DER", e);
    let mut reader = SliceReader::new(der).map_err(err)?;
    let outer = der::Header::decode(&mut reader).map_err(err)?;
    if outer.tag != Tag::Sequence {
        return Err(malformed("not a SEQUENCE"));
    }
    let start = usize::try_from(reader.position()).map_err(err)?;
    let tbs = reader.tlv_bytes().map_err(err)?;
    Ok(start..start + tbs.len())
}

fn unix(time: &x509_cert::time::Time) -> i64 {
    i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

fn parse_key_usage(value: &[u8]) -> Result<KeyUsage, CertError> {
    let bits =
        der::asn1::BitStringRef::from_der(value).map_err(|e| der_err("extension keyUsage", e))?;
    let bytes = bits.raw_bytes();
    let mut usage = 0u16;
    for n in 0..9u16 {
        let byte = bytes.get(usize::from(n / 8)).copied().unwrap_or(0);
        if byte & (0x80 >> (n % 8)) != 0 {
            usage |= 1 << n;
        }
    }
    Ok(KeyUsage(usage))
}

fn convert_general_name(name: &GeneralName) -> SubjectAltName {
    match name {
        GeneralName::Rfc822Name(s) => SubjectAltName::Email(s.to_string()),
        GeneralName::UniformResourceIdentifier(s) => SubjectAltName::Uri(s.to_string()),
        GeneralName::DnsName(s) => SubjectAltName::Dns(s.to_string()),
        GeneralName::IpAddress(ip) => SubjectAltName::IpAddress(ip.as_bytes().to_vec()),
        GeneralName::OtherName(other) => SubjectAltName::OtherName {
            type_id: other.type_id,
            value: Utf8StringRef::try_from(&other.value)
                .ok()
                .map(|s| s.as_str().to_owned()),
        },
        _ => SubjectAltName::Other,
    }
}

/// RFC 4514 display of a name: RDNs in reverse order, `+` inside an RDN,
/// special characters escaped, non-string values as `OID=#hex`.
fn display_name(name: &Name) -> String {
    let mut out = String::new();
    for (i, rdn) in name.0.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.0.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let value = match atv.value.tag() {
                Tag::PrintableString => PrintableStringRef::try_from(&atv.value)
                    .ok()
                    .map(|s| s.as_str().to_owned()),
                Tag::Utf8String => Utf8StringRef::try_from(&atv.value)
                    .ok()
                    .map(|s| s.as_str().to_owned()),
                Tag::Ia5String => Ia5StringRef::try_from(&atv.value)
                    .ok()
                    .map(|s| s.as_str().to_owned()),
                Tag::TeletexString => TeletexStringRef::try_from(&atv.value)
                    .ok()
                    .map(|s| s.as_str().to_owned()),
                _ => None,
            };
            match (attribute_name(&atv.oid), value) {
                (Some(key), Some(value)) => {
                    out.push_str(key);
                    out.push('=');
                    escape_value(&value, &mut out);
                }
                _ => {
                    out.push_str(&atv.oid.to_string());
                    out.push_str("=#");
                    let encoded = atv
                        .value
                        .to_der()
                        .unwrap_or_else(|_| atv.value.value().to_vec());
                    out.push_str(&hex::encode(encoded));
                }
            }
        }
    }
    out
}

/// Short names of the usual attribute types (RFC 4514 section 3 and a few
/// more in common use).
fn attribute_name(oid: &ObjectIdentifier) -> Option<&'static str> {
    const NAMES: [(&str, &str); 14] = [
        ("2.5.4.3", "CN"),
        ("2.5.4.6", "C"),
        ("2.5.4.7", "L"),
        ("2.5.4.8", "ST"),
        ("2.5.4.9", "STREET"),
        ("2.5.4.10", "O"),
        ("2.5.4.11", "OU"),
        ("0.9.2342.19200300.100.1.25", "DC"),
        ("0.9.2342.19200300.100.1.1", "UID"),
        ("2.5.4.5", "serialNumber"),
        ("1.2.840.113549.1.9.1", "emailAddress"),
        ("2.5.4.4", "SN"),
        ("2.5.4.42", "GN"),
        ("2.5.4.12", "title"),
    ];
    let dotted = oid.to_string();
    NAMES
        .iter()
        .find(|(o, _)| *o == dotted)
        .map(|(_, name)| *name)
}

fn escape_value(value: &str, out: &mut String) {
    let count = value.chars().count();
    for (i, c) in value.chars().enumerate() {
        match c {
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i + 1 == count => out.push_str("\\ "),
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\x00'..='\x1f' | '\x7f' => out.push_str(&format!("\\{:02x}", c as u32)),
            _ => out.push(c),
        }
    }
}
