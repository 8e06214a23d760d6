//! [`Device`]: a host's client of a board, the same calls over any [`Transport`] (a
//! serial line, or HTTP's `POST /protocol`), and [`DeviceSpec`], how users name a board:
//! `http://HOST:PORT` or a serial path (`/dev/ttyACM0`, `/dev/ttyUSB0@921600`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use tabnas_core::protocol::frame::read_content;
use tabnas_core::protocol::{
    Best, BoardInfo, MeasurementRecord, Request, Response, Status, WireWidths,
};

use crate::error::{LinkError, SpecProblem};
use crate::json::TableJson;
use crate::reply::Reply;
pub use crate::transport::Transport;

/// The default serial speed.
pub const DEFAULT_BAUD: u32 = 115_200;

/// How long a request may take by default (a table measured on request takes a while).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// A board, as a user names it. Its `Debug` form leaves the token out.
#[derive(Clone, PartialEq, Eq)]
pub enum DeviceSpec {
    /// A serial port.
    Serial {
        /// Its path.
        path: String,
        /// Its speed.
        baud: u32,
    },
    /// An agent's HTTP server.
    Http {
        /// Its base URL (`http://127.0.0.1:8080`).
        url: String,
        /// The bearer token for requests that change something.
        token: Option<String>,
    },
}

impl fmt::Debug for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Serial { path, baud } => f
                .debug_struct("Serial")
                .field("path", path)
                .field("baud", baud)
                .finish(),
            Self::Http { url, token } => f
                .debug_struct("Http")
                .field("url", url)
                .field("token", &token.as_ref().map(|_| "<hidden>"))
                .finish(),
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Serial { path, baud } => write!(f, "{path}@{baud}"),
            Self::Http { url, .. } => f.write_str(url),
        }
    }
}

impl FromStr for DeviceSpec {
    type Err = LinkError;

    /// `http://HOST:PORT[/]`, or a serial path with an optional `@BAUD`
    /// (`serial:` in front is accepted).
    fn from_str(s: &str) -> Result<Self, LinkError> {
        let s = s.trim();
        if s.starts_with("https://") {
            return Err(LinkError::Spec {
                spec: s.to_string(),
                problem: SpecProblem::Https,
            });
        }
        if s.starts_with("http://") {
            return Ok(Self::Http {
                url: s.trim_end_matches('/').to_string(),
                token: None,
            });
        }
        let path = s.strip_prefix("serial:").unwrap_or(s);
        let (path, baud) = match path.rsplit_once('@') {
            Some((p, b)) => (
                p,
                b.parse::<u32>()
                    .ok()
                    .filter(|&b| b > 0)
                    .ok_or_else(|| LinkError::Spec {
                        spec: s.to_string(),
                        problem: SpecProblem::Baud(b.to_string()),
                    })?,
            ),
            None => (path, DEFAULT_BAUD),
        };
        if path.is_empty()
            || !(path.starts_with('/') || path.starts_with('.') || path.starts_with("COM"))
        {
            return Err(LinkError::Spec {
                spec: s.to_string(),
                problem: SpecProblem::NoBoard,
            });
        }
        Ok(Self::Serial {
            path: path.to_string(),
            baud,
        })
    }
}

/// A connection to one board.
pub struct Device {
    transport: Box<dyn Transport>,
    next_id: u32,
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("board", &self.transport.name())
            .finish()
    }
}

impl Device {
    /// A client over `transport`.
    pub fn new(transport: Box<dyn Transport>) -> Self {
        Self {
            transport,
            next_id: 1,
        }
    }

    /// Connects to the board `spec` names.
    pub fn open(spec: &DeviceSpec, timeout: Duration) -> Result<Self, LinkError> {
        match spec {
            DeviceSpec::Serial { path, baud } => open_serial(path, *baud, timeout),
            DeviceSpec::Http { url, token } => open_http(url, token.clone(), timeout),
        }
    }

    /// The board, for messages.
    pub fn name(&self) -> &str {
        self.transport.name()
    }

    /// Sends `request`; an `Error` answer becomes [`LinkError::Board`].
    pub fn call(&mut self, request: &Request<'_>) -> Result<Reply, LinkError> {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let mut buf = vec![0u8; tabnas_core::protocol::MAX_FRAME_LEN];
        let n = tabnas_core::protocol::frame::write_content(id, request, &mut buf).map_err(
            |source| LinkError::Frame {
                device: self.name().to_string(),
                source,
            },
        )?;
        let answer = self.transport.exchange(id, &buf[..n])?;
        let (_, response): (u32, Response<'_>) =
            read_content(&answer).map_err(|source| LinkError::Frame {
                device: self.name().to_string(),
                source,
            })?;
        match Reply::from_response(response) {
            Reply::Error { code, detail } => Err(LinkError::Board {
                device: self.name().to_string(),
                code,
                detail,
            }),
            reply => Ok(reply),
        }
    }

    fn unexpected(&self, wanted: &'static str, got: &Reply) -> LinkError {
        LinkError::Unexpected {
            device: self.name().to_string(),
            wanted,
            got: got.name(),
        }
    }

    /// The board, its runtime and the network it measures.
    pub fn info(&mut self) -> Result<BoardInfo, LinkError> {
        match self.call(&Request::Info)? {
            Reply::Info(i) => Ok(i),
            other => Err(self.unexpected("Info", &other)),
        }
    }

    /// The search's phase and progress.
    pub fn status(&mut self) -> Result<Status, LinkError> {
        match self.call(&Request::Status)? {
            Reply::Status(s) => Ok(s),
            other => Err(self.unexpected("Status", &other)),
        }
    }

    /// The best architecture found.
    pub fn best(&mut self) -> Result<Best, LinkError> {
        match self.call(&Request::Best)? {
            Reply::Best(b) => Ok(b),
            other => Err(self.unexpected("Best", &other)),
        }
    }

    /// The best child's ONNX model, read in chunks (started over, up to 3 times, when
    /// the answer changes between chunks).
    pub fn best_onnx(&mut self) -> Result<Vec<u8>, LinkError> {
        'again: for _ in 0..3 {
            let mut model = Vec::new();
            let mut total = None;
            loop {
                let offset = model.len() as u32;
                let (at, size, bytes) = match self.call(&Request::BestOnnx { offset })? {
                    Reply::OnnxChunk {
                        offset,
                        total,
                        bytes,
                    } => (offset, total, bytes),
                    other => return Err(self.unexpected("OnnxChunk", &other)),
                };
                if at != offset || total.is_some_and(|t| t != size) {
                    continue 'again;
                }
                total = Some(size);
                model.extend_from_slice(&bytes);
                if model.len() as u64 >= u64::from(size) || bytes.is_empty() {
                    if model.len() as u64 != u64::from(size) {
                        continue 'again;
                    }
                    return Ok(model);
                }
            }
        }
        Err(LinkError::Inconsistent {
            device: self.name().to_string(),
            what: "the best model changed during 3 reads in a row".to_string(),
        })
    }

    /// The whole latency table, read in chunks like [`Device::best_onnx`].
    pub fn latency_table(&mut self) -> Result<TableJson, LinkError> {
        'again: for _ in 0..3 {
            let mut table: Option<TableJson> = None;
            loop {
                let first = table.as_ref().map_or(0, |t| t.entries.len()) as u16;
                let chunk = match self.call(&Request::LatencyTable { first })? {
                    Reply::TableChunk(c) => c,
                    other => return Err(self.unexpected("TableChunk", &other)),
                };
                let t = table.get_or_insert_with(|| TableJson {
                    total: chunk.total,
                    overhead_us: chunk.overhead_us,
                    scale: chunk.scale,
                    offset_us: chunk.offset_us,
                    entries: Vec::new(),
                });
                if chunk.first != first
                    || chunk.total != t.total
                    || chunk.scale != t.scale
                    || chunk.offset_us != t.offset_us
                    || chunk.overhead_us != t.overhead_us
                {
                    continue 'again;
                }
                t.entries.extend(chunk.entries.iter().copied());
                if t.entries.len() >= usize::from(t.total) || chunk.entries.is_empty() {
                    if t.entries.len() != usize::from(t.total) {
                        continue 'again;
                    }
                    return Ok(table.take().unwrap_or_default());
                }
            }
        }
        Err(LinkError::Inconsistent {
            device: self.name().to_string(),
            what: "the latency table changed during 3 reads in a row".to_string(),
        })
    }

    /// Measures one architecture on the board now.
    pub fn measure(&mut self, widths: &WireWidths) -> Result<MeasurementRecord, LinkError> {
        match self.call(&Request::Measure {
            widths: widths.clone(),
        })? {
            Reply::Measured { record, .. } => Ok(record),
            other => Err(self.unexpected("Measured", &other)),
        }
    }

    /// Starts a search from a packed search configuration; returns its planned steps.
    pub fn start_search(&mut self, config: &[u8]) -> Result<u32, LinkError> {
        match self.call(&Request::StartSearch { config })? {
            Reply::Started { steps } => Ok(steps),
            other => Err(self.unexpected("Started", &other)),
        }
    }

    /// Stops the running search; returns the step it stopped at.
    pub fn stop(&mut self) -> Result<u32, LinkError> {
        match self.call(&Request::Stop)? {
            Reply::Stopped { step } => Ok(step),
            other => Err(self.unexpected("Stopped", &other)),
        }
    }
}

#[cfg(feature = "serial")]
fn open_serial(path: &str, baud: u32, timeout: Duration) -> Result<Device, LinkError> {
    let port = serialport::new(path, baud)
        .timeout(Duration::from_millis(50))
        .open()
        .map_err(|e| LinkError::Io {
            device: path.to_string(),
            what: "opening the serial port",
            source: e.into(),
        })?;
    Ok(Device::new(Box::new(crate::stream::StreamTransport::new(
        port,
        format!("{path}@{baud}"),
        timeout,
    ))))
}

#[cfg(not(feature = "serial"))]
fn open_serial(path: &str, _baud: u32, _timeout: Duration) -> Result<Device, LinkError> {
    Err(LinkError::Spec {
        spec: path.to_string(),
        problem: SpecProblem::NotBuilt {
            feature: "serial",
            what: "serial support",
        },
    })
}

#[cfg(feature = "http-client")]
fn open_http(url: &str, token: Option<String>, timeout: Duration) -> Result<Device, LinkError> {
    Ok(Device::new(Box::new(crate::http::HttpTransport::new(
        url, token, timeout,
    ))))
}

#[cfg(not(feature = "http-client"))]
fn open_http(url: &str, _token: Option<String>, _timeout: Duration) -> Result<Device, LinkError> {
    Err(LinkError::Spec {
        spec: url.to_string(),
        problem: SpecProblem::NotBuilt {
            feature: "http-client",
            what: "HTTP client",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boards_are_named_by_url_or_serial_path() {
        assert_eq!(
            "http://127.0.0.1:8080/".parse::<DeviceSpec>().unwrap(),
            DeviceSpec::Http {
                url: "http://127.0.0.1:8080".into(),
                token: None
            }
        );
        assert_eq!(
            "/dev/ttyACM0@921600".parse::<DeviceSpec>().unwrap(),
            DeviceSpec::Serial {
                path: "/dev/ttyACM0".into(),
                baud: 921_600
            }
        );
        assert_eq!(
            "serial:/dev/pts/3".parse::<DeviceSpec>().unwrap(),
            DeviceSpec::Serial {
                path: "/dev/pts/3".into(),
                baud: DEFAULT_BAUD
            }
        );
        let secret = DeviceSpec::Http {
            url: "http://b".into(),
            token: Some("s3cret-token".into()),
        };
        assert!(!format!("{secret:?}{secret}").contains("s3cret"));
        for bad in ["board1", "/dev/ttyS0@fast", "/dev/ttyS0@0", "https://x", ""] {
            let e = bad.parse::<DeviceSpec>().unwrap_err().to_string();
            assert!(!e.is_empty(), "{bad}");
        }
    }
}
