//! `numeric`: arbitrary-precision decimal numbers, as PostgreSQL has them.
//!
//! A finite value is `± 0.d1 d2 … dn × 10^exponent` with base-10 digits, normalized (no
//! leading or trailing zero digits; zero has none). The *display scale* — how many digits
//! after the point to print — is kept apart: `1.50` and `1.5` are equal values with
//! different display scales, as in PostgreSQL. NaN and ±Infinity are values too; NaN sorts
//! above everything and equals itself, as PostgreSQL orders them.
//!
//! Order-preserving encoding (used in keys and, behind the display scale, in rows):
//!
//! ```text
//! -Infinity  01
//! negative   02  !(exponent100 as i32 ^ 0x8000_0000, 4 bytes BE)  !(d+1)…  FF
//! zero       03
//! positive   04   (exponent100 as i32 ^ 0x8000_0000, 4 bytes BE)   (d+1)…  00
//! +Infinity  05
//! NaN        06
//! ```
//!
//! where the digits `d` are base 100 (pairs of decimal digits, aligned so the value is
//! `0.D1 D2 … × 100^exponent100`, first and last pair non-zero), each stored as `d + 1` so
//! that the terminator `00` sorts below every digit; `!` inverts every byte, which turns
//! the order of magnitudes around for negative numbers. Equal values encode equally,
//! whatever their display scale.

use std::cmp::Ordering;
use std::fmt;

/// Limits from PostgreSQL: digits before and after the decimal point.
pub const MAX_INTEGER_DIGITS: i64 = 131_072;
pub const MAX_DISPLAY_SCALE: u16 = 16_383;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    NegativeInfinity,
    Finite,
    PositiveInfinity,
    NaN,
}

#[derive(Clone, Debug)]
pub struct Numeric {
    kind: Kind,
    negative: bool,
    /// Base-10 digits, normalized.
    digits: Vec<u8>,
    /// The value is `0.digits × 10^exponent`.
    exponent: i32,
    display_scale: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NumericError {
    #[error("invalid input syntax for type numeric: \"{0}\"")]
    Syntax(String),
    #[error("value overflows numeric format")]
    Overflow,
    #[error("invalid numeric encoding")]
    Encoding,
}

impl Numeric {
    pub fn zero() -> Self {
        Numeric {
            kind: Kind::Finite,
            negative: false,
            digits: Vec::new(),
            exponent: 0,
            display_scale: 0,
        }
    }

    pub fn nan() -> Self {
        Numeric {
            kind: Kind::NaN,
            ..Self::zero()
        }
    }

    pub fn infinity(negative: bool) -> Self {
        Numeric {
            kind: if negative {
                Kind::NegativeInfinity
            } else {
                Kind::PositiveInfinity
            },
            ..Self::zero()
        }
    }

    pub fn is_nan(&self) -> bool {
        self.kind == Kind::NaN
    }

    pub fn is_finite(&self) -> bool {
        self.kind == Kind::Finite
    }

    pub fn is_zero(&self) -> bool {
        self.kind == Kind::Finite && self.digits.is_empty()
    }

    pub fn display_scale(&self) -> u16 {
        self.display_scale
    }

    /// The same value printed with `scale` digits after the point.
    pub fn with_display_scale(mut self, scale: u16) -> Self {
        self.display_scale = scale;
        self
    }

    /// Builds a finite value from base-10 digits (possibly with leading or trailing
    /// zeros) as `digits × 10^-scale`.
    fn from_parts(
        negative: bool,
        mut digits: Vec<u8>,
        point: i64,
        display_scale: u16,
    ) -> Result<Self, NumericError> {
        let leading = digits.iter().take_while(|&&d| d == 0).count();
        digits.drain(..leading);
        let mut exponent = point - leading as i64;
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Ok(Numeric {
                display_scale,
                ..Self::zero()
            });
        }
        if exponent > MAX_INTEGER_DIGITS
            || exponent < -(i64::from(MAX_DISPLAY_SCALE) + 1) - digits.len() as i64
        {
            return Err(NumericError::Overflow);
        }
        if exponent < i32::MIN as i64 {
            exponent = i32::MIN as i64;
        }
        Ok(Numeric {
            kind: Kind::Finite,
            negative,
            digits,
            exponent: exponent as i32,
            display_scale,
        })
    }

    /// Parses PostgreSQL's text form: `[+-]digits[.digits][e[+-]digits]`, `NaN`,
    /// `[+-]Infinity`, surrounding spaces allowed.
    pub fn parse(text: &str) -> Result<Self, NumericError> {
        let syntax = || NumericError::Syntax(text.to_owned());
        let trimmed = text.trim();
        let lower = trimmed.to_ascii_lowercase();
        match lower.as_str() {
            "nan" => return Ok(Self::nan()),
            "infinity" | "+infinity" | "inf" | "+inf" => return Ok(Self::infinity(false)),
            "-infinity" | "-inf" => return Ok(Self::infinity(true)),
            _ => {}
        }
        let bytes = trimmed.as_bytes();
        let mut i = 0;
        let negative = match bytes.first() {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let mut digits = Vec::new();
        let mut integer_digits = 0i64;
        let mut fraction_digits = 0i64;
        let mut seen_point = false;
        let mut seen_digit = false;
        while i < bytes.len() {
            match bytes[i] {
                b @ b'0'..=b'9' => {
                    digits.push(b - b'0');
                    seen_digit = true;
                    if seen_point {
                        fraction_digits += 1;
                    } else {
                        integer_digits += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                b'_' if seen_digit && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {}
                b'e' | b'E' => break,
                _ => return Err(syntax()),
            }
            i += 1;
        }
        if !seen_digit {
            return Err(syntax());
        }
        let mut exponent_shift = 0i64;
        if i < bytes.len() {
            let rest = &trimmed[i + 1..];
            exponent_shift = rest.parse::<i64>().map_err(|_| syntax())?;
            if exponent_shift.abs() > 1_000_000 {
                return Err(NumericError::Overflow);
            }
        }
        let display_scale = (fraction_digits - exponent_shift).max(0);
        let display_scale = u16::try_from(display_scale)
            .ok()
            .filter(|&s| s <= MAX_DISPLAY_SCALE)
            .ok_or(NumericError::Overflow)?;
        Self::from_parts(
            negative,
            digits,
            integer_digits + exponent_shift,
            display_scale,
        )
    }

    /// `value × 10^-scale`, for integers and fixed-point decimals.
    pub fn from_i128(value: i128, scale: u16) -> Self {
        let negative = value < 0;
        let digits: Vec<u8> = value
            .unsigned_abs()
            .to_string()
            .bytes()
            .map(|b| b - b'0')
            .collect();
        let point = digits.len() as i64 - i64::from(scale);
        Self::from_parts(negative, digits, point, scale).unwrap_or_else(|_| Self::nan())
    }

    /// The value as an integer count of `10^-scale` units, rounded half away from zero as
    /// PostgreSQL rounds; `None` if not finite or out of the `i128` range.
    pub fn to_i128(&self, scale: u16) -> Option<i128> {
        if self.kind != Kind::Finite {
            return None;
        }
        let mut value: i128 = 0;
        let wanted = i64::from(self.exponent) + i64::from(scale);
        if wanted > 39 {
            return None;
        }
        for (i, &digit) in self.digits.iter().enumerate() {
            if i as i64 >= wanted {
                if i as i64 == wanted && digit >= 5 {
                    value = value.checked_add(1)?;
                }
                break;
            }
            value = value.checked_mul(10)?.checked_add(i128::from(digit))?;
        }
        for _ in self.digits.len() as i64..wanted {
            value = value.checked_mul(10)?;
        }
        Some(if self.negative { -value } else { value })
    }

    /// Rounds to `scale` digits after the point (half away from zero) and sets the
    /// display scale to it.
    pub fn round(&self, scale: u16) -> Self {
        if self.kind != Kind::Finite {
            return self.clone();
        }
        let keep = i64::from(self.exponent) + i64::from(scale);
        if keep >= self.digits.len() as i64 {
            return self.clone().with_display_scale(scale);
        }
        if keep < 0 {
            return Self::zero().with_display_scale(scale);
        }
        let mut digits: Vec<u8> = self.digits[..keep as usize].to_vec();
        let mut point = i64::from(self.exponent);
        if self.digits[keep as usize] >= 5 {
            // Carry through the kept digits; a carry out of the first adds a digit.
            let mut i = digits.len();
            loop {
                if i == 0 {
                    digits.insert(0, 1);
                    point += 1;
                    break;
                }
                i -= 1;
                if digits[i] == 9 {
                    digits[i] = 0;
                } else {
                    digits[i] += 1;
                    break;
                }
            }
        }
        Self::from_parts(self.negative, digits, point, scale).unwrap_or_else(|_| Self::nan())
    }

    /// Digits before the point (0 for |value| < 1) and after it, as stored.
    pub fn integer_digits(&self) -> i64 {
        i64::from(self.exponent).max(0)
    }

    pub fn append_key(&self, out: &mut Vec<u8>) {
        match self.kind {
            Kind::NegativeInfinity => out.push(0x01),
            Kind::PositiveInfinity => out.push(0x05),
            Kind::NaN => out.push(0x06),
            Kind::Finite if self.digits.is_empty() => out.push(0x03),
            Kind::Finite => {
                out.push(if self.negative { 0x02 } else { 0x04 });
                let start = out.len();
                // Align to base 100: an odd exponent gets a leading zero digit.
                let (exponent100, lead) = if self.exponent.rem_euclid(2) == 1 {
                    ((self.exponent + 1) / 2, true)
                } else {
                    (self.exponent.div_euclid(2), false)
                };
                out.extend_from_slice(&((exponent100 as u32) ^ 0x8000_0000).to_be_bytes());
                let mut digits = self.digits.iter().copied();
                let mut first = lead;
                loop {
                    let high = if first {
                        first = false;
                        Some(0)
                    } else {
                        digits.next()
                    };
                    let Some(high) = high else { break };
                    let low = digits.next().unwrap_or(0);
                    out.push(high * 10 + low + 1);
                }
                out.push(0x00);
                if self.negative {
                    for byte in &mut out[start..] {
                        *byte = !*byte;
                    }
                }
            }
        }
    }

    /// Decodes a value written by `append_key`; returns it and the bytes it took.
    pub fn decode_key(bytes: &[u8]) -> Result<(Self, usize), NumericError> {
        let tag = *bytes.first().ok_or(NumericError::Encoding)?;
        let simple = |kind| {
            Ok((
                Numeric {
                    kind,
                    ..Self::zero()
                },
                1,
            ))
        };
        match tag {
            0x01 => simple(Kind::NegativeInfinity),
            0x03 => simple(Kind::Finite),
            0x05 => simple(Kind::PositiveInfinity),
            0x06 => simple(Kind::NaN),
            0x02 | 0x04 => {
                let negative = tag == 0x02;
                let flip = |b: u8| if negative { !b } else { b };
                let exponent_bytes: Vec<u8> = bytes
                    .get(1..5)
                    .ok_or(NumericError::Encoding)?
                    .iter()
                    .map(|&b| flip(b))
                    .collect();
                let exponent100 = (u32::from_be_bytes(
                    exponent_bytes
                        .try_into()
                        .map_err(|_| NumericError::Encoding)?,
                ) ^ 0x8000_0000) as i32;
                let mut digits = Vec::new();
                let mut at = 5;
                loop {
                    let byte = flip(*bytes.get(at).ok_or(NumericError::Encoding)?);
                    at += 1;
                    if byte == 0 {
                        break;
                    }
                    let pair = byte
                        .checked_sub(1)
                        .filter(|&p| p < 100)
                        .ok_or(NumericError::Encoding)?;
                    digits.push(pair / 10);
                    digits.push(pair % 10);
                }
                let value = Self::from_parts(negative, digits, i64::from(exponent100) * 2, 0)?;
                // Without its display scale, a decoded value shows every digit it has.
                let scale = (value.digits.len() as i64 - i64::from(value.exponent))
                    .clamp(0, i64::from(MAX_DISPLAY_SCALE));
                Ok((value.with_display_scale(scale as u16), at))
            }
            _ => Err(NumericError::Encoding),
        }
    }

    fn compare_magnitude(&self, other: &Self) -> Ordering {
        self.exponent
            .cmp(&other.exponent)
            .then_with(|| self.digits.cmp(&other.digits))
    }

    fn rank(&self) -> i8 {
        match self.kind {
            Kind::NegativeInfinity => -2,
            Kind::Finite if self.digits.is_empty() => 0,
            Kind::Finite if self.negative => -1,
            Kind::Finite => 1,
            Kind::PositiveInfinity => 2,
            Kind::NaN => 3,
        }
    }
}

impl PartialEq for Numeric {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Numeric {}

impl PartialOrd for Numeric {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Numeric {
    fn cmp(&self, other: &Self) -> Ordering {
        match self.rank().cmp(&other.rank()) {
            Ordering::Equal => match self.rank() {
                1 => self.compare_magnitude(other),
                -1 => other.compare_magnitude(self),
                _ => Ordering::Equal,
            },
            unequal => unequal,
        }
    }
}

impl fmt::Display for Numeric {
    /// PostgreSQL's output: plain notation, exactly `display_scale` digits after the point.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::NaN => return f.write_str("NaN"),
            Kind::PositiveInfinity => return f.write_str("Infinity"),
            Kind::NegativeInfinity => return f.write_str("-Infinity"),
            Kind::Finite => {}
        }
        let rounded = self.round(self.display_scale);
        let mut out = String::new();
        if rounded.negative && !rounded.digits.is_empty() {
            out.push('-');
        }
        let exponent = i64::from(rounded.exponent);
        let digit = |i: i64| -> char {
            if i >= 0 && (i as usize) < rounded.digits.len() {
                char::from(b'0' + rounded.digits[i as usize])
            } else {
                '0'
            }
        };
        if exponent <= 0 || rounded.digits.is_empty() {
            out.push('0');
        } else {
            for i in 0..exponent {
                out.push(digit(i));
            }
        }
        if self.display_scale > 0 {
            out.push('.');
            for i in 0..i64::from(self.display_scale) {
                // The i-th digit after the point is digit `exponent + i` of 0.d1d2…
                out.push(digit(exponent + i));
            }
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Numeric {
        Numeric::parse(text).unwrap()
    }

    #[test]
    fn parse_and_print_like_postgres() {
        for (input, output) in [
            ("0", "0"),
            ("1.50", "1.50"),
            ("-0.0012", "-0.0012"),
            ("  42  ", "42"),
            ("1e3", "1000"),
            ("1.5e-3", "0.0015"),
            ("-0.00", "0.00"),
            (
                "123456789012345678901234567890.123456789",
                "123456789012345678901234567890.123456789",
            ),
            ("NaN", "NaN"),
            ("-infinity", "-Infinity"),
            (".5", "0.5"),
            ("5.", "5"),
        ] {
            assert_eq!(n(input).to_string(), output, "{input}");
        }
        for bad in ["", "abc", "1.2.3", "--1", "1e", "."] {
            assert!(Numeric::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn equal_values_with_different_scales_are_equal_and_encode_equal() {
        let (a, b) = (n("1.50"), n("1.5000"));
        assert_eq!(a, b);
        let (mut ka, mut kb) = (Vec::new(), Vec::new());
        a.append_key(&mut ka);
        b.append_key(&mut kb);
        assert_eq!(ka, kb);
    }

    #[test]
    fn key_order_is_numeric_order() {
        let values = [
            "-Infinity",
            "-1000000",
            "-100.5",
            "-100",
            "-99.99",
            "-1",
            "-0.5",
            "-0.0001",
            "0",
            "0.0001",
            "0.00011",
            "0.5",
            "1",
            "1.05",
            "1.5",
            "9.99",
            "10",
            "99.5",
            "100",
            "1e30",
            "Infinity",
            "NaN",
        ];
        let keys: Vec<Vec<u8>> = values
            .iter()
            .map(|v| {
                let mut key = Vec::new();
                n(v).append_key(&mut key);
                key
            })
            .collect();
        for i in 1..values.len() {
            assert!(
                keys[i - 1] < keys[i],
                "{} should encode below {}",
                values[i - 1],
                values[i]
            );
            assert!(n(values[i - 1]) < n(values[i]));
        }
        for (value, key) in values.iter().zip(&keys) {
            let (decoded, used) = Numeric::decode_key(key).unwrap();
            assert_eq!(used, key.len());
            assert_eq!(decoded, n(value), "{value}");
        }
    }

    #[test]
    fn rounding_and_fixed_point() {
        assert_eq!(n("2.345").round(2).to_string(), "2.35");
        assert_eq!(n("-2.345").round(2).to_string(), "-2.35");
        assert_eq!(n("9.999").round(2).to_string(), "10.00");
        assert_eq!(n("0.004").round(2).to_string(), "0.00");
        assert_eq!(n("12.5").round(0).to_string(), "13");
        assert_eq!(n("-12.345").to_i128(2), Some(-1235));
        assert_eq!(Numeric::from_i128(-1235, 2).to_string(), "-12.35");
        assert_eq!(Numeric::from_i128(0, 3).to_string(), "0.000");
    }
}
