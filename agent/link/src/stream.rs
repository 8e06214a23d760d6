//! Frames on a byte stream (a serial line): COBS, `0x00` delimiters, at most
//! `MAX_ENCODED_FRAME_LEN` bytes a frame.
//!
//! [`serve_stream`] is a board's loop: it answers every frame exactly once, in order;
//! garbage, oversized frames and frames of another version get the error answer the
//! protocol prescribes, and a partial frame is dropped after an idle gap, so the loop
//! keeps serving whatever a peer sends. [`StreamTransport`] is a host's end: one request
//! out, the answer with the same id back, other frames skipped.

use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tabnas_core::protocol::frame::{read_content, read_id, FrameError};
use tabnas_core::protocol::{Event, FrameReader, Request, Response, MAX_ENCODED_FRAME_LEN};

use crate::error::LinkError;
use crate::reply::{frame_error_reply, Reply};
use crate::transport::Transport;

/// What a [`serve_stream`] loop did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServeStats {
    /// Requests read and answered.
    pub answered: u64,
    /// Frames answered with an error because they could not be read.
    pub refused: u64,
    /// Partial frames dropped after an idle gap.
    pub dropped_partial: u64,
}

/// COBS-encodes `content` and appends the delimiter.
pub fn stream_bytes(content: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; cobs::max_encoding_length(content.len()) + 1];
    let n = cobs::encode(content, &mut out);
    out.truncate(n);
    out.push(0);
    out
}

fn is_idle(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted
    )
}

/// Serves requests on `port` until `stop` is set (checked at every read timeout) or the
/// port fails: each frame is answered by `answer`, or with the protocol's error answer
/// when it cannot be read. A frame left incomplete for `idle` is dropped. `port`'s reads
/// should time out (a serial port's timeout) so that `stop` and `idle` are seen.
pub fn serve_stream<P: Read + Write + ?Sized>(
    port: &mut P,
    answer: &mut dyn FnMut(Request<'_>) -> Reply,
    stop: &AtomicBool,
    idle: Duration,
) -> std::io::Result<ServeStats> {
    let mut reader = FrameReader::new();
    let mut stats = ServeStats::default();
    let mut buf = [0u8; 512];
    let mut last_byte = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let n = match port.read(&mut buf) {
            Ok(0) => {
                // End of stream on this handle (a pty whose other end is not open yet):
                // like a timeout, wait and read again.
                std::thread::sleep(Duration::from_millis(20));
                0
            }
            Ok(n) => n,
            Err(e) if is_idle(&e) => 0,
            Err(e) => return Err(e),
        };
        if n == 0 {
            if reader.in_frame() && last_byte.elapsed() >= idle {
                reader.reset();
                stats.dropped_partial += 1;
            }
            continue;
        }
        last_byte = Instant::now();
        for &b in &buf[..n] {
            let (id, reply) = match reader.push(b) {
                None => continue,
                Some(Event::Frame(content)) => match read_content::<Request<'_>>(content) {
                    Ok((id, request)) => {
                        stats.answered += 1;
                        (id, answer(request))
                    }
                    Err(e) => {
                        stats.refused += 1;
                        let id = match e {
                            FrameError::UnknownVersion { .. } | FrameError::TooLarge => 0,
                            _ => read_id(content).unwrap_or(0),
                        };
                        (id, frame_error_reply(e))
                    }
                },
                Some(Event::Dropped(e)) => {
                    stats.refused += 1;
                    (0, frame_error_reply(e))
                }
            };
            port.write_all(&stream_bytes(&reply.content(id)))?;
            port.flush()?;
        }
    }
    Ok(stats)
}

/// A host's end of a byte stream to a board.
pub struct StreamTransport<P> {
    port: P,
    name: String,
    reader: FrameReader,
    /// How long to wait for an answer.
    pub timeout: Duration,
}

impl<P: Read + Write> StreamTransport<P> {
    /// Talks over `port`, which `name` names in errors; `port`'s reads should time out
    /// (within `timeout`).
    pub fn new(port: P, name: impl Into<String>, timeout: Duration) -> Self {
        Self {
            port,
            name: name.into(),
            reader: FrameReader::new(),
            timeout,
        }
    }

    fn io(&self, what: &'static str, source: std::io::Error) -> LinkError {
        LinkError::Io {
            device: self.name.clone(),
            what,
            source,
        }
    }
}

impl<P: Read + Write + Send> Transport for StreamTransport<P> {
    fn exchange(&mut self, id: u32, content: &[u8]) -> Result<Vec<u8>, LinkError> {
        // A lone delimiter first: the board drops whatever partial frame it holds.
        let mut out = vec![0u8];
        out.extend(stream_bytes(content));
        self.port
            .write_all(&out)
            .and_then(|()| self.port.flush())
            .map_err(|e| self.io("sending a request", e))?;
        let started = Instant::now();
        let mut buf = [0u8; MAX_ENCODED_FRAME_LEN];
        while started.elapsed() < self.timeout {
            let n = match self.port.read(&mut buf) {
                Ok(0) => {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                Ok(n) => n,
                Err(e) if is_idle(&e) => continue,
                Err(e) => return Err(self.io("reading the answer", e)),
            };
            for &b in &buf[..n] {
                if let Some(Event::Frame(c)) = self.reader.push(b) {
                    // Answers to earlier requests that timed out are skipped. A host never
                    // uses id 0, so an error with id 0 is the board's answer to a frame it
                    // could not read: ours, garbled on the line.
                    let garbled = read_id(c) == Some(0)
                        && matches!(
                            read_content::<Response<'_>>(c),
                            Ok((_, Response::Error { .. }))
                        );
                    if read_id(c) == Some(id) || garbled {
                        return Ok(c.to_vec());
                    }
                }
            }
        }
        Err(LinkError::Timeout {
            device: self.name.clone(),
            waited: self.timeout,
        })
    }

    fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use tabnas_core::protocol::frame::encode;
    use tabnas_core::protocol::Response;

    /// A stream whose reads come from a script and whose writes are kept; it stops the
    /// loop when the script is used up.
    struct Script<'s> {
        input: VecDeque<Vec<u8>>,
        output: Vec<u8>,
        stop: &'s AtomicBool,
    }

    impl Read for Script<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match self.input.pop_front() {
                Some(chunk) if chunk.is_empty() => {
                    std::thread::sleep(Duration::from_millis(30));
                    Err(ErrorKind::TimedOut.into())
                }
                Some(mut chunk) => {
                    let n = chunk.len().min(buf.len());
                    buf[..n].copy_from_slice(&chunk[..n]);
                    if n < chunk.len() {
                        self.input.push_front(chunk.split_off(n));
                    }
                    Ok(n)
                }
                None => {
                    self.stop.store(true, Ordering::Relaxed);
                    Err(ErrorKind::TimedOut.into())
                }
            }
        }
    }

    impl Write for Script<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.output.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn frame(id: u32, r: &Request<'_>) -> Vec<u8> {
        let mut buf = [0u8; MAX_ENCODED_FRAME_LEN];
        let n = encode(id, r, &mut buf).unwrap();
        buf[..n].to_vec()
    }

    fn answers(output: &[u8]) -> Vec<(u32, Reply)> {
        let mut reader = FrameReader::new();
        let mut out = Vec::new();
        for &b in output {
            if let Some(Event::Frame(c)) = reader.push(b) {
                let (id, r): (u32, Response<'_>) = read_content(c).unwrap();
                out.push((id, Reply::from_response(r)));
            }
        }
        out
    }

    #[test]
    fn every_frame_is_answered_and_bad_ones_do_not_stop_the_loop() {
        let stop = AtomicBool::new(false);
        let half = frame(3, &Request::Best);
        let mut bad_version = frame(4, &Request::Status);
        bad_version[1] ^= 0x02; // version 1 -> 3 (COBS code byte first)
        let mut script = Script {
            input: VecDeque::from(vec![
                frame(1, &Request::Status),
                vec![0xff, 0x13, 0x00], // garbage: not COBS / not a message
                vec![0x07; 3000],       // oversized ...
                vec![0x00],             // ... up to its delimiter
                half[..half.len() / 2].to_vec(), // a peer that vanishes mid-frame
                vec![],                 // idle
                vec![],
                bad_version,
                frame(2, &Request::Stop),
            ]),
            output: Vec::new(),
            stop: &stop,
        };
        let stats = serve_stream(
            &mut script,
            &mut |r| match r {
                Request::Status => Reply::Started { steps: 1 },
                _ => Reply::Stopped { step: 9 },
            },
            &stop,
            Duration::from_millis(40),
        )
        .unwrap();
        let got = answers(&script.output);
        let codes: Vec<_> = got
            .iter()
            .map(|(id, r)| match r {
                Reply::Error { code, .. } => (*id, format!("{code:?}")),
                other => (*id, other.name().to_string()),
            })
            .collect();
        assert_eq!(
            codes,
            [
                (1, "Started".to_string()),
                (0, "Malformed".to_string()),
                (0, "TooLarge".to_string()),
                (0, "UnknownVersion".to_string()),
                (2, "Stopped".to_string()),
            ]
        );
        assert_eq!(stats.answered, 2);
        assert_eq!(stats.refused, 3);
        assert_eq!(stats.dropped_partial, 1);
    }
}
