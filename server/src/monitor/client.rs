//! The monitor's HTTP client: one keep-alive HTTP/1.1 connection to the server's HTTP
//! listener, reopened when it breaks. Plain HTTP only, with optional Basic credentials.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;

/// Longest a request may take before the monitor reports the server unreachable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer read (a `/metrics` page with many databases stays far below).
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

pub struct Client {
    /// `host:port` of the listener.
    authority: String,
    authorization: Option<String>,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Client {
    /// A client of `url` (`http://host:port`, a trailing path ignored).
    pub fn new(url: &str, credentials: Option<(&str, &str)>) -> Result<Client, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            format!("unsupported URL \"{url}\": the monitor speaks plain http:// to the listener")
        })?;
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.is_empty() {
            return Err(format!("no host in URL \"{url}\""));
        }
        let authorization = credentials.map(|(user, password)| {
            use base64::Engine;
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            format!("Basic {token}")
        });
        Ok(Client {
            authority: authority.to_owned(),
            authorization,
            sender: None,
        })
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let stream = tokio::net::TcpStream::connect(&self.authority)
            .await
            .map_err(|error| format!("cannot reach {}: {error}", self.authority))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|error| format!("HTTP handshake with {}: {error}", self.authority))?;
        tokio::spawn(async move {
            // Ends when the server closes the connection; the next request reopens it.
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// Sends a request and returns the body of a 2xx answer.
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<String, String> {
        tokio::time::timeout(REQUEST_TIMEOUT, self.request_once(method, path, body))
            .await
            .map_err(|_| format!("{} did not answer {path} in time", self.authority))?
    }

    async fn request_once(
        &mut self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<String, String> {
        let ready = match self.sender.as_mut() {
            Some(sender) => sender.ready().await.is_ok(),
            None => false,
        };
        if !ready {
            self.sender = Some(self.connect().await?);
        }
        let Some(sender) = self.sender.as_mut() else {
            return Err("no connection".into());
        };
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &self.authority);
        if let Some(authorization) = &self.authorization {
            request = request.header(hyper::header::AUTHORIZATION, authorization);
        }
        if body.is_some() {
            request = request.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|error| format!("building the request: {error}"))?;
        let response = match sender.send_request(request).await {
            Ok(response) => response,
            Err(error) => {
                self.sender = None;
                return Err(format!("{path}: {error}"));
            }
        };
        let status = response.status();
        let bytes = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|error| format!("reading {path}: {error}"))?
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if status == StatusCode::UNAUTHORIZED {
            return Err(format!(
                "{path}: the server wants credentials (--user, password in PGPASSWORD)"
            ));
        }
        if !status.is_success() {
            return Err(format!("{path}: {status} {text}"));
        }
        Ok(text)
    }
}
