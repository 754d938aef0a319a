//! `--set path.to.key=value`: changing a scenario from the command line.
//!
//! Overrides are applied to the parsed TOML document before validation, so a
//! value given with `--set` is checked exactly like one written in the file —
//! same types, same units, same messages. An error caused by an override is
//! reported against the override (`--set pool.gpu.slots=abc: …`) rather than a
//! line of the file.
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
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let Some((key, raw)) = text.split_once('=') else {
            return Err(format!("`{text}`: expected KEY=VALUE, e.g. pool.gpu.max_instances=40"));
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
            return Err(format!("`{text}`: `{key}` is not a key path such as pool.gpu.max_instances or chaos[0].at"));
        }
        if raw.is_empty() {
            return Err(format!("`{text}`: the value is empty"));
        }
        let value = Value::from_str(raw).unwrap_or_else(|_| Value::from(raw));
        Ok(Override { path, value, text: format!("{key}={raw}"), flag: "--set" })
    }
}

impl Override {
    /// True when `path` is this override's key or lies inside it.
    pub fn covers(&self, path: &[Seg]) -> bool {
        path.len() >= self.path.len() && path[..self.path.len()] == self.path[..]
    }

    /// Writes the value into `doc`, creating tables on the way.
    pub fn apply(&self, doc: &mut DocumentMut) -> Result<(), String> {
        set(doc.as_item_mut(), &self.path, Item::Value(self.value.clone())).map_err(|e| format!("{self}: {e}"))
    }
}

fn set(item: &mut Item, path: &[Seg], value: Item) -> Result<(), String> {
    let Some((seg, rest)) = path.split_first() else {
        *item = value;
        return Ok(());
    };
    match seg {
        Seg::Key(k) => {
            if item.is_none() {
                *item = Item::Table(Table::new());
            }
            let table = item.as_table_like_mut().ok_or_else(|| format!("`{k}` cannot be set inside a value"))?;
            if rest.is_empty() {
                table.insert(k, value);
                return Ok(());
            }
            if table.get(k).is_none() {
                table.insert(k, Item::Table(Table::new()));
            }
            set(table.get_mut(k).expect("present"), rest, value)
        }
        Seg::Index(i) => match item {
            Item::ArrayOfTables(a) => {
                let n = a.len();
                let t = a.get_mut(*i).ok_or_else(|| format!("index [{i}] is out of range: there are {n} entries"))?;
                let mut holder = Item::Table(t.clone());
                set(&mut holder, rest, value)?;
                // Replacing the whole entry gives an inline table: store it as a table.
                *t = match holder {
                    Item::Table(back) => back,
                    Item::Value(Value::InlineTable(inline)) => inline.into_table(),
                    _ => return Err(format!("[{i}]: an entry of this list must be a table {{ ... }}")),
                };
                Ok(())
            }
            Item::Value(Value::Array(a)) => {
                let n = a.len();
                let slot =
                    a.get_mut(*i).ok_or_else(|| format!("index [{i}] is out of range: there are {n} entries"))?;
                let mut holder = Item::Value(slot.clone());
                set(&mut holder, rest, value)?;
                *slot = holder.into_value().map_err(|_| "an array element must stay a value".to_string())?;
                Ok(())
            }
            _ => Err(format!("[{i}]: not an array")),
        },
    }
}

#[cfg(test)]
mod tests {
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
        assert!(o.apply(&mut d).expect_err("not a table").contains("must be a table"));
    }

    #[test]
    fn malformed_overrides_are_explained() {
        assert!("pool.gpu.slots".parse::<Override>().expect_err("no =").contains("expected KEY=VALUE"));
        assert!("=4".parse::<Override>().expect_err("no key").contains("not a key path"));
        assert!("pool..slots=4".parse::<Override>().expect_err("empty segment").contains("not a key path"));
        assert!("pool.gpu.slots=".parse::<Override>().expect_err("empty").contains("empty"));
        let o: Override = "chaos[3].at=1m".parse().expect("syntax ok");
        let mut d: DocumentMut = "[[chaos]]\nkind = \"kill\"\n".parse().expect("valid");
        assert!(o.apply(&mut d).expect_err("range").contains("out of range: there are 1"));
    }
}
