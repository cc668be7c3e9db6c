//! A YAML rule as written: the serde form of `rules/*.yaml`, before compilation.
//!
//! Every struct denies unknown keys, and values that compilation can still reject (type
//! names, durations, regexes, CIDRs, field names) keep their position in the file
//! (`Spanned`), so every error names `file:line:column`. See `rules/README.md` for the
//! reference and `schemas/rule.schema.json` for the schema.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

pub use crate::base::one_or_many::OneOrMany;
pub use crate::model::severity::Severity;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: Spanned<String>,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub severity: Severity,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub mitre: Vec<Spanned<String>>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(rename = "match")]
    pub matcher: MatchSpec,
    #[serde(default)]
    pub threshold: Option<ThresholdSpec>,
    #[serde(default)]
    pub distinct: Option<DistinctSpec>,
    #[serde(default)]
    pub sequence: Option<SequenceSpec>,
    /// For rules without threshold, distinct or sequence: the fields that make one alert
    /// (and one suppression) apart from another, e.g. `[user]`.
    #[serde(default)]
    pub group_by: Vec<Spanned<String>>,
    #[serde(default)]
    pub suppress: Option<Spanned<String>>,
    #[serde(default)]
    pub allowlist: Option<AllowlistSpec>,
    /// Actions for the alerts: `block_ip`, `kill_process`.
    #[serde(default)]
    pub response: Vec<Spanned<String>>,
    /// The first ban's length for this rule's `block_ip` (escalation doubles from it),
    /// instead of `response.block_ip.ban_time_secs`.
    #[serde(default)]
    pub ban_time: Option<Spanned<String>>,
    #[serde(default)]
    pub tests: Vec<TestSpec>,
}

fn yes() -> bool {
    true
}

/// Which events a rule looks at: their types, and conditions on their fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    #[serde(rename = "type")]
    pub types: Spanned<OneOrMany<String>>,
    /// Every condition must hold.
    #[serde(default, rename = "where")]
    pub conditions: BTreeMap<String, Spanned<Condition>>,
    /// At least one of these condition sets must hold.
    #[serde(default)]
    pub any: Vec<BTreeMap<String, Spanned<Condition>>>,
}

/// A condition on one field. A plain value means `equals`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Condition {
    pub equals: Option<String>,
    pub one_of: Option<Vec<String>>,
    pub regex: Option<String>,
    pub cidr: Option<Vec<String>>,
    pub exists: Option<bool>,
    pub not: Option<Box<Condition>>,
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Condition;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value to compare with, or a map with one of equals, in, regex, cidr, exists, not")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Condition, E> {
                Ok(Condition {
                    equals: Some(v.to_string()),
                    ..Default::default()
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Condition, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Condition, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Condition, E> {
                self.visit_str(if v { "true" } else { "false" })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Condition, A::Error> {
                let mut c = Condition::default();
                let mut seen = 0;
                while let Some(key) = map.next_key::<String>()? {
                    seen += 1;
                    match key.as_str() {
                        "equals" => c.equals = Some(map.next_value::<ScalarText>()?.0),
                        "in" => {
                            c.one_of = Some(
                                map.next_value::<Vec<ScalarText>>()?
                                    .into_iter()
                                    .map(|s| s.0)
                                    .collect(),
                            )
                        }
                        "regex" => c.regex = Some(map.next_value()?),
                        "cidr" => c.cidr = Some(map.next_value::<OneOrMany<String>>()?.into_vec()),
                        "exists" => c.exists = Some(map.next_value()?),
                        "not" => c.not = Some(Box::new(map.next_value()?)),
                        other => {
                            return Err(de::Error::unknown_field(
                                other,
                                &["equals", "in", "regex", "cidr", "exists", "not"],
                            ));
                        }
                    }
                }
                if seen == 0 {
                    return Err(de::Error::custom(
                        "an empty condition: use equals, in, regex, cidr, exists or not",
                    ));
                }
                Ok(c)
            }
        }
        d.deserialize_any(V)
    }
}

/// A scalar read as text (`22` and `"22"` are the same condition value).
struct ScalarText(String);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ScalarText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// At least `count` matching events within `within`, per group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdSpec {
    pub count: u32,
    pub within: Spanned<String>,
    #[serde(default)]
    pub group_by: Vec<Spanned<String>>,
}

/// At least `count` distinct values of `field` within `within`, per group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistinctSpec {
    pub field: Spanned<String>,
    pub count: u32,
    pub within: Spanned<String>,
    #[serde(default)]
    pub group_by: Vec<Spanned<String>>,
}

/// Steps in order within `within`, per group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceSpec {
    pub within: Spanned<String>,
    #[serde(default)]
    pub group_by: Vec<Spanned<String>>,
    pub steps: Vec<StepSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    #[serde(rename = "type")]
    pub types: Spanned<OneOrMany<String>>,
    #[serde(default, rename = "where")]
    pub conditions: BTreeMap<String, Spanned<Condition>>,
    #[serde(default)]
    pub any: Vec<BTreeMap<String, Spanned<Condition>>>,
    /// How many matching events this step needs (default 1).
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

/// Events that never count towards this rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSpec {
    #[serde(default)]
    pub cidrs: Vec<Spanned<String>>,
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub hosts: Vec<String>,
}

/// A rule's own test: input in, expected alerts out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSpec {
    pub name: String,
    /// Log lines (syslog, RFC 3339 or BSD stamps read in UTC), one per line.
    #[serde(default)]
    pub lines: Option<String>,
    /// Events as JSON objects, for event types no log line produces.
    #[serde(default)]
    pub events: Vec<serde_json::Value>,
    pub expect: ExpectSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    /// How many distinct alerts the input raises.
    pub alerts: usize,
    /// The first alert's group, e.g. `{ src_ip: 203.0.113.9 }`.
    #[serde(default)]
    pub group: BTreeMap<String, String>,
    /// The first alert's event count.
    #[serde(default)]
    pub count: Option<u64>,
}
