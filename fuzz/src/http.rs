//! The agent's HTTP request bodies and the device names users type: the first byte picks
//! which (`0`: `POST /measure`, `1`: `POST /search`, `2`: a `--latency-from` device
//! name), the rest is the text. Whatever parses re-serializes and parses back to the same
//! value, and its checks (`widths()`, `check()`) return without panicking.

use tabnas_link::json::{parse_body, MeasureBody, StartBody};
use tabnas_link::DeviceSpec;

/// Runs one input; true if it was accepted (parsed and checked).
pub fn http_body(data: &[u8]) -> bool {
    let Some((&kind, body)) = data.split_first() else {
        return false;
    };
    match kind % 3 {
        0 => match parse_body::<MeasureBody>(body) {
            Ok(m) => {
                let again: MeasureBody =
                    parse_body(&serde_json::to_vec(&m).expect("serializes")).expect("re-parses");
                assert_eq!(again, m);
                m.widths().is_ok()
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                false
            }
        },
        1 => match parse_body::<StartBody>(body) {
            Ok(s) => {
                let text = serde_json::to_vec(&s).expect("serializes");
                let again: StartBody = parse_body(&text).expect("re-parses");
                // NaN cannot be written in JSON; every other value round-trips.
                if s.target_us.is_none_or(|t| !t.is_nan()) {
                    assert_eq!(again, s);
                }
                s.check().is_ok()
            }
            Err(_) => false,
        },
        _ => {
            let text = String::from_utf8_lossy(body);
            match text.parse::<DeviceSpec>() {
                Ok(spec) => {
                    let shown = spec.to_string();
                    assert!(!shown.is_empty());
                    true
                }
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    false
                }
            }
        }
    }
}
