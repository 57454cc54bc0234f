//! The walk over the template (PostgreSQL's `NUM_processor` for `to_char`): each digit
//! pattern takes the next character of the prepared number, writing a space or `0` while
//! the number has not begun, and the sign where the template's sign patterns say.

use super::{Description, Key, LocaleSign, Node, ordinal};

/// The C locale's symbols.
const DECIMAL: &str = ".";
const THOUSANDS: &str = ",";
const CURRENCY: &str = " ";

struct Walk<'a> {
    d: &'a mut Description,
    number: &'a [u8],
    /// The next character of `number` to write.
    number_at: usize,
    out: String,
    sign: u8,
    sign_wrote: bool,
    /// Which digit pattern is being written.
    current: i64,
    count: i64,
    out_pre_spaces: i64,
    /// The last character of `number` worth writing in fill mode.
    last_relevant: Option<usize>,
    /// Whether a digit of the number has been written.
    inside: bool,
}

/// The last non-zero digit after the point, or the point itself.
fn last_relevant_decimal(number: &[u8]) -> Option<usize> {
    let point = number.iter().position(|&b| b == b'.')?;
    let mut result = point;
    for (i, &b) in number.iter().enumerate().skip(point + 1) {
        if b != b'0' {
            result = i;
        }
    }
    Some(result)
}

pub(super) fn process(
    nodes: &[Node],
    d: &mut Description,
    number: &[u8],
    sign: u8,
    out_pre_spaces: i64,
) -> String {
    if d.zero_start > 0 {
        d.zero_start -= 1;
    }
    if d.roman {
        d.lsign = LocaleSign::None;
        d.pre_lsign_num = 0;
        d.post = 0;
        d.pre = 0;
        let fill = d.fill;
        d.decimal = false;
        d.zero = false;
        d.locale_sign = false;
        d.bracket = false;
        d.minus = false;
        d.plus = false;
        d.shift = false;
        d.fill = fill;
    }
    let sign_wrote = if d.plus || d.minus {
        // MI and SG write the sign themselves; with PL alone a minus goes in the number.
        !d.plus || d.minus
    } else {
        if sign != b'-' && d.fill {
            d.bracket = false;
        }
        let wrote = sign == b'+' && d.fill && !d.locale_sign;
        if d.lsign == LocaleSign::Pre && d.pre == d.pre_lsign_num {
            d.lsign = LocaleSign::Post;
        }
        wrote
    };
    let mut count = d.post + d.pre - 1;
    let mut last_relevant = None;
    if d.fill && d.decimal {
        last_relevant = last_relevant_decimal(number);
        if let Some(relevant) = last_relevant
            && d.zero_end > out_pre_spaces
            && !number.is_empty()
        {
            let last_zero = (number.len() as i64 - 1).min(d.zero_end - out_pre_spaces);
            if (relevant as i64) < last_zero {
                last_relevant = Some(last_zero as usize);
            }
        }
    }
    if !sign_wrote && out_pre_spaces == 0 {
        count += 1;
    }
    let mut walk = Walk {
        d,
        number,
        number_at: 0,
        out: String::new(),
        sign,
        sign_wrote,
        current: 0,
        count,
        out_pre_spaces,
        last_relevant,
        inside: false,
    };
    for node in nodes {
        let key = match node {
            Node::Text(c) => {
                walk.out.push(*c);
                continue;
            }
            Node::Key(key) => *key,
        };
        match key {
            Key::Nine | Key::Zero | Key::Dec | Key::D => walk.digit(key),
            Key::Comma | Key::Group => {
                let separator = if key == Key::Comma { "," } else { THOUSANDS };
                if walk.inside {
                    walk.out.push_str(separator);
                } else if !walk.d.fill {
                    walk.out.push_str(&" ".repeat(separator.len()));
                }
            }
            Key::Currency => walk.out.push_str(CURRENCY),
            Key::Roman | Key::RomanLower => {
                let numeral = String::from_utf8_lossy(&walk.number[walk.number_at..]);
                let numeral = if key == Key::RomanLower {
                    numeral.to_lowercase()
                } else {
                    numeral.into_owned()
                };
                if walk.d.fill {
                    walk.out.push_str(&numeral);
                } else {
                    walk.out.push_str(&format!("{numeral:>15}"));
                }
            }
            Key::Th | Key::ThLower => {
                let skip = walk.d.roman
                    || walk.number.first() == Some(&b'#')
                    || walk.sign == b'-'
                    || walk.d.decimal;
                if !skip {
                    walk.out.push_str(ordinal(walk.number, key == Key::Th));
                }
            }
            Key::Minus => {
                if walk.sign == b'-' {
                    walk.out.push('-');
                } else if !walk.d.fill {
                    walk.out.push(' ');
                }
            }
            Key::Plus => {
                if walk.sign == b'+' {
                    walk.out.push('+');
                } else if !walk.d.fill {
                    walk.out.push(' ');
                }
            }
            Key::SignBoth if walk.sign != 0 => walk.out.push(walk.sign as char),
            _ => {}
        }
    }
    walk.out
}

impl Walk<'_> {
    fn at_number(&self) -> Option<u8> {
        self.number.get(self.number_at).copied()
    }

    /// `0.1` under `9.9` is written ` .1`: a lone leading zero before the point is blank.
    fn predecimal_space(&self) -> bool {
        !self.d.zero
            && self.number_at == 0
            && self.number.first() == Some(&b'0')
            && self.d.post != 0
    }

    fn relevant_is_point(&self) -> bool {
        self.last_relevant
            .is_some_and(|at| self.number.get(at) == Some(&b'.'))
    }

    fn write_sign(&mut self) {
        let d = &*self.d;
        let due = self.current >= self.out_pre_spaces || (d.zero && d.zero_start == self.current);
        if self.sign_wrote || !due || (self.predecimal_space() && !self.relevant_is_point()) {
            return;
        }
        if self.d.locale_sign {
            if self.d.lsign == LocaleSign::Pre {
                self.out.push(if self.sign == b'-' { '-' } else { '+' });
                self.sign_wrote = true;
            }
        } else if self.d.bracket {
            self.out.push(if self.sign == b'+' { ' ' } else { '<' });
            self.sign_wrote = true;
        } else if self.sign == b'+' {
            if !self.d.fill {
                self.out.push(' ');
            }
            self.sign_wrote = true;
        } else if self.sign == b'-' {
            self.out.push('-');
            self.sign_wrote = true;
        }
    }

    fn digit(&mut self, key: Key) {
        if self.d.roman {
            return;
        }
        self.write_sign();
        let before_number = self.current < self.out_pre_spaces;
        if before_number && (self.d.zero_start > self.current || !self.d.zero) {
            if !self.d.fill {
                self.out.push(' ');
            }
        } else if self.d.zero && before_number && self.d.zero_start <= self.current {
            self.out.push('0');
            self.inside = true;
        } else {
            if self.at_number() == Some(b'.') {
                if !self.relevant_is_point() || self.d.fill {
                    self.out.push_str(DECIMAL);
                }
            } else if self
                .last_relevant
                .is_some_and(|at| self.number_at > at && key != Key::Zero)
            {
            } else if self.predecimal_space() {
                if !self.d.fill {
                    self.out.push(' ');
                } else if self.relevant_is_point() {
                    self.out.push('0');
                }
            } else if let Some(digit) = self.at_number() {
                self.out.push(digit as char);
                self.inside = true;
            }
            if self.number_at < self.number.len() {
                self.number_at += 1;
            }
        }
        let mut end = self.count + i64::from(self.out_pre_spaces != 0) + i64::from(self.d.decimal);
        if self.last_relevant == Some(self.number_at) {
            end = self.current;
        }
        if self.current + 1 == end {
            if self.sign_wrote && self.d.bracket {
                self.out.push(if self.sign == b'+' { ' ' } else { '>' });
            } else if self.d.locale_sign && self.d.lsign == LocaleSign::Post {
                self.out.push(if self.sign == b'-' { '-' } else { '+' });
            }
        }
        self.current += 1;
    }
}
