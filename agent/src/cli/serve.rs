//! `tabnas-agent serve`: the agent as a service on a serial port and/or HTTP
//! (`docs/serve.md`).

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{bail, Result};
use clap::Args;
use tabnas_agent::service::http::serve_http;
use tabnas_agent::service::serial::{open_pty, open_serial, serve_pty, serve_serial};
use tabnas_agent::service::{Service, SharedProbe};

use super::device::Sources;

/// Flags of `tabnas-agent serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// Serial port to answer the wire protocol on (`pty`: a new pseudo-terminal, whose
    /// path is printed) [default: the profile's service.serial_port].
    #[arg(long)]
    pub serial: Option<String>,
    /// Serial speed [default: the profile's service.baud].
    #[arg(long)]
    pub baud: Option<u32>,
    /// Address to serve HTTP on; loopback unless you give another
    /// [default: the profile's service.http_listen].
    #[arg(long)]
    pub http: Option<String>,
    /// File holding the bearer token that HTTP requests which change something must
    /// carry [default: the profile's service.token_file; without one they are refused].
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Folder of the served searches (the search runs in DIR/search).
    #[arg(long, default_value = "runs/serve")]
    pub run_dir: PathBuf,
    /// Start a search with the profile's settings at once.
    #[arg(long)]
    pub start: bool,
    /// HTTP worker threads.
    #[arg(long, default_value_t = 8)]
    pub http_threads: usize,
}

/// Reads a bearer token: the file's first line, at least 16 characters of printable
/// ASCII without spaces.
fn read_token(path: &Path) -> Result<String> {
    let token = tabnas_link::token::read_token_file(path).map_err(anyhow::Error::msg)?;
    if token.len() < 16 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        bail!(
            "the token in {} must be at least 16 printable characters without spaces \
             (for example: head -c 24 /dev/urandom | base64 > {})",
            path.display(),
            path.display()
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                eprintln!(
                    "warning: the token file {} can be read by other users (chmod 600 it)",
                    path.display()
                );
            }
        }
    }
    Ok(token)
}

fn is_loopback(addr: &str) -> bool {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Runs `tabnas-agent serve` until it is killed.
pub fn serve(args: &ServeArgs) -> Result<()> {
    let (profile, _) = args.sources.profile_and_beta()?;
    let extras = args.sources.service_extras()?;
    let bundle = args.sources.bundle()?;
    let serial = args
        .serial
        .clone()
        .or_else(|| profile.service.serial_port.as_ref().map(|s| s.to_string()));
    let http = args
        .http
        .clone()
        .or_else(|| profile.service.http_listen.as_ref().map(|s| s.to_string()));
    if serial.is_none() && http.is_none() {
        bail!(
            "nothing to serve on: give --serial PATH and/or --http ADDR (or service.serial_port \
             / service.http_listen in the profile)"
        );
    }
    let baud = args.baud.unwrap_or(profile.service.baud);
    if baud == 0 {
        bail!("--baud must be a positive number of bits per second");
    }
    let token_file = args.token_file.clone().or(extras.token_file);
    let token = token_file.as_deref().map(read_token).transpose()?;
    let probe: SharedProbe = args.sources.probe(profile.measurement.threads)?;
    let service = Arc::new(Service::new(bundle, profile, probe, &args.run_dir));
    let info = service.info();
    out!(
        "tabnas-agent serve: bundle {}, board {}, runtime {}, searches in {}",
        info.bundle,
        info.board,
        info.runtime,
        service.search_dir().display()
    );
    let server = match &http {
        Some(addr) => {
            if !is_loopback(addr) && token.is_none() {
                eprintln!(
                    "note: serving on {addr}, beyond this machine, without a token: anyone who \
                     can reach it can read results; nothing can be changed over HTTP"
                );
            }
            let server = serve_http(service.clone(), addr, token.clone(), args.http_threads)?;
            out!(
                "HTTP on http://{} (dashboard at /, endpoints at /openapi.json); changes {}",
                server.addr,
                if token.is_some() {
                    "need the bearer token"
                } else {
                    "refused (no --token-file)"
                }
            );
            Some(server)
        }
        None => None,
    };
    // Every transport is open before a search starts, so that a bad port does not
    // end a search that runs.
    enum Serial {
        Pty(serialport::TTYPort),
        Port(Box<dyn serialport::SerialPort>, String),
    }
    let port = match serial.as_deref() {
        Some("pty") => {
            let (port, path) = open_pty()?;
            out!("serial on {path} (a pseudo-terminal; open it as the host's serial port)");
            Some(Serial::Pty(port))
        }
        Some(path) => {
            let port = open_serial(path, baud)?;
            out!("serial on {path} at {baud} baud");
            Some(Serial::Port(port, path.to_string()))
        }
        None => None,
    };
    if args.start {
        let options = service
            .options_for(&Default::default())
            .map_err(|(_, why)| anyhow::anyhow!(why))?;
        let steps = service
            .start(options)
            .map_err(|(_, why)| anyhow::anyhow!(why))?;
        out!("search started: {steps} steps");
    }
    let stop = AtomicBool::new(false);
    match port {
        Some(Serial::Pty(port)) => serve_pty(&service, port, &stop),
        Some(Serial::Port(port, path)) => serve_serial(&service, port, &path, baud, &stop),
        None => {
            if let Some(server) = server {
                server.join();
            }
        }
    }
    Ok(())
}
