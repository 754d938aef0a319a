//! One line of an access log: the combined log format (Apache, nginx) and
//! varnishncsa's default, which is the same; the common log format (without
//! referer and user agent) too.
//!
//! `%h %l %u [%d/%b/%Y:%H:%M:%S %z] "%r" %s %b ["%{Referer}i" "%{User-agent}i"]`

/// What a line says about one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Seconds since the epoch, UTC.
    pub time: i64,
    /// The job class: the path's first segment as a scenario name (`/img2img/x?y` → `img2img`; `/` → `root`).
    pub class: String,
    /// That first segment as logged (the class name replaces characters a
    /// name cannot hold, cuts it at 64 and names `/` `root`); at most 80 characters.
    pub segment: String,
    pub status: u16,
}

/// Parses one line, or None if it is not an access log line.
pub fn parse_line(line: &str) -> Option<Entry> {
    let open = line.find('[')?;
    let close = open + line[open..].find(']')?;
    let time = timestamp(&line[open + 1..close])?;
    let rest = &line[close + 1..];
    let q1 = rest.find('"')?;
    let q2 = q1 + 1 + rest[q1 + 1..].find('"')?;
    let request = &rest[q1 + 1..q2];
    let mut parts = request.split_whitespace();
    let (_method, target) = (parts.next()?, parts.next()?);
    let status: u16 = rest[q2 + 1..].split_whitespace().next()?.parse().ok()?;
    if !(100..=599).contains(&status) {
        return None;
    }
    let segment = first_segment(target);
    Some(Entry { time, class: class_of(segment), segment: segment.chars().take(80).collect(), status })
}

/// A line for a connection that closed before a request came: nginx and
/// Apache log it with `"-"` as the request (usually status 400 or 408).
pub fn is_no_request(line: &str) -> bool {
    let Some(open) = line.find('[') else { return false };
    let Some(close) = line[open..].find(']').map(|c| open + c) else { return false };
    timestamp(&line[open + 1..close]).is_some() && line[close + 1..].trim_start().starts_with("\"-\"")
}

/// `10/Oct/2000:13:55:36 -0700` as seconds since the epoch (UTC).
fn timestamp(s: &str) -> Option<i64> {
    let (date, zone) = s.split_once(' ')?;
    let mut f = date.splitn(4, [':', '/']);
    let day: i64 = f.next()?.parse().ok()?;
    let month = match f.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = f.next()?.parse().ok()?;
    let mut hms = f.next()?.split(':');
    let (h, m, sec): (i64, i64, i64) =
        (hms.next()?.parse().ok()?, hms.next()?.parse().ok()?, hms.next()?.parse().ok()?);
    // A log's year has four digits: larger ones would overflow the seconds.
    if !(0..=9999).contains(&year) || !(1..=days_in_month(year, month)).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    // ±hhmm, ASCII only: a byte that is not one must not split a character.
    let zone = zone.as_bytes();
    if zone.len() != 5 || !zone[1..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sign = match zone[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = |i: usize| i64::from(zone[i] - b'0') * 10 + i64::from(zone[i + 1] - b'0');
    let (zh, zm) = (digits(1), digits(3));
    let local = days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec;
    Some(local - sign * (zh * 3600 + zm * 60))
}

/// Days in `month` (1-based) of `year`, Gregorian.
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A request target's first path segment (`/img2img/x?y` → `img2img`, `/` → ``).
fn first_segment(target: &str) -> &str {
    let path = target.split(['?', '#']).next().unwrap_or("");
    let path = path.strip_prefix("http://").or_else(|| path.strip_prefix("https://")).map_or(path, |p| {
        p.find('/').map_or("", |i| &p[i..]) // an absolute-form target: drop the authority
    });
    path.trim_start_matches('/').split('/').next().unwrap_or("")
}

/// The class a first path segment names, made a valid scenario name
/// (letters, digits, `_`, `-`).
fn class_of(first: &str) -> String {
    let name: String = first
        .chars()
        .take(64)
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
        .collect();
    if name.is_empty() { "root".into() } else { name }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_combined_and_common_formats_parse() {
        let combined = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08""#;
        let e = parse_line(combined).expect("combined");
        let segment = "apache_pb.gif".into();
        assert_eq!(e, Entry { time: 971_211_336, class: "apache_pb_gif".into(), segment, status: 200 });
        let common = r#"::1 - - [01/Dec/2026:18:00:00 +0000] "POST /img2img/v2?x=1 HTTP/1.1" 503 282"#;
        let e = parse_line(common).expect("common");
        assert_eq!((e.class.as_str(), e.status), ("img2img", 503));
        assert_eq!(e.time, 1_796_148_000);
    }

    #[test]
    fn broken_lines_are_not_requests() {
        for line in [
            "",
            "GET / HTTP/1.1",
            r#"h - - [32/Dec/2026:18:00:00 +0000] "GET / HTTP/1.1" 200 1"#,
            r#"h - - [01/Foo/2026:18:00:00 +0000] "GET / HTTP/1.1" 200 1"#,
            r#"h - - [01/Dec/2026:18:00:00 +0000] "GET / HTTP/1.1" 999 1"#,
            r#"h - - [01/Dec/2026:18:00:00 +0000] "-" 400 0"#,
            r#"h - - [31/Feb/2023:18:00:00 +0000] "GET / HTTP/1.1" 200 1"#,
            r#"h - - [10/Oct/99999999999999:13:55:36 +0000] "GET / HTTP/1.1" 200 1"#,
            r#"h - - [29/Feb/2023:18:00:00 +0000] "GET / HTTP/1.1" 200 1"#,
            // A zone that is not ASCII (a byte the reader replaced) is not a zone.
            "h - - [10/Oct/2023:13:55:36 +\u{fffd}0] \"GET /a HTTP/1.1\" 200 12",
            "h - - [10/Oct/2023:13:55:36 +0\u{e9}0] \"GET /a HTTP/1.1\" 200 12",
        ] {
            assert_eq!(parse_line(line), None, "{line}");
        }
        assert!(parse_line(r#"h - - [29/Feb/2024:18:00:00 +0000] "GET / HTTP/1.1" 200 1"#).is_some(), "a leap day");
        assert!(is_no_request(r#"h - - [01/Dec/2026:18:00:00 +0000] "-" 408 0 "-" "-""#));
        assert!(!is_no_request(r#"h - - [01/Dec/2026:18:00:00 +0000] "GET / HTTP/1.1" 200 1"#));
        let root = parse_line(r#"h - - [01/Dec/2026:18:00:00 +0000] "GET / HTTP/1.1" 200 1"#).expect("root");
        assert_eq!((root.class.as_str(), root.segment.as_str()), ("root", ""));
    }
}
