//! The service on a serial port: the protocol's frames (COBS, `0x00`) at the profile's
//! or the command's baud rate. A port that fails (a USB gadget unplugged) is reopened
//! every second until it comes back; only a port that cannot be opened at start is an
//! error. Requests are answered one at a time: one that measures (a table measured on
//! request, `Measure`) holds the line until it is done.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serialport::SerialPort;

use super::Service;

/// A partial frame is dropped after the line has been idle this long.
pub const IDLE_DROP: Duration = Duration::from_secs(1);

/// Opens the serial port `path` at `baud`, with the read timeout the loop needs.
pub fn open_serial(path: &str, baud: u32) -> Result<Box<dyn SerialPort>, std::io::Error> {
    serialport::new(path, baud)
        .timeout(Duration::from_millis(100))
        .open()
        .map_err(|e| {
            let e = std::io::Error::from(e);
            std::io::Error::new(e.kind(), format!("cannot open the serial port {path}: {e}"))
        })
}

/// Serves `service` on `port` (the serial port `path`, opened with [`open_serial`])
/// until `stop` is set; a port that fails is reopened every second.
pub fn serve_serial(
    service: &Service,
    mut port: Box<dyn SerialPort>,
    path: &str,
    baud: u32,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        match tabnas_link::serve_stream(&mut port, &mut |r| service.answer(r), stop, IDLE_DROP) {
            Ok(_) => break,
            Err(e) => {
                eprintln!("serial port {path}: {e}; reopening it");
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    if let Ok(p) = open_serial(path, baud) {
                        port = p;
                        break;
                    }
                }
            }
        }
    }
}

/// A new pseudo-terminal pair: the end this agent serves on, and the path of the other
/// end, which a host opens as its serial port.
pub fn open_pty() -> Result<(serialport::TTYPort, String), std::io::Error> {
    let (mut ours, theirs) = serialport::TTYPort::pair().map_err(std::io::Error::from)?;
    ours.set_timeout(Duration::from_millis(100))
        .map_err(std::io::Error::from)?;
    let path = theirs
        .name()
        .ok_or_else(|| std::io::Error::other("the pseudo-terminal has no name"))?;
    // The host opens it; this end keeps it only until then.
    drop(theirs);
    Ok((ours, path))
}

/// Serves on our end of a pseudo-terminal until `stop` is set. While no host has the
/// other end open, reads fail; the loop waits and reads again.
pub fn serve_pty(service: &Service, mut port: serialport::TTYPort, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        if tabnas_link::serve_stream(&mut port, &mut |r| service.answer(r), stop, IDLE_DROP)
            .is_err()
        {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
