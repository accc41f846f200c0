//! The upload server's three calls: presign, PUT to the presigned URL,
//! confirm. Each documented status becomes a [`UploadError`] with a message
//! that says what happened and what to do. Network errors and 5xx are
//! retried with bounded exponential backoff; a 4xx never is.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use sha2::{Digest, Sha256};

use super::epistula;
use super::keys::Hotkey;

pub const DEFAULT_ENDPOINT: &str = "https://upload.bitmind.ai/upload";
/// The exact detail with which the server says the file is already there.
pub const ALREADY_EXISTS: &str = "file with this hash already exists";

/// The presign request body; the field order is the wire order.
#[derive(serde::Serialize, Debug)]
pub struct PresignRequest {
    pub filename: String,
    pub file_size: u64,
    pub expected_hash: String,
    pub content_type: &'static str,
    pub modality: String,
    pub vertical: String,
}

impl PresignRequest {
    /// Compact JSON, as gascli sends it (and signs it).
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a struct of strings and integers serialises")
    }
}

/// What a successful presign returns (inside `data`).
#[derive(serde::Deserialize, serde::Serialize, Clone, Debug, PartialEq)]
pub struct Slot {
    /// Echoed back to `confirm` as the server gave it (string or number).
    pub model_id: serde_json::Value,
    pub presigned_url: String,
    pub r2_key: String,
    #[serde(default)]
    pub submissions_used: Option<serde_json::Value>,
    #[serde(default)]
    pub submissions_max: Option<serde_json::Value>,
}

#[derive(Debug)]
pub enum UploadError {
    /// 409 "file with this hash already exists".
    AlreadyExists,
    /// A definite answer that retrying will not change (4xx, bad response).
    Refused(String),
    /// Still failing after the retries (network or 5xx).
    Unavailable(String),
}

impl std::fmt::Display for UploadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UploadError::AlreadyExists => write!(f, "the server already has a file with this hash"),
            UploadError::Refused(m) | UploadError::Unavailable(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for UploadError {}

/// How often and how patiently to retry network errors and 5xx.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub attempts: u32,
    pub first: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        // GASGUARD_HTTP_BACKOFF_MS shortens the first delay (tests).
        let first = std::env::var("GASGUARD_HTTP_BACKOFF_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis)
            .unwrap_or(Duration::from_secs(2));
        Backoff {
            attempts: 4,
            first,
            max: Duration::from_secs(30),
        }
    }
}

pub struct Client {
    agent: ureq::Agent,
    endpoint: String,
    backoff: Backoff,
}

/// One attempt's failure: `retry` is false for answers retrying cannot change.
struct Attempt {
    error: UploadError,
    retry: bool,
}

impl Client {
    pub fn new(endpoint: &str, backoff: Backoff) -> Client {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(15))
            .build();
        Client {
            agent,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            backoff,
        }
    }

    fn with_retries<T>(
        &self,
        what: &str,
        mut call: impl FnMut() -> Result<T, Attempt>,
    ) -> Result<T, UploadError> {
        let mut delay = self.backoff.first;
        let mut attempt = 1;
        loop {
            match call() {
                Ok(v) => return Ok(v),
                Err(a) if !a.retry || attempt >= self.backoff.attempts => {
                    return Err(match a.error {
                        UploadError::Unavailable(m) if attempt > 1 => {
                            UploadError::Unavailable(format!("{m} (after {attempt} attempts)"))
                        }
                        e => e,
                    });
                }
                Err(a) => {
                    eprintln!(
                        "gasguard: {what}: {} ; retrying in {} s",
                        a.error,
                        delay.as_secs_f32()
                    );
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(self.backoff.max);
                    attempt += 1;
                }
            }
        }
    }

    /// `POST {endpoint}/presigned`.
    pub fn presign(&self, key: &Hotkey, request: &PresignRequest) -> Result<Slot, UploadError> {
        let body = request.body();
        let url = format!("{}/presigned", self.endpoint);
        let data = self.with_retries("presign", || {
            let answer = self.post_signed(key, &url, &body, Duration::from_secs(30))?;
            Ok(answer)
        })?;
        let data = data.get("data").cloned().unwrap_or(data);
        serde_json::from_value::<Slot>(data).map_err(|e| {
            UploadError::Refused(format!(
                "the upload server's presign answer lacks model_id/presigned_url/r2_key ({e}); \
                 has the protocol changed? nothing was uploaded"
            ))
        })
    }

    /// `POST {endpoint}/confirm`.
    pub fn confirm(
        &self,
        key: &Hotkey,
        model_id: &serde_json::Value,
        file_hash: &str,
    ) -> Result<(), UploadError> {
        // A struct, not json!(): the field order is the wire order.
        #[derive(serde::Serialize)]
        struct Confirm<'a> {
            model_id: &'a serde_json::Value,
            file_hash: &'a str,
        }
        let body = serde_json::to_vec(&Confirm {
            model_id,
            file_hash,
        })
        .expect("JSON values serialise");
        let url = format!("{}/confirm", self.endpoint);
        self.with_retries("confirm", || {
            self.post_signed(key, &url, &body, Duration::from_secs(30))
                .map(|_| ())
        })
    }

    fn post_signed(
        &self,
        key: &Hotkey,
        url: &str,
        body: &[u8],
        timeout: Duration,
    ) -> Result<serde_json::Value, Attempt> {
        let mut request = self
            .agent
            .post(url)
            .timeout(timeout)
            .set("Content-Type", "application/json");
        for (name, value) in epistula::sign(key, body).pairs() {
            request = request.set(name, &value);
        }
        match request.send_bytes(body) {
            Ok(response) => {
                let text = response.into_string().unwrap_or_default();
                serde_json::from_str(&text).map_err(|_| Attempt {
                    error: UploadError::Refused(format!(
                        "the upload server answered 200 with a body that is not JSON: {}",
                        excerpt(&text)
                    )),
                    retry: false,
                })
            }
            Err(ureq::Error::Status(status, response)) => {
                let text = response.into_string().unwrap_or_default();
                Err(api_error(status, &text))
            }
            Err(ureq::Error::Transport(t)) => Err(Attempt {
                error: UploadError::Unavailable(format!("cannot reach {url}: {t}")),
                retry: true,
            }),
        }
    }

    /// PUTs `path` to the presigned URL, streamed with `Content-Length`,
    /// hashing what is sent: the upload fails unless those bytes hash to
    /// `file_hash`.
    pub fn put(&self, slot_url: &str, path: &Path, file_hash: &str) -> Result<(), UploadError> {
        self.with_retries("upload", || {
            let file = std::fs::File::open(path).map_err(|e| Attempt {
                error: UploadError::Refused(format!("cannot open {}: {e}", path.display())),
                retry: false,
            })?;
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            let progress = indicatif::ProgressBar::with_draw_target(
                Some(size),
                indicatif::ProgressDrawTarget::stderr(),
            );
            let mut reader = HashingReader {
                inner: progress.wrap_read(file),
                hasher: Sha256::new(),
            };
            let result = self
                .agent
                .put(slot_url)
                .timeout(Duration::from_secs(300))
                .set("Content-Type", "application/octet-stream")
                .set("Content-Length", &size.to_string())
                .send(&mut reader);
            progress.finish_and_clear();
            match result {
                Ok(response) if response.status() == 200 => {
                    let sent = hex::encode(reader.hasher.finalize());
                    if sent != file_hash {
                        return Err(Attempt {
                            error: UploadError::Refused(format!(
                                "the bytes sent hash to {sent}, not {file_hash}: the packed ZIP changed during the upload; push again"
                            )),
                            retry: false,
                        });
                    }
                    Ok(())
                }
                Ok(response) => Err(Attempt {
                    error: UploadError::Refused(format!(
                        "the storage answered {} to the upload (expected 200)",
                        response.status()
                    )),
                    retry: false,
                }),
                Err(ureq::Error::Status(status, response)) => {
                    let text = response.into_string().unwrap_or_default();
                    Err(Attempt {
                        error: (if status >= 500 {
                            UploadError::Unavailable
                        } else {
                            UploadError::Refused
                        })(r2_error(status, &text)),
                        retry: status >= 500,
                    })
                }
                Err(ureq::Error::Transport(t)) => Err(Attempt {
                    error: UploadError::Unavailable(format!("the upload was interrupted: {t}")),
                    retry: true,
                }),
            }
        })
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// The server's message: `detail`, else `error`, else `message`.
fn server_message(text: &str) -> String {
    let json: Option<serde_json::Value> = serde_json::from_str(text).ok();
    let field = json.as_ref().and_then(|j| {
        ["detail", "error", "message"]
            .iter()
            .find_map(|k| j.get(k).filter(|v| !v.is_null()))
    });
    match field {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => excerpt(text),
    }
}

fn excerpt(text: &str) -> String {
    let t = text.trim();
    if t.is_empty() {
        return "(empty body)".to_string();
    }
    let cut: String = t.chars().take(200).collect();
    if cut.len() < t.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// Maps an upload-API status to what it means for the miner.
fn api_error(status: u16, text: &str) -> Attempt {
    let message = server_message(text);
    let refused = |m: String| Attempt {
        error: UploadError::Refused(m),
        retry: false,
    };
    match status {
        409 if message == ALREADY_EXISTS => Attempt {
            error: UploadError::AlreadyExists,
            retry: false,
        },
        409 => refused(format!(
            "409 conflict: {message} (a reservation or burn for this hotkey conflicts; wait for it to expire or resolve it with BitMind)"
        )),
        403 => refused(format!(
            "403 forbidden: {message}. This hotkey's submission slot for the cycle is used. \
             Another submission needs a 0.5 TAO alpha burn signed by the coldkey; \
             gasguard never touches coldkeys, so do that with BitMind's tools, then push again"
        )),
        401 => refused(format!(
            "401 unauthorized: {message}. The Epistula signature was refused: check this machine's clock (±15 s) and that the hotkey is registered"
        )),
        400 => refused(format!(
            "400 bad request: {message} (check --vertical and the modality: `human` has no audio)"
        )),
        // "Uploads for <m> are disabled": closed until the next cycle, so
        // retrying now cannot help; any other 503 is an outage.
        503 if message.contains("disabled") => refused(format!(
            "503: {message}. Uploads are closed between competition cycles; push again when the next cycle opens"
        )),
        s if s >= 500 => Attempt {
            error: UploadError::Unavailable(format!("the upload server failed ({s}): {message}")),
            retry: true,
        },
        s => refused(format!("the upload server answered {s}: {message}")),
    }
}

/// R2 (S3) errors are XML: `<Code>` and `<Message>`.
fn r2_error(status: u16, text: &str) -> String {
    let tag = |name: &str| -> Option<String> {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&close)? + start;
        Some(text[start..end].trim().to_string())
    };
    match (tag("Code"), tag("Message")) {
        (Some(code), message) => {
            let hint = match code.as_str() {
                "AccessDenied" | "ExpiredToken" | "RequestTimeTooSkewed" => {
                    "; the presigned URL may have expired: run the push again with --resume"
                }
                "BadDigest" | "IncompleteBody" | "InvalidDigest" => {
                    "; the bytes did not arrive intact: run the push again with --resume"
                }
                _ => "",
            };
            format!(
                "the storage refused the upload ({status} {code}: {}){hint}",
                message.unwrap_or_default()
            )
        }
        (None, _) => format!("the storage answered {status}: {}", excerpt(text)),
    }
}

/// "slot N of M" when the server says how many submissions are used.
pub fn describe_slot(slot: &Slot) -> String {
    match (&slot.submissions_used, &slot.submissions_max) {
        (Some(u), Some(m)) => format!("slot {} of {}", u, m),
        _ => "slot reserved".to_string(),
    }
}

/// Refuses `--vertical human` with audio before anything is sent, as the
/// server would (400 "only available for: image").
pub fn check_vertical(vertical: &str, modality: &str) -> anyhow::Result<()> {
    let verdict: anyhow::Result<()> = match (vertical, modality) {
        ("general", _) => Ok(()),
        ("human", "image" | "video") => Ok(()),
        ("human", m) => Err(anyhow::anyhow!(
            "--vertical human has no {m} competition; push {m} with --vertical general"
        )),
        (v, _) => Err(anyhow::anyhow!(
            "--vertical must be general or human, not `{v}`"
        )),
    };
    verdict.context("refused before contacting the upload server")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presign_body_is_compact_and_ordered() {
        let r = PresignRequest {
            filename: "m.zip".into(),
            file_size: 5,
            expected_hash: "ab".into(),
            content_type: "application/octet-stream",
            modality: "image".into(),
            vertical: "general".into(),
        };
        assert_eq!(
            String::from_utf8(r.body()).unwrap(),
            r#"{"filename":"m.zip","file_size":5,"expected_hash":"ab","content_type":"application/octet-stream","modality":"image","vertical":"general"}"#
        );
    }

    #[test]
    fn statuses_map_to_kinds() {
        assert!(matches!(
            api_error(409, r#"{"detail":"file with this hash already exists"}"#).error,
            UploadError::AlreadyExists
        ));
        let other = api_error(409, r#"{"detail":"reservation pending"}"#);
        assert!(!other.retry && other.error.to_string().contains("reservation pending"));
        assert!(api_error(403, "{}").error.to_string().contains("coldkey"));
        assert!(!api_error(503, r#"{"error":"Uploads for image are disabled"}"#).retry);
        assert!(api_error(503, r#"{"error":"overloaded"}"#).retry);
        assert!(api_error(502, "").retry);
        assert!(!api_error(400, r#"{"message":"only available for: image"}"#).retry);
        assert!(
            r2_error(
                403,
                "<Error><Code>AccessDenied</Code><Message>Expired</Message></Error>"
            )
            .contains("AccessDenied: Expired")
        );
    }

    #[test]
    fn vertical_misuse_is_refused_locally() {
        assert!(check_vertical("human", "audio").is_err());
        assert!(check_vertical("human", "image").is_ok());
        assert!(check_vertical("other", "image").is_err());
    }
}
