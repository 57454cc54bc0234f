//! `to_char(number, template)`: PostgreSQL's number templates — digits `9` and `0`, the
//! decimal point `.`/`D`, group separators `,`/`G`, signs `S`, `MI`, `PL`, `SG`, `PR`,
//! `FM` fill mode, `L` currency, `V` shift, `EEEE` scientific, `RN` Roman numerals, `TH`
//! ordinal suffixes, quoted text — with PostgreSQL's output, padding and `#` overflow.
//!
//! The value is first written as plain digits rounded to the template's decimal places
//! (each type as PostgreSQL writes it: numeric and integers exactly, float8 to 15
//! significant digits, float4 to 6); then the template is walked once, each pattern
//! taking the next digit, as PostgreSQL's `NUM_processor` does, in the C locale (`D` is
//! `.`, `G` is `,`, `L` is a space).

use crate::error::{Error, Result};
use crate::numeric::Numeric;

/// A number to format.
#[derive(Clone, Copy, Debug)]
pub enum NumberValue<'a> {
    Numeric(&'a Numeric),
    Int(i64),
    Float8(f64),
    Float4(f32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Comma,
    Dec,
    Zero,
    Nine,
    Blank,
    Currency,
    D,
    Eeee,
    FillMode,
    Group,
    Minus,
    Plus,
    Bracket,
    Roman,
    RomanLower,
    SignBoth,
    Sp,
    Sign,
    Th,
    ThLower,
    Shift,
    C,
}

#[derive(Debug)]
enum Node {
    Key(Key),
    Text(char),
}

/// Patterns as PostgreSQL's table lists them: case matters, longest first per letter.
const KEYWORDS: &[(&str, Key)] = &[
    (",", Key::Comma),
    (".", Key::Dec),
    ("0", Key::Zero),
    ("9", Key::Nine),
    ("B", Key::Blank),
    ("C", Key::C),
    ("D", Key::D),
    ("EEEE", Key::Eeee),
    ("FM", Key::FillMode),
    ("G", Key::Group),
    ("L", Key::Currency),
    ("MI", Key::Minus),
    ("PL", Key::Plus),
    ("PR", Key::Bracket),
    ("RN", Key::Roman),
    ("SG", Key::SignBoth),
    ("SP", Key::Sp),
    ("S", Key::Sign),
    ("TH", Key::Th),
    ("V", Key::Shift),
    ("b", Key::Blank),
    ("c", Key::C),
    ("d", Key::D),
    ("eeee", Key::Eeee),
    ("fm", Key::FillMode),
    ("g", Key::Group),
    ("l", Key::Currency),
    ("mi", Key::Minus),
    ("pl", Key::Plus),
    ("pr", Key::Bracket),
    ("rn", Key::RomanLower),
    ("sg", Key::SignBoth),
    ("sp", Key::Sp),
    ("s", Key::Sign),
    ("th", Key::ThLower),
    ("v", Key::Shift),
];

/// The longest template read (PostgreSQL bounds it by its item size).
const MAX_TEMPLATE_CHARS: usize = 1024;

fn parse(template: &str) -> Vec<Node> {
    let mut nodes = Vec::new();
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if let Some((word, key)) = KEYWORDS.iter().find(|(w, _)| rest.starts_with(w)) {
            nodes.push(Node::Key(*key));
            rest = &rest[word.len()..];
        } else if c == '"' {
            rest = &rest[1..];
            let mut chars = rest.char_indices();
            let mut end = rest.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            nodes.push(Node::Text(escaped));
                        }
                    }
                    other => nodes.push(Node::Text(other)),
                }
            }
            rest = &rest[end.min(rest.len())..];
        } else if c == '\\' && rest[1..].starts_with('"') {
            nodes.push(Node::Text('"'));
            rest = &rest[2..];
        } else {
            nodes.push(Node::Text(c));
            rest = &rest[c.len_utf8()..];
        }
    }
    nodes
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LocaleSign {
    None,
    Pre,
    Post,
}

/// What the template asks for (PostgreSQL's `NUMDesc`).
#[derive(Debug)]
struct Description {
    pre: i64,
    post: i64,
    lsign: LocaleSign,
    pre_lsign_num: i64,
    multi: i64,
    zero_start: i64,
    zero_end: i64,
    decimal: bool,
    zero: bool,
    fill: bool,
    locale_sign: bool,
    bracket: bool,
    minus: bool,
    plus: bool,
    roman: bool,
    shift: bool,
    eeee: bool,
}

fn syntax(message: &str) -> Error {
    Error::new("42601", message)
}

fn describe(nodes: &[Node]) -> Result<Description> {
    let mut d = Description {
        pre: 0,
        post: 0,
        lsign: LocaleSign::None,
        pre_lsign_num: 0,
        multi: 0,
        zero_start: 0,
        zero_end: 0,
        decimal: false,
        zero: false,
        fill: false,
        locale_sign: false,
        bracket: false,
        minus: false,
        plus: false,
        roman: false,
        shift: false,
        eeee: false,
    };
    for node in nodes {
        let Node::Key(key) = node else { continue };
        if d.eeee && *key != Key::Eeee {
            return Err(syntax("\"EEEE\" must be the last pattern used"));
        }
        match key {
            Key::Nine | Key::Zero => {
                if d.bracket {
                    let digit = if *key == Key::Nine { "9" } else { "0" };
                    return Err(syntax(&format!("\"{digit}\" must be ahead of \"PR\"")));
                }
                if *key == Key::Zero && !d.zero && !d.decimal {
                    d.zero = true;
                    d.zero_start = d.pre + 1;
                }
                if d.shift {
                    d.multi += 1;
                } else if d.decimal {
                    d.post += 1;
                } else {
                    d.pre += 1;
                }
                if *key == Key::Zero {
                    d.zero_end = d.pre + d.post;
                }
            }
            Key::D | Key::Dec => {
                if d.decimal {
                    return Err(syntax("multiple decimal points"));
                }
                if d.shift {
                    return Err(syntax("cannot use \"V\" and decimal point together"));
                }
                d.decimal = true;
            }
            Key::FillMode => d.fill = true,
            Key::Sign => {
                if d.locale_sign {
                    return Err(syntax("cannot use \"S\" twice"));
                }
                if d.plus || d.minus || d.bracket {
                    return Err(syntax(
                        "cannot use \"S\" and \"PL\"/\"MI\"/\"SG\"/\"PR\" together",
                    ));
                }
                if !d.decimal {
                    d.lsign = LocaleSign::Pre;
                    d.pre_lsign_num = d.pre;
                    d.locale_sign = true;
                } else if d.lsign == LocaleSign::None {
                    d.lsign = LocaleSign::Post;
                    d.locale_sign = true;
                }
            }
            Key::Minus => {
                if d.locale_sign {
                    return Err(syntax("cannot use \"S\" and \"MI\" together"));
                }
                d.minus = true;
            }
            Key::Plus => {
                if d.locale_sign {
                    return Err(syntax("cannot use \"S\" and \"PL\" together"));
                }
                d.plus = true;
            }
            Key::SignBoth => {
                if d.locale_sign {
                    return Err(syntax("cannot use \"S\" and \"SG\" together"));
                }
                d.minus = true;
                d.plus = true;
            }
            Key::Bracket => {
                if d.locale_sign || d.plus || d.minus {
                    return Err(syntax(
                        "cannot use \"PR\" and \"S\"/\"PL\"/\"MI\"/\"SG\" together",
                    ));
                }
                d.bracket = true;
            }
            Key::Roman | Key::RomanLower => d.roman = true,
            Key::Shift => {
                if d.decimal {
                    return Err(syntax("cannot use \"V\" and decimal point together"));
                }
                d.shift = true;
            }
            Key::Eeee => {
                if d.eeee {
                    return Err(syntax("cannot use \"EEEE\" twice"));
                }
                if d.fill || d.locale_sign || d.bracket || d.minus || d.plus || d.roman || d.shift {
                    return Err(syntax("\"EEEE\" is incompatible with other formats")
                        .with_detail(
                            "\"EEEE\" may only be used together with digit and decimal point patterns.",
                        ));
                }
                d.eeee = true;
            }
            _ => {}
        }
    }
    Ok(d)
}

/// `to_char(value, template)`.
pub fn to_char_number(value: NumberValue<'_>, template: &str) -> Result<String> {
    if template.is_empty() || template.chars().count() > MAX_TEMPLATE_CHARS {
        return Ok(String::new());
    }
    let nodes = parse(template);
    let mut d = describe(&nodes)?;
    let (number, sign, out_pre_spaces) = if d.roman {
        (roman(value), 0u8, 0)
    } else if d.eeee {
        let text = scientific(value, d.post);
        if text == "NaN" || text.ends_with("Infinity") {
            let mut filled = vec![b'#'; (d.pre + d.post + 6) as usize];
            filled[0] = b' ';
            if let Some(point) = filled.get_mut(d.pre as usize + 1) {
                *point = b'.';
            }
            return Ok(String::from_utf8_lossy(&filled).into_owned());
        }
        return Ok(if text.starts_with('-') {
            text
        } else {
            format!(" {text}")
        });
    } else {
        plain(value, &mut d)?
    };
    Ok(process(
        &nodes,
        &mut d,
        number.as_bytes(),
        sign,
        out_pre_spaces,
    ))
}

/// The value as plain digits rounded to the template's places, its sign, and how many
/// of the template's integer digits it leaves empty; `#`s when it needs more.
fn plain(value: NumberValue<'_>, d: &mut Description) -> Result<(String, u8, i64)> {
    if d.shift {
        d.pre += d.multi;
    }
    let post = usize::try_from(d.post).unwrap_or(0);
    let text = match value {
        NumberValue::Numeric(numeric) => {
            let shifted = if d.multi > 0 {
                let text = shift_point(&numeric.to_string(), d.multi);
                Numeric::parse(&text).unwrap_or_else(|_| numeric.clone())
            } else {
                numeric.clone()
            };
            shifted.round(post as u16).to_string()
        }
        NumberValue::Int(int) => {
            let shifted = if d.multi > 0 {
                10_i64
                    .checked_pow(d.multi as u32)
                    .and_then(|m| int.checked_mul(m))
                    .ok_or_else(|| Error::new("22003", "bigint out of range"))?
            } else {
                int
            };
            if post > 0 {
                format!("{shifted}.{}", "0".repeat(post))
            } else {
                shifted.to_string()
            }
        }
        NumberValue::Float8(float) => float_text(float, d, 15),
        NumberValue::Float4(float) => float_text(f64::from(float), d, 6),
    };
    let (sign, digits) = match text.strip_prefix('-') {
        Some(digits) => (b'-', digits.to_owned()),
        None => (b'+', text),
    };
    let pre_len = digits.find('.').unwrap_or(digits.len()) as i64;
    if pre_len < d.pre {
        Ok((digits, sign, d.pre - pre_len))
    } else if pre_len > d.pre {
        let mut filled = vec![b'#'; (d.pre + d.post + 1) as usize];
        filled[d.pre as usize] = b'.';
        Ok((String::from_utf8_lossy(&filled).into_owned(), sign, 0))
    } else {
        Ok((digits, sign, 0))
    }
}

/// A float written with at most `max_digits` significant digits, as PostgreSQL's
/// `float8_to_char` trims the decimal places to fit.
fn float_text(value: f64, d: &mut Description, max_digits: i64) -> String {
    let value = if d.multi > 0 {
        value * 10_f64.powi(d.multi as i32)
    } else {
        value
    };
    let integer_digits = format!("{:.0}", value.abs()).len() as i64;
    if integer_digits >= max_digits {
        d.post = 0;
    } else if integer_digits + d.post > max_digits {
        d.post = max_digits - integer_digits;
    }
    format!("{:.*}", d.post as usize, value)
}

fn shift_point(text: &str, places: i64) -> String {
    let (negative, body) = match text.strip_prefix('-') {
        Some(body) => (true, body),
        None => (false, text),
    };
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let mut digits = format!("{whole}{fraction}");
    let point = whole.len() + places as usize;
    while digits.len() < point {
        digits.push('0');
    }
    let (left, right) = digits.split_at(point);
    let sign = if negative { "-" } else { "" };
    if right.is_empty() {
        format!("{sign}{left}")
    } else {
        format!("{sign}{left}.{right}")
    }
}

/// `d.ddde+XX`, as PostgreSQL's `numeric_out_sci` and C's `%e` write it.
fn scientific(value: NumberValue<'_>, post: i64) -> String {
    let post = usize::try_from(post).unwrap_or(0);
    let float = |f: f64| {
        if f.is_nan() {
            return "NaN".to_owned();
        }
        if f.is_infinite() {
            return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
        }
        let text = format!("{f:.post$e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let exponent: i64 = exponent.parse().unwrap_or(0);
        format!(
            "{mantissa}e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.abs()
        )
    };
    let numeric = match value {
        NumberValue::Float8(f) => return float(f),
        NumberValue::Float4(f) => return float(f64::from(f)),
        NumberValue::Int(i) => Numeric::parse(&i.to_string()).unwrap_or_else(|_| Numeric::zero()),
        NumberValue::Numeric(n) => n.clone(),
    };
    if numeric.is_nan() {
        return "NaN".to_owned();
    }
    let text = numeric.to_string();
    if !numeric.is_finite() {
        return text;
    }
    let (negative, body) = match text.strip_prefix('-') {
        Some(body) => (true, body),
        None => (false, text.as_str()),
    };
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let digits = format!("{whole}{fraction}");
    let exponent = match digits.bytes().position(|b| b != b'0') {
        Some(first) => whole.len() as i64 - 1 - first as i64,
        None => 0,
    };
    // The significand: the point moved `exponent` places left, rounded to `post`.
    let significand = if exponent >= 0 {
        let e = exponent as usize;
        let padded = format!("{}{whole}", "0".repeat(e.saturating_sub(whole.len())));
        let split = padded.len() - e;
        format!("{}.{}{fraction}", &padded[..split], &padded[split..])
    } else {
        let e = (-exponent) as usize;
        let moved = format!("{whole}{fraction}");
        let split = whole.len() + e;
        let moved = format!("{moved}{}", "0".repeat(split.saturating_sub(moved.len())));
        format!("{}.{}", &moved[..split], &moved[split..])
    };
    let rounded = Numeric::parse(&significand)
        .map(|n| n.round(post as u16).to_string())
        .unwrap_or(significand);
    let rounded = rounded.trim_start_matches('0');
    let rounded = if rounded.starts_with('.') || rounded.is_empty() {
        format!("0{rounded}")
    } else {
        rounded.to_owned()
    };
    format!(
        "{}{rounded}e{}{:02}",
        if negative { "-" } else { "" },
        if exponent < 0 { '-' } else { '+' },
        exponent.abs()
    )
}

fn roman(value: NumberValue<'_>) -> String {
    let whole = match value {
        NumberValue::Int(i) => Some(i),
        NumberValue::Float8(f) => Some(f.round_ties_even() as i64),
        NumberValue::Float4(f) => Some(f64::from(f).round_ties_even() as i64),
        NumberValue::Numeric(n) => n.round(0).to_string().parse().ok(),
    };
    let Some(mut whole) = whole.filter(|w| (1..=3999).contains(w)) else {
        return "#".repeat(15);
    };
    const NUMERALS: &[(i64, &str)] = &[
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (size, numeral) in NUMERALS {
        while whole >= *size {
            out.push_str(numeral);
            whole -= size;
        }
    }
    out
}

/// The ordinal suffix of the number's last digit (`st`, `nd`, `rd`, `th`; teens `th`).
fn ordinal(number: &[u8], upper: bool) -> &'static str {
    let len = number.len();
    let mut last = number.last().copied().unwrap_or(b'0');
    if len > 1 && number[len - 2] == b'1' {
        last = b'0';
    }
    match (last, upper) {
        (b'1', false) => "st",
        (b'2', false) => "nd",
        (b'3', false) => "rd",
        (_, false) => "th",
        (b'1', true) => "ST",
        (b'2', true) => "ND",
        (b'3', true) => "RD",
        (_, true) => "TH",
    }
}

mod process;
use process::process;

#[cfg(test)]
mod tests;
