//! Input text as errors quote it: one line, cut after [`QUOTE_CHARS`] characters, at
//! most [`QUOTE_ITEMS`] texts of a list.

use std::fmt::{self, Write as _};

/// Most characters of input text (a field, a label, a column name) that an error quotes.
pub const QUOTE_CHARS: usize = 80;

/// Most texts of a list (a header's names, the labels) that an error quotes.
pub const QUOTE_ITEMS: usize = 8;

/// Input text as an error quotes it: in backticks, with control characters escaped (the
/// message stays on one line) and cut after [`QUOTE_CHARS`] characters, followed by `…`
/// and the text's whole length. One huge field never makes a huge message.
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('`')?;
        let mut chars = self.0.chars();
        for c in chars.by_ref().take(QUOTE_CHARS) {
            if c.is_control() {
                write!(f, "{}", c.escape_debug())?;
            } else {
                f.write_char(c)?;
            }
        }
        if chars.next().is_some() {
            write!(f, "…` ({} characters)", self.0.chars().count())
        } else {
            f.write_char('`')
        }
    }
}

/// At most [`QUOTE_ITEMS`] texts of a list, each [`Quoted`], then how many more there are.
#[derive(Debug, Clone, Copy)]
pub struct QuotedList<'a>(pub &'a [String]);

impl fmt::Display for QuotedList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, text) in self.0.iter().take(QUOTE_ITEMS).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", Quoted(text))?;
        }
        match self.0.len().saturating_sub(QUOTE_ITEMS) {
            0 => Ok(()),
            more => write!(f, " and {more} more"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_is_cut_after_80_characters_and_kept_on_one_line() {
        assert_eq!(Quoted("a b").to_string(), "`a b`");
        let exact = "é".repeat(QUOTE_CHARS);
        assert_eq!(Quoted(&exact).to_string(), format!("`{exact}`"));
        let long = "é".repeat(QUOTE_CHARS + 1);
        assert_eq!(
            Quoted(&long).to_string(),
            format!("`{}…` (81 characters)", "é".repeat(QUOTE_CHARS))
        );
        assert_eq!(Quoted("a\nb\t\u{0}").to_string(), "`a\\nb\\t\\0`");
        let names: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        assert_eq!(QuotedList(&names[..2]).to_string(), "`0`, `1`");
        assert_eq!(
            QuotedList(&names).to_string(),
            "`0`, `1`, `2`, `3`, `4`, `5`, `6`, `7` and 2 more"
        );
        assert_eq!(QuotedList(&[]).to_string(), "");
    }
}
