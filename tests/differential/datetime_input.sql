-- Date and time text in the forms PostgreSQL reads, and the errors it gives for the rest.
SET TimeZone = 'America/Los_Angeles';
SET DateStyle = 'Postgres, MDY';
SELECT '2000-03-15 08:14:01 GMT+8'::timestamptz, '2000-03-15 02:14:05 MST+7:00'::timestamptz, 'Wed Jul 11 10:51:14 GMT-4 2001'::timestamptz;
SELECT '2000-03-15 08:14:01 GMT+8'::timestamp, 'Feb 10 17:32:01 1997 -0800'::timestamp, '19970210 173201 America/New_York'::timestamptz;
SELECT '20011227 040506.789+08'::timestamptz, '20011227T040506-08'::timestamptz, 'J2452271.5+08'::timestamptz, 'Y2001M12D27H04MM05S06.789-08'::timestamptz;
SELECT '1997.041 17:32:01 UTC'::timestamptz, 'Dec 17 1997 7:37 pm America/New_York'::timestamptz, '17 Dec 1997 07:37:16'::timestamp;
SELECT 'tomorrow EST'::timestamptz = 'tomorrow'::timestamptz + interval '3 hours', 'yesterday 12:34:56'::timestamp = 'yesterday'::timestamp + interval '12:34:56', 'today'::date = current_date;
SELECT '-infinity'::timestamp, 'infinity'::timestamptz, '-infinity'::date, 'epoch'::timestamptz;
SELECT '01 08 1999'::date, '99 01 08'::date, '1999 01 08'::date, 'J2451187'::date, '1999.008'::date, 'January 8, 99 BC'::date;
SELECT '02:03 PST'::time, '11:59:59.99 PM'::time, '2003-03-07 15:36:39 America/New_York'::time, '040506.789+08'::time, 'allballs'::time;
SELECT '15:36:39 America/New_York'::time;
SELECT 'Feb 16 17:32:01 -0097'::timestamp;
SELECT 'Feb 16 17:32:01 5097 BC'::timestamp;
SELECT '19970710 173201 America/Does_not_exist'::timestamptz;
SELECT '294277-01-01 00:00:00'::timestamp;
SELECT '5874898-01-01'::date;
SELECT '0000-01-01'::date;
SELECT '1/18/1999'::date;
SET DateStyle = 'ISO, YMD';
SELECT '97FEB10 5:32:01PM UTC'::timestamp, '97/02/10 17:32:01 UTC'::timestamp, '99 01 08'::date;
SELECT '08-Jan-99'::date;
-- RESET goes back to the session's starting value, not a built-in one.
RESET DateStyle;
SHOW DateStyle;
-- timestamp - timestamp is an interval of days and time.
SELECT timestamp '1997-02-10 17:32:01' - timestamp '1997-01-02', timestamp '1997-01-01' - timestamp '1997-02-10 17:32:01.5';
SELECT timestamptz '1997-02-10 17:32:01+00' - timestamptz '1997-01-02 00:00:00-08';
SELECT timestamp 'infinity' - timestamp '2000-01-01';
