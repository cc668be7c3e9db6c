//! An event's extra fields: what a parser knows that has no field of its own (`reason`,
//! `attempts`, `invalid_user` …).
//!
//! A small map kept as a vector sorted by key. An event has none to a handful, and a
//! `BTreeMap` spent a 544-byte node on the first one: at a million lines that was the
//! largest share of all the bytes a replay allocated. Keys are nearly always fixed names,
//! borrowed, so they cost nothing per event. Iteration, JSON and equality are in key
//! order, as with the map it replaces.

use std::borrow::Cow;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

type Key = Cow<'static, str>;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Extra(Vec<(Key, String)>);

impl Extra {
    pub const fn new() -> Extra {
        Extra(Vec::new())
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_ref().cmp(key))
    }

    /// Sets `key`; the value it replaced, if any.
    pub fn insert(&mut self, key: Key, value: String) -> Option<String> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                if self.0.capacity() == 0 {
                    // Most events get one or two: no room for four up front.
                    self.0.reserve_exact(2);
                }
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fields in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Key, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl std::ops::Index<&str> for Extra {
    type Output = String;

    /// The value of `key`; panics when it is absent (as a map's index does), so only for
    /// tests and keys known to be there.
    fn index(&self, key: &str) -> &String {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no extra field {key:?}"),
        }
    }
}

impl<'a> IntoIterator for &'a Extra {
    type Item = (&'a Key, &'a String);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Key, String)>,
        fn(&'a (Key, String)) -> (&'a Key, &'a String),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<K: Into<Key>, V: Into<String>> FromIterator<(K, V)> for Extra {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Extra {
        let mut x = Extra::new();
        for (k, v) in iter {
            x.insert(k.into(), v.into());
        }
        x
    }
}

impl fmt::Debug for Extra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Extra {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            m.serialize_entry(k.as_ref(), v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Extra {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Extra, D::Error> {
        struct ExtraVisitor;
        impl<'de> Visitor<'de> for ExtraVisitor {
            type Value = Extra;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of text fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Extra, A::Error> {
                let mut x = Extra::new();
                while let Some((k, v)) = a.next_entry::<String, String>()? {
                    x.insert(k.into(), v);
                }
                Ok(x)
            }
        }
        d.deserialize_map(ExtraVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::Extra;

    #[test]
    fn behaves_as_a_sorted_map() {
        let mut x = Extra::new();
        assert!(x.is_empty());
        assert_eq!(x.insert("reason".into(), "timeout".into()), None);
        assert_eq!(x.insert("attempts".into(), "3".into()), None);
        assert_eq!(x.insert(String::from("zone").into(), "a".into()), None);
        assert_eq!(
            x.insert("reason".into(), "reset".into()),
            Some("timeout".to_string())
        );
        assert_eq!(x.len(), 3);
        let keys: Vec<&str> = x.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["attempts", "reason", "zone"]);
        assert_eq!(x["reason"], "reset");
        assert!(x.contains_key("zone") && !x.contains_key("nope"));
        assert_eq!(x.get("nope"), None);
        // Same fields, inserted in another order: equal.
        let y: Extra = [("zone", "a"), ("reason", "reset"), ("attempts", "3")]
            .into_iter()
            .collect();
        assert_eq!(x, y);
    }

    #[test]
    fn json_is_an_object_in_key_order_and_reads_back() {
        let x: Extra = [("b", "2"), ("a", "1")].into_iter().collect();
        let json = serde_json::to_string(&x).unwrap();
        assert_eq!(json, r#"{"a":"1","b":"2"}"#);
        let back: Extra = serde_json::from_str(r#"{"b":"2","a":"1","a":"3"}"#).unwrap();
        assert_eq!(
            back["a"], "3",
            "a repeated key keeps the last value, as a map does"
        );
        assert_eq!(back.len(), 2);
        assert!(serde_json::from_str::<Extra>(r#"{"a":1}"#).is_err());
    }
}
