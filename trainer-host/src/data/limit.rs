//! Bounded reading: a data line longer than [`MAX_LINE_BYTES`] is refused as it streams
//! in, before it is held in memory. Without the bound a file without line breaks
//! (`/dev/zero`, `/dev/urandom`, one enormous line) would be buffered whole, growing
//! without end; with it, memory stays bounded and the error names the file and line.
//! Pipes (a FIFO, `/dev/stdin`) are read as they stream, like regular files.

use std::fmt;
use std::io::{self, Read};

/// Most bytes of one line of a data file (its line break excluded): 1 MiB.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// What a [`LineLimit`] reports (inside an [`io::Error`]) when a line is too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineTooLong {
    /// 1-based line.
    pub line: u64,
    /// The limit.
    pub limit: usize,
}

impl fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} is longer than {} bytes", self.line, self.limit)
    }
}

impl std::error::Error for LineTooLong {}

impl LineTooLong {
    /// The report inside `e`, if `e` is one.
    pub fn of(e: &io::Error) -> Option<Self> {
        e.get_ref()?.downcast_ref::<Self>().copied()
    }
}

/// A reader that fails with [`LineTooLong`] once a line exceeds `limit` bytes.
#[derive(Debug)]
pub(crate) struct LineLimit<R> {
    inner: R,
    limit: usize,
    /// Whether `\r` alone ends a line (the CSV reader's line breaks: `\n`, `\r`, `\r\n`).
    cr_ends_line: bool,
    /// 1-based line being read.
    line: u64,
    /// Bytes of that line so far.
    len: usize,
    /// Set once a line was too long: every later read fails the same way.
    failed: Option<LineTooLong>,
}

impl<R> LineLimit<R> {
    /// Lines of at most `limit` bytes; `cr_ends_line`: `\r` alone ends a line too.
    pub fn new(inner: R, limit: usize, cr_ends_line: bool) -> Self {
        Self {
            inner,
            limit,
            cr_ends_line,
            line: 1,
            len: 0,
            failed: None,
        }
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.failed {
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.line += 1;
                self.len = 0;
            } else if b == b'\r' && self.cr_ends_line {
                self.len = 0;
            } else {
                self.len += 1;
                if self.len > self.limit {
                    let e = LineTooLong {
                        line: self.line,
                        limit: self.limit,
                    };
                    self.failed = Some(e);
                    return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                }
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};

    #[test]
    fn a_long_line_fails_with_its_number_and_short_ones_pass() {
        let text = b"ab\ncd\r\nefgh\n";
        let mut out = Vec::new();
        LineLimit::new(&text[..], 4, true)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, text);
        let e = LineLimit::new(&text[..], 3, true)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(LineTooLong::of(&e), Some(LineTooLong { line: 3, limit: 3 }));
        // `\r` ends a line only where asked.
        let cr = b"abc\rdef\r";
        LineLimit::new(&cr[..], 3, true)
            .read_to_end(&mut Vec::new())
            .unwrap();
        let e = LineLimit::new(&cr[..], 3, false)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(LineTooLong::of(&e).map(|e| e.line), Some(1));
        assert!(LineTooLong::of(&io::Error::other("x")).is_none());
    }

    #[test]
    fn an_endless_stream_without_line_breaks_ends_in_an_error() {
        // `io::repeat` is `/dev/zero` without a file: it never ends.
        let mut lines = BufReader::new(LineLimit::new(io::repeat(0), MAX_LINE_BYTES, true)).lines();
        let e = lines.next().unwrap().unwrap_err();
        assert_eq!(LineTooLong::of(&e).map(|e| e.line), Some(1));
    }
}
