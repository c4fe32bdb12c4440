//! An RFC 3161 timestamp authority over HTTP, for key, certificate and
//! PKCS#11 signatures (`--tsa-url`): the request and the checks of the
//! answer are the core crate's ([`TimestampRequest`]); this is the
//! transport.

use model_signing::text::error_chain;
use std::time::Duration;

use model_signing::timestamp::{TimestampRequest, Timestamper};
use sigstore_sign::reqwest;

/// Timeout of one timestamp request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest answer read from a timestamp authority. A response holds a
/// token and, at most, a few certificates: real ones are a few kilobytes.
pub const MAX_TIMESTAMP_RESPONSE_BYTES: usize = 256 * 1024;

/// Why the timestamp authority gave no answer to check.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TsaError {
    /// The URL is not an `http` or `https` URL.
    #[error("{0:?} is not an http:// or https:// URL")]
    Url(String),
    /// The request failed (connection, timeout, TLS).
    #[error("the request failed: {0}")]
    Request(String),
    /// The authority answered with an HTTP error.
    #[error("the authority answered HTTP {status}")]
    Status {
        /// The HTTP status code.
        status: u16,
    },
    /// The answer is larger than [`MAX_TIMESTAMP_RESPONSE_BYTES`].
    #[error("the answer is larger than {MAX_TIMESTAMP_RESPONSE_BYTES} bytes")]
    TooLarge,
    /// The HTTP client or its runtime could not be set up.
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
}

/// A timestamp authority at an HTTP URL (RFC 3161 over HTTP: a POST of
/// `application/timestamp-query`). Blocks on a runtime of its own: do not
/// call it from inside another tokio runtime.
pub struct HttpTimestamper {
    url: String,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for HttpTimestamper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTimestamper")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl HttpTimestamper {
    /// The authority at `url`.
    pub fn new(url: &str) -> Result<Self, TsaError> {
        let parsed = reqwest::Url::parse(url).map_err(|_| TsaError::Url(url.to_owned()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(TsaError::Url(url.to_owned()));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| TsaError::Setup(e.to_string()))?;
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("model-signing-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TsaError::Setup(e.to_string()))?;
        Ok(HttpTimestamper {
            url: url.to_owned(),
            http,
            runtime,
        })
    }

    async fn post(&self, body: Vec<u8>) -> Result<Vec<u8>, TsaError> {
        let mut response = self
            .http
            .post(&self.url)
            .header("Content-Type", "application/timestamp-query")
            .header("Accept", "application/timestamp-reply")
            .body(body)
            .send()
            .await
            .map_err(|e| TsaError::Request(error_chain(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(TsaError::Status {
                status: status.as_u16(),
            });
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_TIMESTAMP_RESPONSE_BYTES as u64)
        {
            return Err(TsaError::TooLarge);
        }
        let mut answer = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| TsaError::Request(error_chain(&e)))?
        {
            if answer.len().saturating_add(chunk.len()) > MAX_TIMESTAMP_RESPONSE_BYTES {
                return Err(TsaError::TooLarge);
            }
            answer.extend_from_slice(&chunk);
        }
        Ok(answer)
    }
}

impl Timestamper for HttpTimestamper {
    fn name(&self) -> String {
        self.url.clone()
    }

    fn timestamp(
        &self,
        signature: &[u8],
    ) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        let request = TimestampRequest::new(signature);
        let answer = self.runtime.block_on(self.post(request.der().to_vec()))?;
        request.check_response(&answer, signature)?;
        Ok(answer)
    }
}
