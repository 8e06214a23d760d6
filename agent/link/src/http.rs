//! The HTTP transport: one frame's content per `POST /protocol` (`docs/protocol.md`,
//! "Where the transport delimits messages"), with the bearer token when one is set.

use std::io::Read;
use std::time::Duration;

use crate::error::LinkError;
use crate::transport::Transport;

/// Most bytes of an answer body.
const MAX_BODY: u64 = 64 * 1024;

pub(crate) struct HttpTransport {
    agent: ureq::Agent,
    url: String,
    token: Option<String>,
}

impl HttpTransport {
    pub(crate) fn new(url: &str, token: Option<String>, timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .new_agent();
        Self {
            agent,
            url: url.trim_end_matches('/').to_string(),
            token,
        }
    }
}

impl Transport for HttpTransport {
    fn exchange(&mut self, _id: u32, content: &[u8]) -> Result<Vec<u8>, LinkError> {
        let mut request = self
            .agent
            .post(format!("{}/protocol", self.url))
            .header("Content-Type", "application/octet-stream");
        if let Some(t) = &self.token {
            request = request.header("Authorization", format!("Bearer {t}"));
        }
        let response = request.send(content).map_err(|e| LinkError::Io {
            device: self.url.clone(),
            what: "sending a request",
            source: std::io::Error::other(e.to_string()),
        })?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(MAX_BODY)
            .read_to_end(&mut body)
            .map_err(|e| LinkError::Io {
                device: self.url.clone(),
                what: "reading the answer",
                source: e,
            })?;
        if status != 200 {
            return Err(LinkError::Http {
                device: self.url.clone(),
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        Ok(body)
    }

    fn name(&self) -> &str {
        &self.url
    }
}
