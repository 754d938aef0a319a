//! Traffic from real logs (`stampede import LOGFILE`): an access log becomes
//! a scenario fragment that replays it: the arrival rate per window as a
//! `steps` profile, the class mix by path, and the observed statuses.
//!
//! Reading is streaming: one line at a time, counts per window and per
//! class, so a log of any length fits in memory as long as its windows do
//! ([`MAX_WINDOWS`]); at most [`MAX_TRACKED_CLASSES`] classes are counted
//! at once, and a fragment names the busiest.

mod access_log;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, Read};

pub use access_log::{Entry, parse_line};

/// Windows a fragment may have: each is one `steps` entry of the scenario.
pub const MAX_WINDOWS: u64 = crate::scenario::limits::MAX_STEPS as u64;
/// A log line longer than this is malformed (no access log writes one).
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// Logged first segments kept per class, to show which paths a class stands for.
pub const PATHS_SHOWN: usize = 4;
/// Classes counted one by one; requests of later ones are counted together.
/// A first path segment that is an id or a hash would otherwise make a class
/// per request.
pub const MAX_TRACKED_CLASSES: usize = 4096;
/// Classes a fragment names: the busiest; the rest share one class.
pub const MAX_CLASSES: usize = 32;
/// A class with at most one request in this many is folded into the rest.
pub const MIN_SHARE_INVERSE: u64 = 1000;
/// Above this share of malformed lines, the file is not an access log.
pub const MAX_MALFORMED_SHARE: f64 = 0.1;

/// What a log holds, by window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Traffic {
    /// Seconds since the epoch of the earliest request and of the latest.
    pub first: i64,
    pub last: i64,
    /// Where window 0 starts (at or before `first`): windows are counted
    /// from the first line's time, which need not be the earliest.
    pub origin: i64,
    pub requests: u64,
    /// Requests by window index from `origin`.
    pub per_window: BTreeMap<u64, u64>,
    /// Requests by class (the path's first segment), for at most
    /// [`MAX_TRACKED_CLASSES`] classes (those with the fewest requests make room).
    pub classes: BTreeMap<String, u64>,
    /// Requests of the classes dropped to make room.
    pub untracked: u64,
    /// Per class, the first segments logged for it (up to [`PATHS_SHOWN`]),
    /// and whether there were more.
    pub segments: BTreeMap<String, (Vec<String>, bool)>,
    pub statuses: BTreeMap<u16, u64>,
    pub malformed: u64,
    /// The first malformed line's number and text.
    pub first_malformed: Option<(u64, String)>,
    /// Lines without a request (`"-" 408`: a connection closed before one came).
    pub no_request: u64,
}

/// Why a log cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {why}")]
    Read { file: String, why: String },
    #[error("{file}: line {line}: {why}")]
    Line { file: String, line: u64, why: String },
}

/// Reads a log, counting requests per `window_secs`. Lines need not be in
/// time order (Apache logs a request's start time when it ends).
pub fn read(file: &str, input: impl BufRead, window_secs: u64) -> Result<Traffic, ImportError> {
    let mut t = Traffic::default();
    let mut start: Option<i64> = None;
    // Windows from the first line's, negative for earlier lines.
    let mut windows: BTreeMap<i64, u64> = BTreeMap::new();
    let mut lineno = 0u64;
    let mut input = input;
    let mut line = Vec::new();
    let width = i64::try_from(window_secs).unwrap_or(i64::MAX);
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
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.len() > MAX_LINE_BYTES {
            return Err(ImportError::Line {
                file: file.into(),
                line: lineno,
                why: format!("longer than {MAX_LINE_BYTES} bytes: not an access log{}", compressed(&line)),
            });
        }
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            continue;
        }
        let Some(e) = parse_line(&text) else {
            if access_log::is_no_request(&text) {
                t.no_request += 1;
                continue;
            }
            t.malformed += 1;
            t.first_malformed.get_or_insert_with(|| (lineno, printable(&text, &line)));
            continue;
        };
        let s = *start.get_or_insert(e.time);
        let w = (e.time - s).div_euclid(width);
        let (lo, hi) = (windows.keys().next().copied().unwrap_or(w), windows.keys().last().copied().unwrap_or(w));
        if hi.max(w) - lo.min(w) >= MAX_WINDOWS as i64 {
            return Err(ImportError::Line {
                file: file.into(),
                line: lineno,
                why: format!("the log spans more than {MAX_WINDOWS} windows: choose a longer --window"),
            });
        }
        *windows.entry(w).or_default() += 1;
        if !t.classes.contains_key(&e.class) && t.classes.len() >= MAX_TRACKED_CLASSES {
            t.make_room();
        }
        let (seen, more) = t.segments.entry(e.class.clone()).or_default();
        if !seen.contains(&e.segment) {
            if seen.len() < PATHS_SHOWN { seen.push(e.segment) } else { *more = true }
        }
        *t.classes.entry(e.class).or_default() += 1;
        *t.statuses.entry(e.status).or_default() += 1;
        // Not max(0, …): a log from before 1970 has negative times.
        (t.first, t.last) = if t.requests == 0 { (e.time, e.time) } else { (t.first.min(e.time), t.last.max(e.time)) };
        t.requests += 1;
    }
    let lowest = windows.keys().next().copied().unwrap_or(0);
    t.origin = start.unwrap_or(0) + lowest * width;
    t.per_window = windows.into_iter().map(|(w, n)| ((w - lowest) as u64, n)).collect();
    if t.requests == 0 {
        let why = match t.no_request {
            0 => "no request lines (combined or common log format)".to_string(),
            n => format!(
                "no request lines (combined or common log format); {n} line(s) had none (\"-\": a connection closed first)"
            ),
        };
        return Err(match t.first_malformed.clone() {
            Some((line, text)) => {
                ImportError::Line { file: file.into(), line, why: format!("{why}; this one is not: `{text}`") }
            }
            None => ImportError::Read { file: file.into(), why },
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

/// A bad line as it may be shown: printable, cut at 120 characters, or
/// named as compressed.
fn printable(text: &str, bytes: &[u8]) -> String {
    let hint = compressed(bytes);
    if !hint.is_empty() {
        return hint.trim_start_matches(": ").to_string();
    }
    text.chars().take(120).map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// Names a compressed file by its magic bytes.
fn compressed(bytes: &[u8]) -> String {
    match bytes {
        [0x1f, 0x8b, ..] => ": gzip data (gunzip it first, or pipe it: zcat FILE | stampede import -)".into(),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => {
            ": zstd data (unzstd it first, or pipe it: zstdcat FILE | stampede import -)".into()
        }
        [b'B', b'Z', b'h', ..] => ": bzip2 data (bunzip2 it first, or pipe it: bzcat FILE | stampede import -)".into(),
        _ => String::new(),
    }
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
    /// Frees room among the counted classes: those with the fewest requests
    /// so far go (one request, else two, ...), their requests counted
    /// together, so ids cannot crowd out a busy class met after them.
    fn make_room(&mut self) {
        let Traffic { classes, segments, untracked, .. } = self;
        let mut floor = 1;
        while classes.len() >= MAX_TRACKED_CLASSES {
            let before = classes.len();
            classes.retain(|class, n| {
                let keep = *n > floor;
                if !keep {
                    *untracked += *n;
                    segments.remove(class);
                }
                keep
            });
            if classes.len() == before {
                floor += 1;
            }
        }
    }

    /// Windows from the earliest request's to the latest's.
    pub fn windows(&self) -> u64 {
        self.per_window.keys().last().map_or(1, |w| w + 1)
    }

    /// Seconds from the earliest request to the end of the latest's second:
    /// the scenario's duration.
    pub fn span_secs(&self) -> u64 {
        (i128::from(self.last) - i128::from(self.first) + 1).try_into().unwrap_or(u64::MAX)
    }

    /// The classes a fragment names (the busiest, listed by name), and the
    /// requests of the rest (which share one class).
    fn named_classes(&self) -> (Vec<(&str, u64)>, u64) {
        let mut all: Vec<(&str, u64)> = self.classes.iter().map(|(c, n)| (c.as_str(), *n)).collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        // A class of one request in a thousand or fewer is not a kind of job of its own.
        let minor = |n: u64| n * MIN_SHARE_INVERSE <= self.requests && n < self.requests;
        let major = all.iter().take_while(|c| !minor(c.1)).count();
        let folded = self.untracked > 0 || major < all.len() || all.len() > MAX_CLASSES;
        let keep = if folded { major.min(MAX_CLASSES - 1) } else { all.len() };
        let rest = all.split_off(keep.min(all.len())).iter().map(|c| c.1).sum::<u64>() + self.untracked;
        all.sort();
        (all, rest)
    }
}

/// How the log read from standard input is named in messages and comments.
pub const STDIN: &str = "standard input";

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
    if t.no_request > 0 {
        let _ = writeln!(o, "# Lines without a request (\"-\", a connection closed first), skipped: {}.", t.no_request);
    }
    let _ = writeln!(o, "# Add a [pool] and give each class below a pool and a service time.\n");
    let stem = std::path::Path::new(file)
        .file_stem()
        .filter(|_| file != STDIN)
        .map_or("imported".into(), |s| s.to_string_lossy().into_owned());
    let name: String = stem
        .chars()
        .take(crate::scenario::limits::MAX_NAME_LEN)
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
        .collect();
    // Standard input ("-") or a name of dots only: nothing to name it after.
    let name = if name.chars().any(|c| c.is_ascii_alphanumeric()) { name } else { "imported".into() };
    let _ = writeln!(o, "[scenario]\nname = \"{name}\"");
    let _ = writeln!(o, "duration = \"{}s\"\nwindow = \"{window_secs}s\"\n", t.span_secs());
    let (named, rest) = t.named_classes();
    let other = (rest > 0).then(|| {
        let taken = |n: &str| named.iter().any(|c| c.0 == n);
        std::iter::once("other".to_string()).chain((2..).map(|k| format!("other-{k}"))).find(|n| !taken(n))
    });
    let other = other.flatten();
    for &(class, _) in &named {
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
    if let Some(other) = &other {
        let _ = writeln!(
            o,
            "# The {rest} requests of the other first path segments: a fragment names at most the {} busiest, \
             each with more than one request in {MIN_SHARE_INVERSE}.",
            MAX_CLASSES - 1
        );
        let _ = writeln!(
            o,
            "[class.{other}]\n# pool = \"...\"\n# service = {{ dist = \"lognormal\", median = \"...\", p99 = \"...\" }}\n"
        );
    }
    let _ = writeln!(o, "[swarm.imported]");
    let mut shares: Vec<(&str, u64)> = named.clone();
    if let Some(other) = &other {
        shares.push((other.as_str(), rest));
    }
    if shares.len() == 1 {
        let _ = writeln!(o, "class = \"{}\"", shares[0].0);
    } else {
        let list: Vec<String> =
            shares.iter().map(|(c, n)| format!("{c} = {}", *n as f64 / t.requests as f64)).collect();
        let _ = writeln!(o, "mix = {{ {} }}", list.join(", "));
    }
    let _ = writeln!(o, "arrivals = {{ process = \"steps\", steps = [");
    let mut last: Option<f64> = None;
    let width = window_secs as i128;
    let (first, end) = (i128::from(t.first), i128::from(t.last) + 1);
    for w in 0..windows {
        // The window's part of the log: the first and last windows may be cut.
        let from = (i128::from(t.origin) + i128::from(w) * width).max(first);
        let to = (i128::from(t.origin) + (i128::from(w) + 1) * width).min(end);
        let n = t.per_window.get(&w).copied().unwrap_or(0);
        let per_sec = n as f64 / (to - from).max(1) as f64;
        if last == Some(per_sec) {
            continue; // the rate holds until the next step
        }
        let _ = writeln!(o, "    {{ at = \"{}s\", rate = \"{}\" }},", from - first, rate(per_sec));
        last = Some(per_sec);
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
    /// Apache logs a request's start time when it ends: a line earlier than
    /// the first is counted in its window, and the fragment starts at the
    /// earliest request. A window the log covers in part gets the rate of
    /// the part it covers.
    #[test]
    fn lines_out_of_order_and_cut_windows_keep_their_rates() {
        let line = |t: &str| format!("h - - [01/Dec/2026:18:{t} +0000] \"GET /a HTTP/1.1\" 200 1\n");
        // 18:00:30 first, then 18:00:00, ...: 60 s windows from 18:00:30.
        let log: String = ["00:30", "00:00", "00:45", "01:40", "01:10", "02:09"].map(line).concat();
        let t = read("j.log", log.as_bytes(), 60).expect("reads");
        assert_eq!((t.first, t.last - t.first, t.span_secs()), (t.origin + 30, 129, 130));
        // Windows from 17:59:30: [00:00], [00:30, 00:45, 01:10], [01:40, 02:09].
        assert_eq!(t.per_window, BTreeMap::from([(0, 1), (1, 3), (2, 2)]));
        let f = fragment("j.log", &t, 60);
        assert!(f.contains("duration = \"130s\""), "{f}");
        // The first window covers 30 s of log, the middle one 60 s, the last 40 s (01:30 to 02:10).
        assert!(f.contains("{ at = \"0s\", rate = \"0.03333/s\" }"), "1 request in 30 s: {f}");
        assert!(f.contains("{ at = \"30s\", rate = \"0.05/s\" }"), "3 in 60 s: {f}");
        assert!(!f.contains("at = \"90s\""), "2 in 40 s is the same rate, which holds on: {f}");
        // A 600 s log in one window of an hour is 600 s at its own rate, not diluted.
        let slow: String = (0..600).map(|s| line(&format!("{:02}:{:02}", s / 60, s % 60))).collect();
        let f = fragment("s.log", &read("s.log", slow.as_bytes(), 3600).expect("reads"), 3600);
        assert!(f.contains("duration = \"600s\"") && f.contains("{ at = \"0s\", rate = \"1/s\" }"), "{f}");
    }

    /// A first path segment that is an id makes a class per request: ids
    /// never crowd out a real class, whether they come before it or among
    /// it, and only classes with more than one request in a thousand are named.
    #[test]
    fn ids_in_the_path_are_folded_into_one_class() {
        let line = |path: &str| format!("h - - [01/Dec/2026:18:00:00 +0000] \"GET {path} HTTP/1.1\" 200 1\n");
        let ids: String = (0..10_000u32).map(|k| line(&format!("/u{k:05}/x"))).collect();
        let real: String = (0..10_000u32).map(|k| line(if k % 4 == 0 { "/img2img" } else { "/txt2img" })).collect();
        for log in [format!("{ids}{real}"), format!("{real}{ids}")] {
            let t = read("ids.log", log.as_bytes(), 60).expect("reads");
            assert!(t.classes.len() <= MAX_TRACKED_CLASSES);
            assert_eq!((t.classes["txt2img"], t.classes["img2img"]), (7_500, 2_500), "counted exactly");
            let f = fragment("ids.log", &t, 60);
            assert_eq!(f.matches("[class.").count(), 3, "{f}");
            assert!(f.contains("mix = { img2img = 0.125, txt2img = 0.375, other = 0.5 }"), "{f}");
            assert!(f.contains("# The 10000 requests of the other first path segments"), "{f}");
        }
    }

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
        let closed = "h - - [01/Dec/2026:18:04:10 +0000] \"-\" 408 0\n".repeat(3);
        let err = read("idle.log", closed.as_bytes(), 60).expect_err("no requests").to_string();
        assert!(err.ends_with("; 3 line(s) had none (\"-\": a connection closed first)"), "{err}");
        let good: String =
            (10..19).map(|s| format!("h - - [01/Dec/2026:18:04:{s} +0000] \"GET /a HTTP/1.1\" 200 1\n")).collect();
        let mixed = format!("{LOG}{good}garbage\n");
        let t = read("a.log", mixed.as_bytes(), 60).expect("one bad line in fourteen is tolerated");
        assert_eq!((t.malformed, t.first_malformed), (1, Some((14, "garbage".to_string()))));
        let gz = read("a.log.gz", &b"\x1f\x8b\x08\x00\x00\x00binary\n"[..], 60).expect_err("gzip").to_string();
        assert!(gz.contains("gzip data (gunzip it first"), "{gz}");
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
        // Standard input, or a file named with dots only, gives no name to use.
        for (file, name) in [("old.log", "old"), (STDIN, "imported"), ("..log", "imported"), ("-", "imported")] {
            assert!(fragment(file, &t, 60).contains(&format!("name = \"{name}\"\n")), "{file}");
        }
        assert!(f.contains("# Logged as /, /root: "), "{f}");
        assert!(!f.contains("Logged as /img"), "a class named as logged needs no word: {f}");
        // The last request's time, not 0: before 1970 times are negative.
        assert!(t.first < 0);
        assert!(f.contains(&format!("# from epoch second {} to {},", t.first, t.first + 4)), "{f}");
    }
}
