use super::*;

fn context(order: DateOrder) -> Context {
    Context {
        order,
        zone: Zone::UTC,
        // 2001-02-16 20:38:40 UTC.
        now_unix_micros: 982_355_920 * MICROS_PER_SECOND,
    }
}

fn moment(text: &str, order: DateOrder) -> Moment {
    match decode_date_time(text, &context(order)) {
        Ok(Decoded::Moment(moment)) => moment,
        other => panic!("{text}: {other:?}"),
    }
}

fn ymd(text: &str, order: DateOrder) -> (i64, u32, u32) {
    let m = moment(text, order);
    (m.year, m.month, m.day)
}

fn refusal(text: &str, order: DateOrder) -> Error {
    match decode_date_time(text, &context(order)) {
        Err(refusal) => refusal.into_error("date", text),
        Ok(decoded) => panic!("{text} read as {decoded:?}"),
    }
}

#[test]
fn the_documented_date_forms() {
    use DateOrder::*;
    for text in [
        "January 8, 1999",
        "1999-Jan-08",
        "Jan-08-1999",
        "08-Jan-1999",
        "19990108",
        "990108",
        "1999.008",
        "J2451187",
        "Fri Jan 08 1999",
        "1/8/1999",
        "01 08 1999",
        "01 08 99",
        "1999 01 08",
    ] {
        assert_eq!(ymd(text, Mdy), (1999, 1, 8), "{text}");
    }
    assert_eq!(ymd("1/8/1999", Dmy), (1999, 8, 1));
    assert_eq!(ymd("01/02/03", Mdy), (2003, 1, 2));
    assert_eq!(ymd("01/02/03", Dmy), (2003, 2, 1));
    assert_eq!(ymd("01/02/03", Ymd), (2001, 2, 3));
    assert_eq!(ymd("99 01 08", Ymd), (1999, 1, 8));
    assert_eq!(ymd("99-Jan-08", Ymd), (1999, 1, 8));
    assert_eq!(ymd("08-Jan-99", Mdy), (1999, 1, 8));
    assert_eq!(ymd("17.12.1997", Dmy), (1997, 12, 17));
    assert_eq!(ymd("January 8, 99 BC", Mdy), (-98, 1, 8));
    assert_eq!(ymd("17 Dec 1997", Mdy), (1997, 12, 17));
    assert_eq!(refusal("08-Jan-99", Ymd).code, "22008");
    let wrong_order = refusal("1/18/1999", Dmy);
    assert_eq!(wrong_order.code, "22008");
    assert!(wrong_order.hint.is_some());
    assert_eq!(refusal("Febtober 3", Mdy).code, "22007");
    assert_eq!(refusal("2023-02-29", Mdy).code, "22008");
    assert_eq!(refusal("0000-01-01", Mdy).code, "22008");
}

#[test]
fn timestamps_as_each_style_prints_them_and_the_regression_suite_writes_them() {
    use DateOrder::*;
    let m = moment("Wed Dec 17 07:37:16 1997 PST", Mdy);
    assert_eq!((m.year, m.month, m.day), (1997, 12, 17));
    assert_eq!(m.time_micros, 27_436 * MICROS_PER_SECOND);
    assert_eq!(m.offset_east, -8 * 3600);
    let m = moment("Wed 17 Dec 07:37:16.5 1997", Dmy);
    assert_eq!(m.time_micros, 27_436_500_000);
    assert_eq!(moment("12/17/1997 07:37:16-08", Mdy).offset_east, -8 * 3600);
    assert_eq!(
        moment("19971217T073716", Mdy).time_micros,
        27_436 * MICROS_PER_SECOND
    );
    let m = moment("Dec 17 1997 7:37 pm America/New_York", Mdy);
    assert_eq!(m.time_micros, (19 * 3600 + 37 * 60) * MICROS_PER_SECOND);
    assert_eq!(m.offset_east, -5 * 3600);
    // POSIX zones count west: GMT+8 is eight hours behind.
    assert_eq!(
        moment("2000-03-15 08:14:01 GMT+8", Mdy).offset_east,
        -8 * 3600
    );
    assert_eq!(
        moment("2000-03-15 02:14:05 MST+7:00", Mdy).offset_east,
        -7 * 3600
    );
    assert_eq!(
        moment("Wed Jul 11 10:51:14 GMT-4 2001", Mdy).offset_east,
        4 * 3600
    );
    let m = moment("97FEB10 5:32:01PM UTC", Ymd);
    assert_eq!((m.year, m.month, m.day), (1997, 2, 10));
    assert_eq!(m.time_micros, (17 * 3600 + 32 * 60 + 1) * MICROS_PER_SECOND);
    assert_eq!(ymd("1997.041 17:32:01 UTC", Mdy), (1997, 2, 10));
    let m = moment("20011227 040506.789+08", Mdy);
    assert_eq!((m.time_micros, m.offset_east), (14_706_789_000, 8 * 3600));
    let m = moment("20011227T040506-08", Mdy);
    assert_eq!(
        (m.time_micros, m.offset_east),
        (14_706 * MICROS_PER_SECOND, -8 * 3600)
    );
    let m = moment("J2452271.5+08", Mdy);
    assert_eq!(
        (m.year, m.month, m.day, m.time_micros),
        (2001, 12, 27, 12 * 3600 * MICROS_PER_SECOND)
    );
    let m = moment("Y2001M12D27H04MM05S06.789-08", Mdy);
    assert_eq!(
        (m.year, m.month, m.day, m.time_micros),
        (2001, 12, 27, 14_706_789_000)
    );
    assert_eq!(ymd("tomorrow EST", Mdy), (2001, 2, 17));
    let m = moment("yesterday 12:34:56", Mdy);
    assert_eq!((m.day, m.time_micros), (15, 45_296 * MICROS_PER_SECOND));
    assert_eq!(moment("tomorrow zulu", Mdy).time_micros, 0);
    assert_eq!(
        decode_date_time("-infinity", &context(Mdy)).unwrap(),
        Decoded::MinusInfinity
    );
    let displaced = refusal("Feb 16 17:32:01 -0097", Mdy);
    assert_eq!(displaced.code, "22009");
    let unknown = refusal("19970710 173201 America/Does_not_exist", Mdy);
    assert_eq!(
        unknown.message,
        "time zone \"america/does_not_exist\" not recognized"
    );
    assert_eq!(refusal("12:00 12:00 1999-01-01", Mdy).code, "22007");
}

#[test]
fn times_with_dates_and_zones_checked_and_dropped() {
    let time = |text: &str| decode_time(text, &context(DateOrder::Mdy));
    let hms = |h: i64, m: i64, s: i64| ((h * 60 + m) * 60 + s) * MICROS_PER_SECOND;
    assert_eq!(time("02:03 PST").unwrap(), hms(2, 3, 0));
    assert_eq!(time("11:59:59.99 PM").unwrap(), hms(23, 59, 59) + 990_000);
    assert_eq!(
        time("2003-03-07 15:36:39 America/New_York").unwrap(),
        hms(15, 36, 39)
    );
    assert_eq!(time("040506.789+08").unwrap(), hms(4, 5, 6) + 789_000);
    assert_eq!(time("T040506.789-08").unwrap(), hms(4, 5, 6) + 789_000);
    assert_eq!(time("allballs").unwrap(), 0);
    // A zone with daylight time needs a date to fix its offset.
    assert!(matches!(
        time("15:36:39 America/New_York"),
        Err(Refusal::BadFormat)
    ));
    assert!(matches!(time("25:00"), Err(Refusal::FieldOverflow)));
    assert!(matches!(time("noon"), Err(Refusal::BadFormat)));
}
