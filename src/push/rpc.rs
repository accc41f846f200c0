//! A blocking JSON-RPC client over one WebSocket, as Substrate nodes speak
//! it: requests answered by id, subscription notifications queued.

use std::collections::VecDeque;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

pub struct Rpc {
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Notifications that arrived while waiting for an answer.
    pending: VecDeque<Value>,
    url: String,
}

/// An error from the node itself (`{"code", "message", "data"}`).
#[derive(Debug)]
pub struct NodeError {
    pub code: i64,
    pub message: String,
}

impl Rpc {
    pub fn connect(url: &str) -> anyhow::Result<Rpc> {
        let (socket, _) = tungstenite::connect(url)
            .map_err(|e| anyhow::anyhow!("cannot connect to the chain node {url}: {e}"))?;
        let mut rpc = Rpc {
            socket,
            next_id: 1,
            pending: VecDeque::new(),
            url: url.to_string(),
        };
        rpc.set_timeout(Duration::from_secs(60));
        Ok(rpc)
    }

    fn set_timeout(&mut self, timeout: Duration) {
        let stream = match self.socket.get_mut() {
            MaybeTlsStream::Plain(s) => Some(&*s),
            MaybeTlsStream::Rustls(s) => Some(&s.sock),
            _ => None,
        };
        if let Some(s) = stream {
            let _ = s.set_read_timeout(Some(timeout));
        }
    }

    fn read(&mut self) -> anyhow::Result<Value> {
        loop {
            let message = self.socket.read().map_err(|e| {
                anyhow::anyhow!("the connection to the chain node {} failed: {e}", self.url)
            })?;
            let text = match message {
                Message::Text(t) => t.to_string(),
                Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
                Message::Close(_) => {
                    anyhow::bail!("the chain node {} closed the connection", self.url)
                }
                _ => continue,
            };
            return serde_json::from_str(&text).map_err(|_| {
                anyhow::anyhow!(
                    "the chain node {} sent something that is not JSON",
                    self.url
                )
            });
        }
    }

    /// Calls `method`; `Ok(Err(..))` is the node's own error answer.
    pub fn call(
        &mut self,
        method: &str,
        params: Value,
    ) -> anyhow::Result<Result<Value, NodeError>> {
        let id = self.next_id;
        self.next_id += 1;
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.socket
            .send(Message::text(request.to_string()))
            .map_err(|e| anyhow::anyhow!("cannot send {method} to {}: {e}", self.url))?;
        loop {
            let answer = self.read()?;
            if answer.get("id").and_then(Value::as_u64) == Some(id) {
                if let Some(error) = answer.get("error") {
                    return Ok(Err(NodeError {
                        code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
                        message: format!(
                            "{}{}",
                            error
                                .get("message")
                                .and_then(Value::as_str)
                                .unwrap_or("error"),
                            error
                                .get("data")
                                .map(|d| format!(
                                    ": {}",
                                    d.as_str().map(str::to_string).unwrap_or(d.to_string())
                                ))
                                .unwrap_or_default()
                        ),
                    }));
                }
                return Ok(Ok(answer.get("result").cloned().unwrap_or(Value::Null)));
            }
            if answer.get("method").is_some() {
                self.pending.push_back(answer);
            }
        }
    }

    /// Like [`Rpc::call`], with the node's error as an error.
    pub fn request(&mut self, method: &str, params: Value) -> anyhow::Result<Value> {
        self.call(method, params)?.map_err(|e| {
            anyhow::anyhow!(
                "the chain node refused {method}: {} (code {})",
                e.message,
                e.code
            )
        })
    }

    /// The next notification of `subscription`, waiting at most `timeout`.
    pub fn next_notification(
        &mut self,
        subscription: &Value,
        timeout: Duration,
    ) -> anyhow::Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self
                .pending
                .iter()
                .position(|n| n.pointer("/params/subscription") == Some(subscription))
            {
                let n = self.pending.remove(i).unwrap_or(Value::Null);
                return Ok(n.pointer("/params/result").cloned().unwrap_or(Value::Null));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                anyhow::bail!(
                    "no news from the chain node about the transaction for {} s",
                    timeout.as_secs()
                );
            }
            self.set_timeout(left.max(Duration::from_millis(10)));
            let n = self.read()?;
            if n.get("method").is_some() {
                self.pending.push_back(n);
            }
        }
    }
}

impl Drop for Rpc {
    /// Says goodbye properly, so the node does not log a broken connection.
    fn drop(&mut self) {
        let _ = self.socket.close(None);
        let _ = self.socket.flush();
    }
}

/// `0x`-prefixed hex to bytes.
pub fn from_hex(value: &Value, what: &str) -> anyhow::Result<Vec<u8>> {
    let text = value
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("the chain node's {what} is not a string"))?;
    hex::decode(text.strip_prefix("0x").unwrap_or(text))
        .map_err(|_| anyhow::anyhow!("the chain node's {what} is not hex"))
}

pub fn hash32(value: &Value, what: &str) -> anyhow::Result<[u8; 32]> {
    from_hex(value, what)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("the chain node's {what} is not 32 bytes"))
}
