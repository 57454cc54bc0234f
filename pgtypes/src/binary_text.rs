//! `encode(bytea, format)` and `decode(text, format)`: bytes as text in PostgreSQL's
//! three formats, with its rules — `base64` lines broken every 76 characters, whitespace
//! ignored when decoding `base64` and `hex`, `escape` writing NUL, backslash and bytes
//! with the high bit as octal escapes — and its errors.

use crate::error::{Error, Result};

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_LINE_CHARS: usize = 76;

fn invalid(message: impl Into<String>) -> Error {
    Error::new("22023", message)
}

fn unrecognized(format: &str) -> Error {
    invalid(format!("unrecognized encoding: \"{format}\""))
}

pub fn encode(bytes: &[u8], format: &str) -> Result<String> {
    match format.to_ascii_lowercase().as_str() {
        "hex" => Ok(bytes.iter().map(|b| format!("{b:02x}")).collect()),
        "base64" => Ok(encode_base64(bytes)),
        "escape" => Ok(encode_escape(bytes)),
        _ => Err(unrecognized(format)),
    }
}

pub fn decode(text: &str, format: &str) -> Result<Vec<u8>> {
    match format.to_ascii_lowercase().as_str() {
        "hex" => decode_hex(text),
        "base64" => decode_base64(text),
        "escape" => decode_escape(text),
        _ => Err(unrecognized(format)),
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn encode_base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + bytes.len() / 57 + 4);
    let mut line_chars = 0;
    for chunk in bytes.chunks(3) {
        if line_chars == BASE64_LINE_CHARS {
            out.push('\n');
            line_chars = 0;
        }
        let group = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for position in 0..4 {
            if position <= chunk.len() {
                let index = (group >> (18 - 6 * position)) & 0x3f;
                out.push(char::from(BASE64_ALPHABET[index as usize]));
            } else {
                out.push('=');
            }
        }
        line_chars += 4;
    }
    out
}

/// As PostgreSQL's `b64_decode`: once padding has been seen, every later group gives
/// only as many bytes as the padded one did.
fn decode_base64(text: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut group = 0u32;
    let mut in_group = 0;
    // 0: no padding seen; 1 or 2: the bytes a padded group gives.
    let mut end = 0;
    for (offset, c) in text.char_indices() {
        if c.is_ascii() && is_space(c as u8) {
            continue;
        }
        let value = match c {
            '=' => {
                if end == 0 {
                    end = match in_group {
                        2 => 1,
                        3 => 2,
                        _ => {
                            return Err(invalid("unexpected \"=\" while decoding base64 sequence"));
                        }
                    };
                }
                0
            }
            'A'..='Z' => c as u32 - 'A' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 26,
            '0'..='9' => c as u32 - '0' as u32 + 52,
            '+' => 62,
            '/' => 63,
            _ => {
                let symbol: String = text[offset..].chars().take(1).collect();
                return Err(invalid(format!(
                    "invalid symbol \"{symbol}\" found while decoding base64 sequence"
                )));
            }
        };
        group = group << 6 | value;
        in_group += 1;
        if in_group == 4 {
            let bytes = group.to_be_bytes();
            let kept = if end == 0 { 3 } else { end };
            out.extend_from_slice(&bytes[1..1 + kept]);
            group = 0;
            in_group = 0;
        }
    }
    if in_group != 0 {
        return Err(base64_end());
    }
    Ok(out)
}

fn base64_end() -> Error {
    invalid("invalid base64 end sequence")
        .with_hint("Input data is missing padding, is truncated, or is otherwise corrupted.")
}

fn decode_hex(text: &str) -> Result<Vec<u8>> {
    let digit = |c: char| -> Result<u8> {
        c.to_digit(16)
            .map(|d| d as u8)
            .ok_or_else(|| invalid(format!("invalid hexadecimal digit: \"{c}\"")))
    };
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut chars = text
        .chars()
        .filter(|c| !(c.is_ascii() && is_space(*c as u8)));
    while let Some(high) = chars.next() {
        let high = digit(high)?;
        let Some(low) = chars.next() else {
            return Err(invalid("invalid hexadecimal data: odd number of digits"));
        };
        out.push(high << 4 | digit(low)?);
    }
    Ok(out)
}

fn encode_escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b == 0 || b >= 0x80 {
            out.push_str(&format!("\\{b:03o}"));
        } else if b == b'\\' {
            out.push_str("\\\\");
        } else {
            out.push(char::from(b));
        }
    }
    out
}

fn decode_escape(text: &str) -> Result<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
        } else if bytes.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else if let Some(&[a, b, c]) = bytes.get(i + 1..i + 4)
            && (b'0'..=b'3').contains(&a)
            && (b'0'..=b'7').contains(&b)
            && (b'0'..=b'7').contains(&c)
        {
            out.push((a - b'0') << 6 | (b - b'0') << 3 | (c - b'0'));
            i += 4;
        } else {
            return Err(Error::new("22P02", "invalid input syntax for type bytea"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_postgres() {
        // Each expected text is PostgreSQL 15's.
        assert_eq!(encode(b"\x00\xffA\\", "escape").unwrap(), "\\000\\377A\\\\");
        assert_eq!(decode("a\\000b\\\\c", "escape").unwrap(), b"a\x00b\\c");
        assert_eq!(encode(b"\x01\xab", "HEX").unwrap(), "01ab");
        assert_eq!(decode(" 01 AB\n", "hex").unwrap(), b"\x01\xab");
        assert_eq!(encode(b"ab", "base64").unwrap(), "YWI=");
        assert_eq!(encode(b"a", "base64").unwrap(), "YQ==");
        assert_eq!(encode(b"abc", "base64").unwrap(), "YWJj");
        let long = encode(&[b'x'; 60], "base64").unwrap();
        assert_eq!(long.lines().map(str::len).collect::<Vec<_>>(), [76, 4]);
        assert_eq!(decode(&long, "base64").unwrap(), [b'x'; 60]);
        assert_eq!(decode("YW\nI=", "base64").unwrap(), b"ab");
        assert_eq!(decode("YQ==", "base64").unwrap(), b"a");
    }

    #[test]
    fn errors_as_postgres() {
        let message = |r: Result<Vec<u8>>| r.unwrap_err().message;
        assert_eq!(
            message(decode("a\\9", "escape")),
            "invalid input syntax for type bytea"
        );
        assert_eq!(decode("YQ==YQ==", "base64").unwrap(), b"aa");
        assert_eq!(
            message(decode("=", "base64")),
            "unexpected \"=\" while decoding base64 sequence"
        );
        assert_eq!(
            message(decode("abc", "hex")),
            "invalid hexadecimal data: odd number of digits"
        );
        assert_eq!(
            message(decode("zz", "hex")),
            "invalid hexadecimal digit: \"z\""
        );
        assert_eq!(
            message(decode("YQ", "base64")),
            "invalid base64 end sequence"
        );
        assert_eq!(
            message(decode("Y!==", "base64")),
            "invalid symbol \"!\" found while decoding base64 sequence"
        );
        assert_eq!(
            encode(b"", "rot13").unwrap_err().message,
            "unrecognized encoding: \"rot13\""
        );
    }
}
