//! Bounded reading: a data line longer than [`MAX_LINE_BYTES`] is refused as it streams
//! in, before it is held in memory. Without the bound a file without line breaks
//! (`/dev/zero`, `/dev/urandom`, one enormous line) would be buffered whole, growing
//! without end; with it, memory stays bounded and the error names the file and line.
//! Pipes (a FIFO, `/dev/stdin`) are read as they stream, like regular files.
//!
//! A [`LineBreaks`] log shared with the reader numbers records by the lines of the file
//! (`\n`, `\r\n` and, for CSV, `\r` alone each end one line; blank lines count), whatever
//! a parser above skips or buffers.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read};
use std::sync::{Arc, Mutex, PoisonError};

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

/// What a [`LineLimit`] logging line breaks reports when a record (a quoted field running
/// over lines, as an unclosed quote makes one) grows well past `limit` bytes (twice it and
/// the parser's read-ahead, counted from the record before): it fails as it streams in,
/// not once the record is whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordTooLong {
    /// 1-based line where the record starts.
    pub line: u64,
    /// The limit.
    pub limit: usize,
}

impl fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the record of line {} is longer than {} bytes",
            self.line, self.limit
        )
    }
}

impl std::error::Error for RecordTooLong {}

impl RecordTooLong {
    /// The report inside `e`, if `e` is one.
    pub fn of(e: &io::Error) -> Option<Self> {
        e.get_ref()?.downcast_ref::<Self>().copied()
    }
}

/// Bytes a parser may read ahead of the record it is on (the CSV reader buffers 8 KiB).
const READ_AHEAD: u64 = 64 << 10;

/// The line breaks a [`LineLimit`] has read that no record has passed yet, as byte ranges
/// (`\r\n` is one), so that a record's byte offset gives its line. It holds at most the
/// breaks of one record and of the parser's read-ahead: the reader fails once a record
/// outgrows its limit.
#[derive(Debug, Default)]
pub(crate) struct LineBreaks {
    /// `(start, end)` byte offsets of each break.
    pending: VecDeque<(u64, u64)>,
    passed: u64,
    /// Where the record last asked about starts, and its line.
    record_start: u64,
    record_line: u64,
}

impl LineBreaks {
    /// The 1-based line of a record whose offset is `offset`; offsets must be asked in
    /// increasing order (breaks before one are forgotten). The CSV reader gives a record
    /// the offset where the one before it ended (inside its `\r\n`), so the breaks of
    /// blank lines skipped between them follow on from the offset: they are passed too.
    pub fn line_at(&mut self, offset: u64) -> u64 {
        let mut cursor = offset;
        while let Some(&(start, end)) = self.pending.front() {
            if start < offset || start == cursor {
                self.pending.pop_front();
                self.passed += 1;
                cursor = cursor.max(end);
            } else {
                break;
            }
        }
        self.record_start = cursor;
        self.record_line = self.passed + 1;
        self.record_line
    }

    /// The line where the record after the one last asked about starts: after that
    /// record's first line break and any blank lines (a guess when that record itself ran
    /// over several lines).
    fn next_record_line(&self) -> u64 {
        let mut breaks = self
            .pending
            .iter()
            .skip_while(|(start, _)| *start < self.record_start);
        let mut line = self.record_line;
        if let Some(&(_, mut cursor)) = breaks.next() {
            line += 1;
            for &(start, end) in breaks {
                if start != cursor {
                    break;
                }
                line += 1;
                cursor = end;
            }
        }
        line
    }
}

/// A [`LineBreaks`] log shared between a reader and its caller.
pub(crate) type SharedLineBreaks = Arc<Mutex<LineBreaks>>;

/// The 1-based line of the byte at `offset` in `log` (see [`LineBreaks::line_at`]).
pub(crate) fn line_at(log: &SharedLineBreaks, offset: u64) -> u64 {
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .line_at(offset)
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
    /// The same for a record (with a line-break log only).
    failed_record: Option<RecordTooLong>,
    /// Bytes read so far.
    offset: u64,
    /// Whether the last byte read was `\r`.
    after_cr: bool,
    /// Where line breaks are logged, if asked.
    breaks: Option<SharedLineBreaks>,
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
            failed_record: None,
            offset: 0,
            after_cr: false,
            breaks: None,
        }
    }

    /// The same reader, logging the offset of every line break it reads into `log`.
    pub fn logging_breaks(mut self, log: SharedLineBreaks) -> Self {
        self.breaks = Some(log);
        self
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.failed {
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
        if let Some(e) = self.failed_record {
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
        let n = self.inner.read(buf)?;
        let mut log = self
            .breaks
            .as_ref()
            .map(|l| l.lock().unwrap_or_else(PoisonError::into_inner));
        for &b in &buf[..n] {
            // With `\r` a line break, `\r\n` is one: counted at its `\r`.
            let cr = b == b'\r' && self.cr_ends_line;
            let crlf = b == b'\n' && self.after_cr;
            let ends_line = cr || (b == b'\n' && !crlf);
            self.after_cr = cr;
            if let Some(log) = log.as_mut() {
                if ends_line {
                    log.pending.push_back((self.offset, self.offset + 1));
                } else if crlf {
                    if let Some(last) = log.pending.back_mut().filter(|l| l.1 == self.offset) {
                        last.1 += 1;
                    }
                }
            }
            if ends_line {
                self.line += 1;
            }
            self.offset += 1;
            if b == b'\n' || cr {
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
        // The last record asked about and the one after it may each be `limit` long.
        if let Some(log) = log {
            if self.offset.saturating_sub(log.record_start) > 2 * self.limit as u64 + READ_AHEAD {
                let e = RecordTooLong {
                    line: log.next_record_line(),
                    limit: self.limit,
                };
                self.failed_record = Some(e);
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
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
    fn logged_breaks_number_lines_for_every_line_ending() {
        // (text, cr_ends_line, offset as the CSV reader gives it, expected line): a record
        // after blank lines has the offset where the one before it ended.
        let cases: [(&[u8], bool, u64, u64); 11] = [
            (b"a\nb\nc", true, 0, 1),
            (b"a\nb\nc", true, 2, 2),
            (b"a\nb\nc", true, 4, 3),
            (b"a\r\nb\r\n\r\nc", true, 3, 2),
            (b"a\r\nb\r\n\r\nc", true, 8, 4),
            (b"a\r\nb\r\n\r\nc", true, 6, 4),
            (b"a\rb\rc", true, 4, 3),
            (b"a\rb\rc", false, 4, 1),
            (b"a\n\n\nb", true, 2, 4),
            (b"\n\nb", true, 0, 3),
            (b"\"x\ny\"\nz", true, 6, 3),
        ];
        for (text, cr, offset, line) in cases {
            let log = SharedLineBreaks::default();
            LineLimit::new(text, 10, cr)
                .logging_breaks(log.clone())
                .read_to_end(&mut Vec::new())
                .unwrap();
            assert_eq!(line_at(&log, offset), line, "{:?} at {offset}", text);
        }
        // The line of a too-long line counts `\r` line ends too.
        let e = LineLimit::new(&b"a\rb\rlong"[..], 3, true)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(LineTooLong::of(&e).map(|e| e.line), Some(3));
    }

    #[test]
    fn a_record_outgrowing_the_limit_fails_as_it_streams_in() {
        // Short lines, one record that never ends (an unclosed quote): with a log, the
        // reader fails past the limit and the read-ahead, naming the record's line.
        let log = SharedLineBreaks::default();
        line_at(&log, 0);
        let endless = b"a,b\n\"".chain(io::repeat(b'\n').take(10 << 20));
        let e = LineLimit::new(endless, 1000, true)
            .logging_breaks(log.clone())
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(
            RecordTooLong::of(&e),
            Some(RecordTooLong {
                line: 2,
                limit: 1000
            })
        );
        // Without a log, lines are all that is bounded.
        LineLimit::new(io::repeat(b'\n').take(1 << 20), 1000, true)
            .read_to_end(&mut Vec::new())
            .unwrap();
    }

    #[test]
    fn an_endless_stream_without_line_breaks_ends_in_an_error() {
        // `io::repeat` is `/dev/zero` without a file: it never ends.
        let mut lines = BufReader::new(LineLimit::new(io::repeat(0), MAX_LINE_BYTES, true)).lines();
        let e = lines.next().unwrap().unwrap_err();
        assert_eq!(LineTooLong::of(&e).map(|e| e.line), Some(1));
    }
}
