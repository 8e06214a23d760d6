//! The service over HTTP/1.1 (`openapi.json` beside this file lists every endpoint): JSON for people,
//! the best model as ONNX, the dashboard page, and `POST /protocol` carrying one frame of
//! the wire protocol per request for programs. Requests that change something need
//! `Authorization: Bearer TOKEN`; an agent started without a token refuses them. The
//! token is never written to a log or accepted in a URL.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use serde::Serialize;
use serde_json::json;
use tabnas_core::protocol::frame::{read_content, read_id, FrameError};
use tabnas_core::protocol::{ErrorCode, Request};
use tabnas_link::frame_error_reply;
use tabnas_link::json::{parse_body, MeasureBody, StartBody, MAX_BODY_BYTES};

use super::{Refusal, Service};

/// The OpenAPI document of these endpoints.
pub const OPENAPI: &str = include_str!("openapi.json");

/// The dashboard page (no build step: one HTML file with its script).
pub const DASHBOARD: &str = include_str!("dashboard.html");

/// Every route: method, path, whether it needs the token.
pub const ROUTES: &[(&str, &str, bool)] = &[
    ("GET", "/", false),
    ("GET", "/openapi.json", false),
    ("GET", "/info", false),
    ("GET", "/status", false),
    ("GET", "/best", false),
    ("GET", "/best.onnx", false),
    ("GET", "/latency-table", false),
    ("GET", "/trace", false),
    ("POST", "/search", true),
    ("POST", "/stop", true),
    ("POST", "/measure", true),
    ("POST", "/protocol", false),
];

/// A running HTTP server.
pub struct HttpServer {
    server: Arc<tiny_http::Server>,
    workers: Vec<JoinHandle<()>>,
    /// The address it listens on.
    pub addr: SocketAddr,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl HttpServer {
    /// Stops accepting and waits for the workers.
    pub fn shutdown(self) {
        for _ in &self.workers {
            self.server.unblock();
        }
        for w in self.workers {
            let _ = w.join();
        }
    }

    /// Waits until the server ends (it does not on its own).
    pub fn join(self) {
        for w in self.workers {
            let _ = w.join();
        }
    }
}

/// Starts serving `service` on `addr` with `threads` workers; `token` guards the
/// requests that change something.
pub fn serve_http(
    service: Arc<Service>,
    addr: &str,
    token: Option<String>,
    threads: usize,
) -> Result<HttpServer, std::io::Error> {
    let server = tiny_http::Server::http(addr)
        .map_err(|e| std::io::Error::other(format!("cannot listen on {addr}: {e}")))?;
    let bound = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| std::io::Error::other(format!("{addr} is not an IP address")))?;
    let server = Arc::new(server);
    let token: Arc<Option<String>> = Arc::new(token);
    let workers = (0..threads.max(1))
        .map(|i| {
            let server = server.clone();
            let service = service.clone();
            let token = token.clone();
            std::thread::Builder::new()
                .name(format!("tabnas-http-{i}"))
                .spawn(move || {
                    while let Ok(request) = server.recv() {
                        handle(&service, token.as_deref(), request);
                    }
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpServer {
        server,
        workers,
        addr: bound,
    })
}

/// A reply to one HTTP request.
struct HttpReply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    challenge: bool,
}

impl HttpReply {
    fn json<T: Serialize>(status: u16, value: &T) -> Self {
        Self {
            status,
            content_type: "application/json",
            body: serde_json::to_vec_pretty(value).unwrap_or_default(),
            challenge: false,
        }
    }

    fn error(status: u16, message: impl Into<String>) -> Self {
        Self::json(status, &json!({ "error": message.into() }))
    }

    fn refusal((code, why): Refusal) -> Self {
        let status = match code {
            ErrorCode::Busy => 409,
            ErrorCode::NoResult => 404,
            ErrorCode::BadRequest | ErrorCode::Malformed | ErrorCode::UnknownVersion => 400,
            ErrorCode::TooLarge => 413,
            ErrorCode::Unsupported => 501,
            ErrorCode::Failed => 500,
        };
        Self::json(
            status,
            &json!({ "error": why, "code": format!("{code:?}") }),
        )
    }

    fn bytes(content_type: &'static str, body: Vec<u8>) -> Self {
        Self {
            status: 200,
            content_type,
            body,
            challenge: false,
        }
    }
}

/// Compares without an early exit, so the time taken does not tell how much matched.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i % b.len().max(1)).copied().unwrap_or(0));
    }
    diff == 0
}

/// Whether `header` (the Authorization value) carries `token`.
fn check_token(token: Option<&str>, header: Option<&str>) -> Result<(), HttpReply> {
    let Some(token) = token else {
        return Err(HttpReply::error(
            403,
            "this agent was started without a token, so nothing can be changed over HTTP: \
             restart it with --token-file FILE (or service.token_file in the profile)",
        ));
    };
    let given = header
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(g) if same_secret(g.as_bytes(), token.as_bytes()) => Ok(()),
        _ => {
            let mut a = HttpReply::error(
                401,
                "this request changes the agent's state: send Authorization: Bearer TOKEN",
            );
            a.challenge = true;
            Err(a)
        }
    }
}

fn handle(service: &Service, token: Option<&str>, mut request: tiny_http::Request) {
    let method = request.method().as_str().to_ascii_uppercase();
    let url = request.url().to_string();
    let path = url.split('?').next().unwrap_or("").to_string();
    let auth = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .map(|h| h.value.as_str().to_string());
    let mut body = Vec::new();
    let read = request
        .as_reader()
        .take(MAX_BODY_BYTES as u64 + 1)
        .read_to_end(&mut body);
    let answer = match read {
        Err(e) => HttpReply::error(400, format!("cannot read the request body: {e}")),
        Ok(_) if body.len() > MAX_BODY_BYTES => {
            HttpReply::error(413, format!("request body over {MAX_BODY_BYTES} bytes"))
        }
        Ok(_) => route(service, token, &method, &path, auth.as_deref(), &body),
    };
    let mut response = tiny_http::Response::from_data(answer.body)
        .with_status_code(answer.status)
        .with_header(header("Content-Type", answer.content_type))
        .with_header(header("Cache-Control", "no-store"));
    if answer.challenge {
        response = response.with_header(header("WWW-Authenticate", "Bearer"));
    }
    let _ = request.respond(response);
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
        .unwrap_or_else(|_| unreachable!("static header names and values are valid"))
}

fn route(
    service: &Service,
    token: Option<&str>,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &[u8],
) -> HttpReply {
    let Some(&(_, _, guarded)) = ROUTES.iter().find(|r| r.0 == method && r.1 == path) else {
        return match ROUTES.iter().find(|r| r.1 == path) {
            Some(_) => HttpReply::error(405, format!("{path} does not take {method}")),
            None => HttpReply::error(
                404,
                format!("no endpoint {path}; GET /openapi.json lists them"),
            ),
        };
    };
    if guarded {
        if let Err(a) = check_token(token, auth) {
            return a;
        }
    }
    match path {
        "/" => HttpReply::bytes("text/html; charset=utf-8", DASHBOARD.as_bytes().to_vec()),
        "/openapi.json" => HttpReply::bytes("application/json", OPENAPI.as_bytes().to_vec()),
        "/info" => HttpReply::json(200, &service.info()),
        "/status" => {
            let live = service.live();
            HttpReply::json(
                200,
                &json!({
                    "status": service.status(),
                    "searches": live.searches,
                    "error": live.error,
                }),
            )
        }
        "/best" => match service.best() {
            Ok(b) => HttpReply::json(
                200,
                &json!({
                    "best": b,
                    "final": b.record.is_some(),
                    "info": service.info(),
                }),
            ),
            Err(r) => HttpReply::refusal(r),
        },
        "/best.onnx" => match service.best_onnx() {
            Ok(m) => HttpReply::bytes("application/octet-stream", m.as_ref().clone()),
            Err(r) => HttpReply::refusal(r),
        },
        "/latency-table" => match service.table(check_token(token, auth).is_ok()) {
            Ok(t) => HttpReply::json(200, &*t),
            Err(r) => HttpReply::refusal(r),
        },
        "/trace" => trace(service),
        "/search" => match parse_body::<StartBody>(body) {
            Ok(b) => match service.options_for(&b).and_then(|o| service.start(o)) {
                Ok(steps) => HttpReply::json(202, &json!({ "steps": steps })),
                Err(r) => HttpReply::refusal(r),
            },
            Err(e) => HttpReply::error(400, e.to_string()),
        },
        "/stop" => HttpReply::json(200, &json!({ "step": service.stop() })),
        "/measure" => match parse_body::<MeasureBody>(body).and_then(|b| b.widths()) {
            Ok(w) => match service.measure(&w) {
                Ok(record) => HttpReply::json(200, &json!({ "widths": w, "record": record })),
                Err(r) => HttpReply::refusal(r),
            },
            Err(e) => HttpReply::error(400, e.to_string()),
        },
        "/protocol" => protocol(service, token, auth, body),
        _ => HttpReply::error(404, format!("no endpoint {path}")),
    }
}

/// One frame's content in, one out; requests that change something need the token.
fn protocol(service: &Service, token: Option<&str>, auth: Option<&str>, body: &[u8]) -> HttpReply {
    let trusted = check_token(token, auth);
    let (id, reply) = match read_content::<Request<'_>>(body) {
        Ok((id, request)) => {
            let guarded = matches!(
                request,
                Request::Measure { .. } | Request::StartSearch { .. } | Request::Stop
            );
            if guarded {
                if let Err(a) = trusted {
                    return a;
                }
            }
            (id, service.answer_as(request, trusted.is_ok()))
        }
        // As on a serial line: a frame too large or of another version is answered
        // with id 0, one whose message cannot be read with its id.
        Err(e @ (FrameError::TooLarge | FrameError::UnknownVersion { .. })) => {
            (0, frame_error_reply(e))
        }
        Err(e) => (read_id(body).unwrap_or(0), frame_error_reply(e)),
    };
    HttpReply::bytes("application/octet-stream", reply.content(id))
}

/// What the dashboard draws.
fn trace(service: &Service) -> HttpReply {
    let live = service.live();
    let info = service.info();
    let best = service.best_of(&live);
    let running = super::is_running(live.phase);
    let answer = live.finished.as_ref().filter(|_| !running).map(|f| {
        json!({
            "widths": f.result.architecture,
            "latency_us": f.result.latency_us,
            "validation_loss": f.result.validation_loss,
            "predicted_us": f.result.predicted_latency_us,
            "probability": f.result.probability,
        })
    });
    HttpReply::json(
        200,
        &json!({
            "board": info.board,
            "runtime": info.runtime,
            "space": info.space,
            "status": service.status_of(&live),
            "searches": live.searches,
            "error": live.error,
            "best": best,
            "answer": answer,
            "policy": live.policy.map(|p| {
                (0..p.shape().layers())
                    .map(|l| p.layer(l).to_vec())
                    .collect::<Vec<_>>()
            }),
            "points": live.points,
            "children": live.children,
            "notes": live.notes,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_whole() {
        assert!(check_token(Some("s3cret"), Some("Bearer s3cret")).is_ok());
        for bad in [
            None,
            Some("Bearer s3cre"),
            Some("Bearer s3cret2"),
            Some("s3cret"),
        ] {
            assert_eq!(check_token(Some("s3cret"), bad).unwrap_err().status, 401);
        }
        assert_eq!(check_token(None, Some("Bearer x")).unwrap_err().status, 403);
    }

    #[test]
    fn every_route_is_in_the_openapi_document() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        for (method, path, guarded) in ROUTES {
            let op = &doc["paths"][path][method.to_ascii_lowercase()];
            assert!(op.is_object(), "{method} {path} is not documented");
            assert_eq!(
                op.get("security").is_some(),
                *guarded,
                "{method} {path}: security"
            );
        }
        let documented: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|p| p.as_object().unwrap().len())
            .sum();
        assert_eq!(
            documented,
            ROUTES.len(),
            "the document lists routes the server lacks"
        );
    }
}
