//! `--set path.to.key=value`: changing a scenario from the command line.
//!
//! Overrides are applied to the parsed TOML document before validation, so a
//! value given with `--set` is checked exactly like one written in the file —
//! same types, same units, same messages. An error caused by an override is
//! reported against the override (`--set pool.gpu.slots=abc: …`) rather than a
//! line of the file.
//!
//! An override changes keys; it never adds a section the file does not have
//! (a pool, class, strategy, swarm or chaos entry, or a sub-table such as an
//! autoscaler), so a typo in a name cannot silently simulate something else.
//! The one way to add an optional sub-table of an existing section is to give
//! it whole: `--set 'pool.a100.autoscaler={ target = 0.7 }'`.
//!
//! The value is read as a TOML value when it is one (`40`, `0.7`, `true`,
//! `["a", "b"]`, `{ dist = "constant", value = "1s" }`) and as a string
//! otherwise, so `90s`, `round_robin` and `off` need no quotes.

use std::fmt;
use std::str::FromStr;

use toml_edit::{DocumentMut, Item, Table, Value};

use super::source::{Seg, parse_path, render};

/// One `--set KEY=VALUE`.
#[derive(Clone, Debug)]
pub struct Override {
    pub path: Vec<Seg>,
    pub value: Value,
    /// As the user wrote it, for messages.
    pub text: String,
    /// The flag it came from (`--set`, or `--vary` for a sweep's grid values).
    pub flag: &'static str,
}

impl fmt::Display for Override {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.flag, self.text)
    }
}

impl FromStr for Override {
    type Err = OverrideSyntax;

    fn from_str(text: &str) -> Result<Self, OverrideSyntax> {
        let bad = |problem: String| OverrideSyntax { text: text.to_string(), problem };
        let Some((key, raw)) = text.split_once('=') else {
            return Err(bad("expected KEY=VALUE, e.g. pool.gpu.max_instances=40".into()));
        };
        let (key, raw) = (key.trim(), raw.trim());
        let path = parse_path(key);
        let valid_key = !path.is_empty()
            && render(&path) == key
            && path.iter().all(|s| match s {
                Seg::Key(k) => !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c)),
                Seg::Index(_) => true,
            })
            && matches!(path.first(), Some(Seg::Key(_)));
        if !valid_key {
            return Err(bad(format!("`{key}` is not a key path such as pool.gpu.max_instances or chaos[0].at")));
        }
        if raw.is_empty() {
            return Err(bad("the value is empty".into()));
        }
        let value = Value::from_str(raw).unwrap_or_else(|_| Value::from(raw));
        Ok(Override { path, value, text: format!("{key}={raw}"), flag: "--set" })
    }
}

/// An override that is not `KEY=VALUE` with a key path and a value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{text}`: {problem}")]
pub struct OverrideSyntax {
    /// The override as written.
    pub text: String,
    pub problem: String,
}

/// Why an override cannot be written into the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyError {
    /// The part of the key path the problem is about.
    pub key: String,
    pub message: String,
    pub help: Option<String>,
}

impl ApplyError {
    fn at(path: &[Seg], message: impl Into<String>) -> Self {
        ApplyError { key: render(path), message: message.into(), help: None }
    }
}

/// Named sections a scenario defines (`[pool.<name>]`…): an override may change
/// one, never add one. With the name of one entry, for messages.
const COLLECTIONS: [(&str, &str); 4] =
    [("pool", "pool"), ("class", "class"), ("strategy", "strategy"), ("swarm", "swarm")];

/// Top-level sections made only of settings with defaults: setting one of their
/// keys may create the table, which changes nothing else.
const SETTINGS: [&str; 4] = ["scenario", "proxy", "slo", "compare"];

/// Sections whose inner tables only group keys (`slo.swarm.<name>`,
/// `slo.tier.<name>` are thresholds): they are created as needed at any
/// depth. Elsewhere an inner table's presence means something
/// (`proxy.probe` switches probing on), so it is never created by a key.
const GROUPING: [&str; 1] = ["slo"];

impl Override {
    /// True when `path` is this override's key or lies inside it.
    pub fn covers(&self, path: &[Seg]) -> bool {
        path.len() >= self.path.len() && path[..self.path.len()] == self.path[..]
    }

    /// How many leading segments `path` shares with this override's key.
    pub fn shared_prefix(&self, path: &[Seg]) -> usize {
        self.path.iter().zip(path).take_while(|(a, b)| a == b).count()
    }

    /// Writes the value into `doc`. It may replace any key and add a key to a
    /// table that exists, but never reach into a section the file does not
    /// have (a pool, class, strategy or swarm, a chaos entry, a sub-table such
    /// as `pool.<p>.autoscaler`): a section is added only by giving it whole
    /// as the value (`--set 'strategy.s={ kind = "none" }'`).
    pub fn apply(&self, doc: &mut DocumentMut) -> Result<(), ApplyError> {
        check_sections(doc, &self.path)?;
        set(doc.as_item_mut(), &self.path, 0, Item::Value(self.value.clone()))
    }
}

/// Refuses a path that reaches into a collection entry (a pool, class,
/// strategy, swarm or chaos event) the document does not have. A path that
/// ends at the entry sets it whole, which is how an override adds one.
fn check_sections(doc: &DocumentMut, path: &[Seg]) -> Result<(), ApplyError> {
    let Some(Seg::Key(top)) = path.first() else { return Ok(()) };
    if top == "chaos" && doc.get("chaos").is_none() && path.len() > 1 {
        let at = render(&path[1..2]);
        return Err(ApplyError::at(
            &path[..2],
            format!("the scenario has no chaos events, so no entry {at}; an override cannot add one"),
        ));
    }
    let Some(&(_, what)) = COLLECTIONS.iter().find(|(k, _)| k == top) else { return Ok(()) };
    let Some(Seg::Key(name)) = path.get(1) else { return Ok(()) };
    let entries: Vec<String> = doc
        .get(top)
        .and_then(Item::as_table_like)
        .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
        .unwrap_or_default();
    if path.len() == 2 || entries.iter().any(|e| e == name) {
        return Ok(());
    }
    let defined = if entries.is_empty() { "none".to_string() } else { entries.join(", ") };
    let mut err = ApplyError::at(
        &path[..2],
        format!(
            "the scenario has no {what} `{name}` (it defines: {defined}); an override changes a {what}, it cannot add one"
        ),
    );
    // One entry is the likely target whatever its name; among several, a close name.
    let guess = if entries.len() == 1 {
        entries.first().map(String::as_str)
    } else {
        super::did_you_mean(name, entries.iter().map(String::as_str))
    };
    err.help = Some(match guess {
        Some(g) => {
            let mut fixed = path.to_vec();
            fixed[1] = Seg::Key(g.to_string());
            format!("did you mean `{}`?", render(&fixed))
        }
        None => format!("to add a {what}, give it whole: --set '{top}.{name}={{ ... }}'"),
    });
    Err(err)
}

fn set(item: &mut Item, path: &[Seg], depth: usize, value: Item) -> Result<(), ApplyError> {
    let Some((seg, rest)) = path[depth..].split_first() else {
        *item = value;
        return Ok(());
    };
    let here = &path[..=depth];
    match seg {
        Seg::Key(k) => {
            let table = item.as_table_like_mut().ok_or_else(|| {
                ApplyError::at(&path[..depth], format!("is a value, so `{k}` cannot be set inside it"))
            })?;
            if rest.is_empty() {
                table.insert(k, value);
                return Ok(());
            }
            if table.get(k).is_none() {
                // At the top: a settings table, an unknown name (for the
                // deserializer to report), or a collection whose entry is set whole.
                let whole_entry = path.len() == 2 && COLLECTIONS.iter().any(|(c, _)| c == k);
                let grouping = matches!(&path[0], Seg::Key(top) if GROUPING.contains(&top.as_str()));
                let may_create =
                    grouping || depth == 0 && (SETTINGS.contains(&k.as_str()) || is_unknown_section(k) || whole_entry);
                if !may_create {
                    let mut e = ApplyError::at(
                        here,
                        format!(
                            "the scenario has no [{}] section; an override sets keys, it does not add sections",
                            render(here)
                        ),
                    );
                    e.help = Some(format!(
                        "add the section to the file, or give the whole table as the value: --set '{}={{ ... }}'",
                        render(here)
                    ));
                    return Err(e);
                }
                table.insert(k, Item::Table(Table::new()));
            }
            set(table.get_mut(k).expect("present"), path, depth + 1, value)
        }
        Seg::Index(i) => match item {
            Item::ArrayOfTables(a) => {
                let n = a.len();
                let t = a.get_mut(*i).ok_or_else(|| out_of_range(here, *i, n))?;
                let mut holder = Item::Table(t.clone());
                set(&mut holder, path, depth + 1, value)?;
                // Replacing the whole entry gives an inline table: store it as a table.
                *t = match holder {
                    Item::Table(back) => back,
                    Item::Value(Value::InlineTable(inline)) => inline.into_table(),
                    _ => return Err(ApplyError::at(here, "an entry of this list must be a table { ... }")),
                };
                Ok(())
            }
            Item::Value(Value::Array(a)) => {
                let n = a.len();
                let slot = a.get_mut(*i).ok_or_else(|| out_of_range(here, *i, n))?;
                let mut holder = Item::Value(slot.clone());
                set(&mut holder, path, depth + 1, value)?;
                *slot = holder.into_value().map_err(|_| ApplyError::at(here, "an array element must stay a value"))?;
                Ok(())
            }
            _ => Err(ApplyError::at(&path[..depth], format!("is not a list, so it has no entry [{i}]"))),
        },
    }
}

/// A top-level name that is no section at all: created so that the
/// deserializer reports it as an unknown key, with its did-you-mean.
fn is_unknown_section(k: &str) -> bool {
    !SETTINGS.contains(&k) && !COLLECTIONS.iter().any(|(c, _)| *c == k) && k != "chaos"
}

fn out_of_range(here: &[Seg], i: usize, n: usize) -> ApplyError {
    let entries = if n == 1 { "there is 1 entry".to_string() } else { format!("there are {n} entries") };
    ApplyError::at(here, format!("index [{i}] is out of range: {entries}; an override cannot add one"))
}

#[cfg(test)]
mod tests {
    fn refused(doc: &str, set: &str) -> ApplyError {
        let o: Override = set.parse().expect("syntax ok");
        let mut d: DocumentMut = doc.parse().expect("valid");
        o.apply(&mut d).expect_err(set)
    }

    #[test]
    fn an_override_never_adds_a_named_section() {
        let doc = "[pool.a100]\nslots = 2\n[swarm.web]\nclass = \"c\"\n[swarm.bulk]\nclass = \"c\"\n";
        let e = refused(doc, "pool.gpu.max_instances=40");
        assert_eq!(e.key, "pool.gpu");
        assert!(e.message.contains("no pool `gpu` (it defines: a100)"), "{e:?}");
        assert_eq!(e.help.as_deref(), Some("did you mean `pool.a100.max_instances`?"));
        let e = refused(doc, "swarm.webb.timeout=10s");
        assert_eq!(e.help.as_deref(), Some("did you mean `swarm.web.timeout`?"));
        let e = refused(doc, "class.new.pool=gpu");
        assert!(e.message.contains("no class `new` (it defines: none)"), "{e:?}");
        assert_eq!(e.help.as_deref(), Some("to add a class, give it whole: --set 'class.new={ ... }'"));
        assert!(refused(doc, "strategy.x.kind=none").message.contains("cannot add one"));
        assert!(refused(doc, "chaos[0].at=1m").message.contains("no chaos events, so no entry [0]"));
        let e = refused(doc, "pool.a100.autoscaler.target=0.7");
        assert_eq!(e.key, "pool.a100.autoscaler");
        assert!(e.help.expect("help").contains("--set 'pool.a100.autoscaler={ ... }'"));
    }

    #[test]
    fn settings_sections_and_whole_sub_tables_may_be_added() {
        let out = apply(
            "[pool.a100]\nslots = 2\n",
            &[
                "proxy.first_byte_timeout=90s",
                "pool.a100.autoscaler={ target = 0.7 }",
                "strategy.s={ kind = \"none\" }",
            ],
        );
        let d: DocumentMut = out.parse().expect("valid");
        assert_eq!(d["strategy"]["s"]["kind"].as_str(), Some("none"));
        assert_eq!(d["proxy"]["first_byte_timeout"].as_str(), Some("90s"));
        assert_eq!(d["pool"]["a100"]["autoscaler"]["target"].as_float(), Some(0.7));
    }

    /// A per-swarm or per-tier threshold is a key, though TOML nests it:
    /// its tables are created, in a file with or without [slo].
    #[test]
    fn per_swarm_and_per_tier_slos_may_be_added() {
        for doc in ["[pool.a100]\nslots = 2\n", "[slo]\ntier.paid.failure_rate = \"< 0.1%\"\n"] {
            let out = apply(doc, &["slo.swarm.web.success_rate=>99%", "slo.tier.free.failure_rate=<5%"]);
            let d: DocumentMut = out.parse().expect("valid");
            assert_eq!(d["slo"]["swarm"]["web"]["success_rate"].as_str(), Some(">99%"));
            assert_eq!(d["slo"]["tier"]["free"]["failure_rate"].as_str(), Some("<5%"));
        }
        // Elsewhere an inner table still is not created by one of its keys.
        assert!(refused("[proxy]\n", "proxy.probe.interval=5s").message.contains("no [proxy.probe] section"));
    }

    use super::*;

    fn apply(doc: &str, sets: &[&str]) -> String {
        let mut d: DocumentMut = doc.parse().expect("valid");
        for s in sets {
            s.parse::<Override>().expect("override").apply(&mut d).expect("applies");
        }
        d.to_string()
    }

    #[test]
    fn values_are_typed_like_toml_and_bare_words_are_strings() {
        let o: Override = "pool.gpu.max_instances=40".parse().expect("ok");
        assert_eq!(o.value.as_integer(), Some(40));
        let o: Override = "proxy.first_byte_timeout=90s".parse().expect("ok");
        assert_eq!(o.value.as_str(), Some("90s"));
        let o: Override = "pool.gpu.autoscaler.target=0.7".parse().expect("ok");
        assert_eq!(o.value.as_float(), Some(0.7));
        let o: Override = "compare.swarms=[\"bulk\"]".parse().expect("ok");
        assert!(o.value.is_array());
    }

    #[test]
    fn existing_keys_are_replaced_and_missing_ones_created() {
        let out = apply(
            "[pool.gpu]\nslots = 2\n",
            &["pool.gpu.slots=4", "pool.gpu.max_instances=9", "proxy.director=random"],
        );
        let d: DocumentMut = out.parse().expect("valid");
        assert_eq!(d["pool"]["gpu"]["slots"].as_integer(), Some(4));
        assert_eq!(d["pool"]["gpu"]["max_instances"].as_integer(), Some(9));
        assert_eq!(d["proxy"]["director"].as_str(), Some("random"));
    }

    #[test]
    fn array_entries_and_inline_tables_can_be_reached() {
        let doc = "[swarm.s]\narrivals = { process = \"poisson\", rate = \"1/s\" }\n[[chaos]]\nkind = \"kill\"\nat = \"1m\"\n";
        let out = apply(doc, &["chaos[0].at=5m", "swarm.s.arrivals.rate=3/s"]);
        let d: DocumentMut = out.parse().expect("valid");
        assert_eq!(d["chaos"][0]["at"].as_str(), Some("5m"));
        assert_eq!(d["swarm"]["s"]["arrivals"]["rate"].as_str(), Some("3/s"));
        // A whole entry replaced by an inline table.
        let out = apply(doc, &["chaos[0]={ kind = \"stall\", pool = \"gpu\", at = \"2m\", length = \"1m\" }"]);
        let d: DocumentMut = out.parse().expect("valid");
        assert_eq!(d["chaos"][0]["kind"].as_str(), Some("stall"));
        assert_eq!(d["chaos"][0]["length"].as_str(), Some("1m"));
        let o: Override = "chaos[0]=7".parse().expect("syntax ok");
        let mut d: DocumentMut = doc.parse().expect("valid");
        assert!(o.apply(&mut d).expect_err("not a table").message.contains("must be a table"));
    }

    #[test]
    fn malformed_overrides_are_explained() {
        assert!("pool.gpu.slots".parse::<Override>().expect_err("no =").to_string().contains("expected KEY=VALUE"));
        assert!("=4".parse::<Override>().expect_err("no key").to_string().contains("not a key path"));
        assert!("pool..slots=4".parse::<Override>().expect_err("empty segment").to_string().contains("not a key path"));
        assert!("pool.gpu.slots=".parse::<Override>().expect_err("empty").to_string().contains("empty"));
        let o: Override = "chaos[3].at=1m".parse().expect("syntax ok");
        let mut d: DocumentMut = "[[chaos]]\nkind = \"kill\"\n".parse().expect("valid");
        assert!(o.apply(&mut d).expect_err("range").message.contains("out of range: there is 1 entry"));
    }
}
