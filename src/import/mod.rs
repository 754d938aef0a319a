//! Traffic from real logs (`stampede import LOGFILE`): an access log becomes
//! a scenario fragment that replays it: the arrival rate per window as a
//! `steps` profile, the class mix by path, and the observed statuses.
//!
//! Reading is streaming: one line at a time, counts per window and per
//! class, so a log of any length fits in memory as long as its windows do
//! ([`MAX_WINDOWS`]).

mod access_log;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, Read};

pub use access_log::{Entry, parse_line};

/// Windows a fragment may have: each is one `steps` entry of the scenario.
pub const MAX_WINDOWS: u64 = 100_000;
/// A log line longer than this is malformed (no access log writes one).
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// Logged first segments kept per class, to show which paths a class stands for.
pub const PATHS_SHOWN: usize = 4;
/// Above this share of malformed lines, the file is not an access log.
pub const MAX_MALFORMED_SHARE: f64 = 0.1;

/// What a log holds, by window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Traffic {
    /// Seconds since the epoch of the first request.
    pub first: i64,
    pub last: i64,
    pub requests: u64,
    /// Requests by window index from the first request's window.
    pub per_window: BTreeMap<u64, u64>,
    /// Requests by class (the path's first segment).
    pub classes: BTreeMap<String, u64>,
    /// Per class, the first segments logged for it (up to [`PATHS_SHOWN`]),
    /// and whether there were more.
    pub segments: BTreeMap<String, (Vec<String>, bool)>,
    pub statuses: BTreeMap<u16, u64>,
    pub malformed: u64,
    /// The first malformed line's number and text.
    pub first_malformed: Option<(u64, String)>,
}

/// Why a log cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {why}")]
    Read { file: String, why: String },
    #[error("{file}: line {line}: {why}")]
    Line { file: String, line: u64, why: String },
}

/// Reads a log, counting requests per `window_secs` from the first request.
pub fn read(file: &str, input: impl BufRead, window_secs: u64) -> Result<Traffic, ImportError> {
    let mut t = Traffic::default();
    let mut start: Option<i64> = None;
    let mut lineno = 0u64;
    let mut input = input;
    let mut line = Vec::new();
    loop {
        line.clear();
        // Never more than a line's limit in memory, whatever the file holds.
        let limit = MAX_LINE_BYTES as u64 + 2;
        let n = (&mut input).take(limit).read_until(b'\n', &mut line);
        let n = n.map_err(|e| ImportError::Read { file: file.into(), why: e.to_string() })?;
        if n == 0 {
            break;
        }
        lineno += 1;
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        if line.len() > MAX_LINE_BYTES {
            return Err(ImportError::Line {
                file: file.into(),
                line: lineno,
                why: format!("longer than {MAX_LINE_BYTES} bytes: not an access log"),
            });
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches('\r');
        if text.trim().is_empty() {
            continue;
        }
        let Some(e) = parse_line(text) else {
            t.malformed += 1;
            t.first_malformed.get_or_insert_with(|| (lineno, text.chars().take(120).collect()));
            continue;
        };
        let s = *start.get_or_insert(e.time);
        if e.time < s {
            return Err(ImportError::Line {
                file: file.into(),
                line: lineno,
                why: "earlier than the first request: the log is not in time order".into(),
            });
        }
        let w = (e.time - s) as u64 / window_secs;
        if w >= MAX_WINDOWS {
            return Err(ImportError::Line {
                file: file.into(),
                line: lineno,
                why: format!("the log spans more than {MAX_WINDOWS} windows: choose a longer --window"),
            });
        }
        *t.per_window.entry(w).or_default() += 1;
        let (seen, more) = t.segments.entry(e.class.clone()).or_default();
        if !seen.contains(&e.segment) {
            if seen.len() < PATHS_SHOWN { seen.push(e.segment) } else { *more = true }
        }
        *t.classes.entry(e.class).or_default() += 1;
        *t.statuses.entry(e.status).or_default() += 1;
        t.requests += 1;
        // Not max(0, …): a log from before 1970 has negative times.
        t.last = if t.requests == 1 { e.time } else { t.last.max(e.time) };
    }
    t.first = start.unwrap_or(0);
    if t.requests == 0 {
        let why = "no request lines (combined or common log format)";
        return Err(match t.first_malformed.clone() {
            Some((line, text)) => {
                ImportError::Line { file: file.into(), line, why: format!("{why}; this one is not: `{text}`") }
            }
            None => ImportError::Read { file: file.into(), why: why.into() },
        });
    }
    if t.malformed as f64 > MAX_MALFORMED_SHARE * (t.malformed + t.requests) as f64 {
        let (line, text) = t.first_malformed.clone().unwrap_or_default();
        return Err(ImportError::Line {
            file: file.into(),
            line,
            why: format!(
                "{} of {} lines are not in combined or common log format, e.g. `{text}`",
                t.malformed,
                t.malformed + t.requests
            ),
        });
    }
    Ok(t)
}

/// A rate as the scenario format writes it, per second, to 4 significant figures.
fn rate(per_sec: f64) -> String {
    // Decimals for 4 significant figures: one request a day is 0.00001157/s.
    let decimals = if per_sec > 0.0 { (3 - per_sec.log10().floor() as i32).max(0) as usize } else { 0 };
    let mut s = format!("{per_sec:.decimals$}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    format!("{s}/s")
}

impl Traffic {
    /// Windows from the first request's to the last's.
    pub fn windows(&self) -> u64 {
        self.per_window.keys().last().map_or(1, |w| w + 1)
    }
}

/// The scenario fragment replaying `t`.
pub fn fragment(file: &str, t: &Traffic, window_secs: u64) -> String {
    let windows = t.windows();
    let mut out = String::new();
    let o = &mut out;
    let _ = writeln!(o, "# Imported by `stampede import` from {file}: {} requests", t.requests);
    let _ = writeln!(o, "# from epoch second {} to {}, in windows of {window_secs}s.", t.first, t.last);
    let statuses: Vec<String> =
        t.statuses.iter().map(|(s, n)| format!("{s}: {n} ({:.2}%)", *n as f64 * 100.0 / t.requests as f64)).collect();
    let _ = writeln!(o, "# Observed statuses: {}.", statuses.join(", "));
    if t.malformed > 0 {
        let _ = writeln!(o, "# Lines skipped as malformed: {}.", t.malformed);
    }
    let _ = writeln!(o, "# Add a [pool] and give each class below a pool and a service time.\n");
    let stem = std::path::Path::new(file).file_stem().map_or("imported".into(), |s| s.to_string_lossy().into_owned());
    let name: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
    let _ = writeln!(o, "[scenario]\nname = \"{name}\"");
    let _ = writeln!(o, "duration = \"{}s\"\nwindow = \"{window_secs}s\"\n", windows * window_secs);
    for class in t.classes.keys() {
        // A class stands for every path whose first segment gives its name:
        // say which, when one is not the name itself (`load` sends /<class>).
        if let Some((seen, more)) = t.segments.get(class).filter(|(seen, _)| seen.iter().any(|s| s != class)) {
            let paths: Vec<String> = seen.iter().map(|s| format!("/{s}")).collect();
            let more = if *more { " and more" } else { "" };
            let _ = writeln!(
                o,
                "# Logged as {}{more}: a class name holds letters, digits, '_' and '-' only, and load sends /{class}.",
                paths.join(", ")
            );
        }
        let _ = writeln!(
            o,
            "[class.{class}]\n# pool = \"...\"\n# service = {{ dist = \"lognormal\", median = \"...\", p99 = \"...\" }}\n"
        );
    }
    let _ = writeln!(o, "[swarm.imported]");
    let shares: Vec<String> =
        t.classes.iter().map(|(c, n)| format!("{c} = {}", *n as f64 / t.requests as f64)).collect();
    if t.classes.len() == 1 {
        let _ = writeln!(o, "class = \"{}\"", t.classes.keys().next().map_or("", |c| c.as_str()));
    } else {
        let _ = writeln!(o, "mix = {{ {} }}", shares.join(", "));
    }
    let _ = writeln!(o, "arrivals = {{ process = \"steps\", steps = [");
    let mut last: Option<u64> = None;
    for w in 0..windows {
        let n = t.per_window.get(&w).copied().unwrap_or(0);
        if last == Some(n) {
            continue; // the rate holds until the next step
        }
        let _ =
            writeln!(o, "    {{ at = \"{}s\", rate = \"{}\" }},", w * window_secs, rate(n as f64 / window_secs as f64));
        last = Some(n);
    }
    let _ = writeln!(o, "] }}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
10.0.0.1 - - [01/Dec/2026:18:00:00 +0000] \"POST /img2img HTTP/1.1\" 200 1024 \"-\" \"curl/8\"
10.0.0.2 - - [01/Dec/2026:18:00:30 +0000] \"POST /txt2img?seed=4 HTTP/1.1\" 200 1024 \"-\" \"curl/8\"
10.0.0.3 - - [01/Dec/2026:18:01:10 +0000] \"POST /img2img HTTP/1.1\" 503 282 \"-\" \"curl/8\"
10.0.0.3 - - [01/Dec/2026:18:03:59 +0000] \"POST /img2img HTTP/1.1\" 200 1024
";

    #[test]
    fn a_log_becomes_windows_classes_and_statuses() {
        let t = read("access.log", LOG.as_bytes(), 60).expect("reads");
        assert_eq!(t.requests, 4);
        assert_eq!(t.per_window, BTreeMap::from([(0, 2), (1, 1), (3, 1)]));
        assert_eq!(t.classes["img2img"], 3);
        assert_eq!(t.statuses[&503], 1);
        let f = fragment("access.log", &t, 60);
        assert!(f.contains("duration = \"240s\""), "{f}");
        assert!(f.contains("{ at = \"0s\", rate = \"0.03333/s\" }"), "{f}");
        assert!(f.contains("{ at = \"120s\", rate = \"0/s\" }"), "a quiet window is a step to zero: {f}");
        assert!(f.contains("mix = { img2img = 0.75, txt2img = 0.25 }"), "{f}");
    }

    /// Rates keep four significant figures, however small: one request a
    /// day is not rounded to a step of 0.000001/s.
    #[test]
    fn rates_keep_four_significant_figures() {
        assert_eq!(rate(1.0 / 86_400.0), "0.00001157/s");
        assert_eq!(rate(2.0), "2/s");
        assert_eq!(rate(1234.5678), "1235/s");
        assert_eq!(rate(0.5), "0.5/s");
        assert_eq!(rate(0.0), "0/s");
    }

    #[test]
    fn a_file_that_is_not_an_access_log_is_refused_with_its_first_bad_line() {
        let err = read("notes.txt", "hello\nworld\n".as_bytes(), 60).expect_err("not a log").to_string();
        assert!(err.starts_with("notes.txt: line 1: no request lines") && err.ends_with("not: `hello`"), "{err}");
        let err = read("empty.log", "".as_bytes(), 60).expect_err("empty").to_string();
        assert_eq!(err, "empty.log: no request lines (combined or common log format)");
        let good: String =
            (10..19).map(|s| format!("h - - [01/Dec/2026:18:04:{s} +0000] \"GET /a HTTP/1.1\" 200 1\n")).collect();
        let mixed = format!("{LOG}{good}garbage\n");
        let t = read("a.log", mixed.as_bytes(), 60).expect("one bad line in fourteen is tolerated");
        assert_eq!((t.malformed, t.first_malformed), (1, Some((14, "garbage".to_string()))));
        let bad = format!("{LOG}x\ny\nz\n");
        let err = read("b.log", bad.as_bytes(), 60).expect_err("too many").to_string();
        assert!(err.starts_with("b.log: line 5: 3 of 7 lines"), "{err}");
    }

    #[test]
    fn an_endless_line_is_refused_without_reading_it_whole() {
        let endless = std::io::repeat(b'x').take(10 * MAX_LINE_BYTES as u64);
        let err = read("blob", std::io::BufReader::new(endless), 60).expect_err("too long").to_string();
        assert!(err.starts_with("blob: line 1: longer than 65536 bytes"), "{err}");
    }

    #[test]
    fn paths_that_share_a_class_name_are_named_and_times_before_1970_hold() {
        let line =
            |when: &str, path: &str| format!("h - - [10/Oct/1969:13:55:{when} +0000] \"POST {path} HTTP/1.1\" 200 1\n");
        let log: String = [("01", "/a.b"), ("02", "/a_b/x"), ("03", "/"), ("04", "/root"), ("05", "/img")]
            .map(|(w, p)| line(w, p))
            .concat();
        let t = read("old.log", log.as_bytes(), 60).expect("reads");
        assert_eq!(t.classes, BTreeMap::from([("a_b".into(), 2), ("img".into(), 1), ("root".into(), 2)]));
        let f = fragment("old.log", &t, 60);
        assert!(f.contains("# Logged as /a.b, /a_b: a class name holds"), "{f}");
        assert!(f.contains("# Logged as /, /root: "), "{f}");
        assert!(!f.contains("Logged as /img"), "a class named as logged needs no word: {f}");
        // The last request's time, not 0: before 1970 times are negative.
        assert!(t.first < 0);
        assert!(f.contains(&format!("# from epoch second {} to {},", t.first, t.first + 4)), "{f}");
    }

    #[test]
    fn out_of_order_lines_are_an_error_naming_the_line() {
        let log = "\
h - - [01/Dec/2026:18:00:10 +0000] \"GET /a HTTP/1.1\" 200 1
h - - [01/Dec/2026:18:00:00 +0000] \"GET /a HTTP/1.1\" 200 1
";
        let err = read("c.log", log.as_bytes(), 60).expect_err("out of order").to_string();
        assert!(err.starts_with("c.log: line 2: earlier than the first request"), "{err}");
    }
}
