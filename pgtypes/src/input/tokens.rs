//! The first half of reading a date or time: cutting the text into typed fields, as
//! PostgreSQL's `ParseDateTime` does, and the words those fields may be.
//!
//! A field is a number (`1997`, `040506.789`), a date with separators (`12/17/1997`,
//! `1999-jan-08`, and also zone names with punctuation such as `america/new_york` or the
//! POSIX `gmt+8`, which only the decoder can tell apart), a time (`07:37:16.5`), a signed
//! zone offset (`-08`, `+05:30`), a word (`dec`, `pst`, `tomorrow`) or a signed special
//! word (`-infinity`). Letters are lower-cased; spaces and other punctuation separate.
//! What the fields mean is decided in `decode`.

/// The longest text read, as PostgreSQL's own limit on a date/time string (MAXDATELEN
/// times a few fields): anything longer is refused before it is cut up.
pub(crate) const MAX_TEXT_BYTES: usize = 256;

/// At most this many fields (PostgreSQL's MAXDATEFIELDS).
const MAX_FIELDS: usize = 25;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Number,
    Date,
    Time,
    /// A signed numeric offset.
    Offset,
    /// A word.
    Word,
    /// A signed word (`-infinity`).
    Special,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Kind,
    pub text: String,
}

/// Cuts `text` into fields; `None` when it holds something no field can start with.
pub(crate) fn tokenize(text: &str) -> Option<Vec<Token>> {
    if text.len() > MAX_TEXT_BYTES {
        return None;
    }
    let bytes = text.as_bytes();
    let mut tokens: Vec<Token> = Vec::new();
    let mut i = 0;
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let mut field = String::new();
        let kind;
        if c.is_ascii_digit() {
            while at(i).is_ascii_digit() {
                field.push(at(i) as char);
                i += 1;
            }
            match at(i) {
                b':' => {
                    kind = Kind::Time;
                    while at(i).is_ascii_digit() || matches!(at(i), b':' | b'.') {
                        field.push(at(i) as char);
                        i += 1;
                    }
                }
                delimiter @ (b'-' | b'/' | b'.') => {
                    field.push(delimiter as char);
                    i += 1;
                    if at(i).is_ascii_digit() {
                        let mut date = delimiter != b'.';
                        while at(i).is_ascii_digit() {
                            field.push(at(i) as char);
                            i += 1;
                        }
                        // Only a second matching delimiter makes a three-part date.
                        if at(i) == delimiter {
                            date = true;
                            while at(i).is_ascii_digit() || at(i) == delimiter {
                                field.push(at(i) as char);
                                i += 1;
                            }
                        }
                        kind = if date { Kind::Date } else { Kind::Number };
                    } else {
                        kind = Kind::Date;
                        while at(i).is_ascii_alphanumeric() || at(i) == delimiter {
                            field.push(at(i).to_ascii_lowercase() as char);
                            i += 1;
                        }
                    }
                }
                _ => kind = Kind::Number,
            }
        } else if c == b'.' {
            field.push('.');
            i += 1;
            while at(i).is_ascii_digit() {
                field.push(at(i) as char);
                i += 1;
            }
            kind = Kind::Number;
        } else if c.is_ascii_alphabetic() {
            while at(i).is_ascii_alphabetic() {
                field.push(at(i).to_ascii_lowercase() as char);
                i += 1;
            }
            // Punctuation after a word makes a date (`dec-17-1997`) or a zone name
            // (`america/new_york`, `gmt+8`, `est5edt`) — unless the word is one of ours,
            // which then stands alone (`j2451187`, `t040506`).
            let joined = match at(i) {
                b'-' | b'/' | b'.' => true,
                b'+' => keyword(&field).is_none(),
                d if d.is_ascii_digit() => keyword(&field).is_none(),
                _ => false,
            };
            if joined {
                kind = Kind::Date;
                while at(i).is_ascii_alphanumeric()
                    || matches!(at(i), b'+' | b'-' | b'/' | b'_' | b'.' | b':')
                {
                    field.push(at(i).to_ascii_lowercase() as char);
                    i += 1;
                }
            } else {
                kind = Kind::Word;
            }
        } else if c == b'+' || c == b'-' {
            field.push(c as char);
            i += 1;
            while at(i).is_ascii_whitespace() {
                i += 1;
            }
            if at(i).is_ascii_digit() {
                kind = Kind::Offset;
                while at(i).is_ascii_digit() || matches!(at(i), b':' | b'.' | b'-') {
                    field.push(at(i) as char);
                    i += 1;
                }
            } else if at(i).is_ascii_alphabetic() {
                kind = Kind::Special;
                while at(i).is_ascii_alphabetic() {
                    field.push(at(i).to_ascii_lowercase() as char);
                    i += 1;
                }
            } else {
                return None;
            }
        } else if c.is_ascii_punctuation() {
            i += 1;
            continue;
        } else {
            return None;
        }
        if tokens.len() == MAX_FIELDS {
            return None;
        }
        tokens.push(Token { kind, text: field });
    }
    Some(tokens)
}

/// What a word means (PostgreSQL's `datetktbl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keyword {
    Reserved(Reserved),
    Month(u32),
    /// A day of the week: read and ignored.
    Weekday,
    Meridian(Meridian),
    Era(bool),
    /// A label for the next number (`j2451187`, `y2001m12d27`).
    Unit(Unit),
    /// `t` between a date and a time.
    IsoTime,
    /// `dst` after a standard zone abbreviation.
    DaylightModifier,
    /// `at`, `on`: noise.
    Ignored,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reserved {
    Now,
    Today,
    Tomorrow,
    Yesterday,
    /// `zulu`, `allballs`: midnight UTC.
    Zulu,
    Epoch,
    Infinity,
    MinusInfinity,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Meridian {
    Am,
    Pm,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Julian,
    /// `t` before a time field.
    Time,
}

pub(crate) fn keyword(word: &str) -> Option<Keyword> {
    use Keyword::*;
    Some(match word {
        "ad" => Era(false),
        "bc" => Era(true),
        "am" => Meridian(self::Meridian::Am),
        "pm" => Meridian(self::Meridian::Pm),
        "allballs" | "zulu" => Reserved(self::Reserved::Zulu),
        "now" => Reserved(self::Reserved::Now),
        "today" => Reserved(self::Reserved::Today),
        "tomorrow" => Reserved(self::Reserved::Tomorrow),
        "yesterday" => Reserved(self::Reserved::Yesterday),
        "epoch" => Reserved(self::Reserved::Epoch),
        "infinity" | "+infinity" => Reserved(self::Reserved::Infinity),
        "-infinity" => Reserved(self::Reserved::MinusInfinity),
        "jan" | "january" => Month(1),
        "feb" | "february" => Month(2),
        "mar" | "march" => Month(3),
        "apr" | "april" => Month(4),
        "may" => Month(5),
        "jun" | "june" => Month(6),
        "jul" | "july" => Month(7),
        "aug" | "august" => Month(8),
        "sep" | "sept" | "september" => Month(9),
        "oct" | "october" => Month(10),
        "nov" | "november" => Month(11),
        "dec" | "december" => Month(12),
        "sun" | "sunday" | "mon" | "monday" | "tue" | "tues" | "tuesday" | "wed" | "weds"
        | "wednesday" | "thu" | "thur" | "thurs" | "thursday" | "fri" | "friday" | "sat"
        | "saturday" => Weekday,
        "y" => Unit(self::Unit::Year),
        "m" => Unit(self::Unit::Month),
        "d" => Unit(self::Unit::Day),
        "h" => Unit(self::Unit::Hour),
        "mm" => Unit(self::Unit::Minute),
        "s" => Unit(self::Unit::Second),
        "j" | "jd" | "julian" => Unit(self::Unit::Julian),
        "t" => IsoTime,
        "dst" => DaylightModifier,
        "at" | "on" => Ignored,
        _ => return None,
    })
}

/// A zone abbreviation of PostgreSQL's `Default` set: seconds east of UTC, and whether
/// it names daylight time. A daylight abbreviation means its summer offset whatever the
/// date, as in PostgreSQL.
pub(crate) fn zone_abbreviation(word: &str) -> Option<(i32, bool)> {
    let hours = |h: i32| h * 3600;
    Some(match word {
        "utc" | "gmt" | "ut" | "z" | "wet" | "uct" => (0, false),
        "est" => (hours(-5), false),
        "edt" => (hours(-4), true),
        "cst" => (hours(-6), false),
        "cdt" => (hours(-5), true),
        "mst" => (hours(-7), false),
        "mdt" => (hours(-6), true),
        "pst" => (hours(-8), false),
        "pdt" => (hours(-7), true),
        "akst" => (hours(-9), false),
        "akdt" => (hours(-8), true),
        "hst" => (hours(-10), false),
        "ast" => (hours(-4), false),
        "adt" => (hours(-3), true),
        "nst" => (-(3 * 3600 + 1800), false),
        "ndt" => (-(2 * 3600 + 1800), true),
        "bst" | "west" | "cest" | "mest" | "eest" => match word {
            "bst" | "west" => (hours(1), true),
            "cest" | "mest" => (hours(2), true),
            _ => (hours(3), true),
        },
        "cet" | "met" => (hours(1), false),
        "eet" | "ist" => (hours(2), false),
        "msk" => (hours(3), false),
        "awst" | "hkt" | "sgt" => (hours(8), false),
        "jst" | "kst" => (hours(9), false),
        "acst" => (9 * 3600 + 1800, false),
        "acdt" => (10 * 3600 + 1800, true),
        "aest" => (hours(10), false),
        "aedt" => (hours(11), true),
        "nzst" => (hours(12), false),
        "nzdt" => (hours(13), true),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(text: &str) -> Vec<(Kind, String)> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn fields_as_postgres_cuts_them() {
        use Kind::*;
        let s = |k: Kind, t: &str| (k, t.to_owned());
        assert_eq!(
            cut("Wed Dec 17 07:37:16.5 1997 PST"),
            [
                s(Word, "wed"),
                s(Word, "dec"),
                s(Number, "17"),
                s(Time, "07:37:16.5"),
                s(Number, "1997"),
                s(Word, "pst")
            ]
        );
        assert_eq!(
            cut("2001-12-27T04:05:06-08"),
            [
                s(Date, "2001-12-27"),
                s(Word, "t"),
                s(Time, "04:05:06"),
                s(Offset, "-08")
            ]
        );
        assert_eq!(cut("1999.008"), [s(Number, "1999.008")]);
        assert_eq!(cut("17.12.1997"), [s(Date, "17.12.1997")]);
        assert_eq!(
            cut("97FEB10 5:32:01PM"),
            [
                s(Number, "97"),
                s(Word, "feb"),
                s(Number, "10"),
                s(Time, "5:32:01"),
                s(Word, "pm")
            ]
        );
        assert_eq!(
            cut("10:51:14 GMT+4 America/New_York"),
            [
                s(Time, "10:51:14"),
                s(Date, "gmt+4"),
                s(Date, "america/new_york")
            ]
        );
        assert_eq!(
            cut("J2452271.5+08"),
            [s(Word, "j"), s(Number, "2452271.5"), s(Offset, "+08")]
        );
        assert_eq!(cut("-infinity"), [s(Special, "-infinity")]);
        assert_eq!(cut("Dec-17-1997"), [s(Date, "dec-17-1997")]);
        assert!(tokenize("12:00 \u{e9}").is_none());
        assert!(tokenize(&"1".repeat(MAX_TEXT_BYTES + 1)).is_none());
    }
}
