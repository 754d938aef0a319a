//! Numbers that may be infinite or undefined, written to JSON without loss.
//!
//! JSON has no infinity and no NaN, and serde_json writes both as `null`,
//! which reads back as an error (into `f64`) or as "undefined". A completion
//! percentile that counts failures as infinitely slow is a real value, not a
//! missing one, so these fields are written as follows:
//!
//! | value | JSON |
//! |---|---|
//! | a finite number | the number |
//! | +∞ / −∞ | `"inf"` / `"-inf"` |
//! | undefined (None, NaN) | `null` |
//!
//! and read back to the same value. Use with `#[serde(with = "...")]`:
//! [`option`] for `Option<f64>` fields, [`float`] for `f64` fields where NaN
//! means undefined.

use serde::{Deserialize, Deserializer, Serializer};

fn write<S: Serializer>(v: Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) if x == f64::INFINITY => s.serialize_str("inf"),
        Some(x) if x == f64::NEG_INFINITY => s.serialize_str("-inf"),
        Some(x) if x.is_finite() => s.serialize_f64(x),
        _ => s.serialize_none(),
    }
}

fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(f64),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Number(x)) => Ok(Some(x)),
        Some(Raw::Text(t)) => match t.as_str() {
            "inf" => Ok(Some(f64::INFINITY)),
            "-inf" => Ok(Some(f64::NEG_INFINITY)),
            other => {
                Err(serde::de::Error::custom(format!("expected a number, \"inf\", \"-inf\" or null, not \"{other}\"")))
            }
        },
    }
}

/// One value written as above, for the collections below.
#[derive(Clone, Copy)]
struct Ext(Option<f64>);

impl serde::Serialize for Ext {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        write(self.0, s)
    }
}

impl<'de> Deserialize<'de> for Ext {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read(d).map(Ext)
    }
}

/// `Vec<Option<f64>>` (a metric's value per seed), each value as in [`option`].
pub mod option_vec {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[Option<f64>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|x| super::Ext(*x)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Option<f64>>, D::Error> {
        Ok(Vec::<super::Ext>::deserialize(d)?.into_iter().map(|e| e.0).collect())
    }
}

/// `BTreeMap<String, Vec<Option<f64>>>` (per-seed values by metric), each value as in [`option`].
pub mod option_vec_map {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &BTreeMap<String, Vec<Option<f64>>>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(v.iter().map(|(k, xs)| (k, xs.iter().map(|x| super::Ext(*x)).collect::<Vec<_>>())))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Vec<Option<f64>>>, D::Error> {
        let raw = BTreeMap::<String, Vec<super::Ext>>::deserialize(d)?;
        Ok(raw.into_iter().map(|(k, xs)| (k, xs.into_iter().map(|e| e.0).collect())).collect())
    }
}

/// `Option<f64>`: None is `null`, infinities are `"inf"` / `"-inf"`.
pub mod option {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        super::write(*v, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        super::read(d)
    }
}

/// `f64` where NaN means undefined: NaN is `null`, infinities are `"inf"` / `"-inf"`.
pub mod float {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        super::write(Some(*v), s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(super::read(d)?.unwrap_or(f64::NAN))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Row {
        #[serde(with = "super::option")]
        a: Option<f64>,
        #[serde(with = "super::float")]
        b: f64,
    }

    fn round_trip(a: Option<f64>, b: f64) -> (String, Row) {
        let json = serde_json::to_string(&Row { a, b }).expect("writes");
        let back = serde_json::from_str(&json).expect("reads back");
        (json, back)
    }

    #[test]
    fn infinite_and_undefined_values_survive_json() {
        let (json, back) = round_trip(Some(f64::INFINITY), f64::NEG_INFINITY);
        assert_eq!(json, r#"{"a":"inf","b":"-inf"}"#);
        assert_eq!(back, Row { a: Some(f64::INFINITY), b: f64::NEG_INFINITY });
        let (json, back) = round_trip(None, f64::NAN);
        assert_eq!(json, r#"{"a":null,"b":null}"#);
        assert!(back.a.is_none() && back.b.is_nan());
        let (json, back) = round_trip(Some(1.5), 2.0);
        assert_eq!(json, r#"{"a":1.5,"b":2.0}"#);
        assert_eq!(back, Row { a: Some(1.5), b: 2.0 });
        let err = serde_json::from_str::<Row>(r#"{"a":"lots","b":1}"#).expect_err("not a number");
        assert!(err.to_string().contains("not \"lots\""), "{err}");
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct PerSeed {
        #[serde(with = "super::option_vec")]
        one: Vec<Option<f64>>,
        #[serde(with = "super::option_vec_map")]
        by: std::collections::BTreeMap<String, Vec<Option<f64>>>,
    }

    /// A seed that never completes is infinite, not undefined, in per-seed lists too.
    #[test]
    fn per_seed_lists_keep_infinite_apart_from_undefined() {
        let v = vec![Some(1.5), Some(f64::INFINITY), None];
        let row = PerSeed { one: v.clone(), by: [("p99".to_string(), v)].into() };
        let json = serde_json::to_string(&row).expect("writes");
        assert_eq!(json, r#"{"one":[1.5,"inf",null],"by":{"p99":[1.5,"inf",null]}}"#);
        assert_eq!(serde_json::from_str::<PerSeed>(&json).expect("reads back"), row);
    }
}
