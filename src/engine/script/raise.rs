//! An alert as a script asks for it: `alert(#{ group: #{…}, title, severity, count })`.

use std::str::FromStr;

use rhai::{EvalAltResult, Map};

use super::state::text;
use super::Raised;
use crate::model::Severity;

pub(super) fn raised_from(m: Map) -> Result<Raised, Box<EvalAltResult>> {
    let mut r = Raised {
        group: Default::default(),
        title: None,
        severity: None,
        count: None,
    };
    for (k, v) in m {
        match k.as_str() {
            "group" => {
                let g = v.try_cast::<Map>().ok_or("alert: `group` must be a map")?;
                for (gk, gv) in g {
                    if !gv.is_unit() {
                        r.group.insert(gk.to_string(), text(&gv));
                    }
                }
            }
            "title" => r.title = Some(text(&v)),
            "severity" => {
                r.severity = Some(Severity::from_str(&text(&v)).map_err(|e| format!("alert: {e}"))?)
            }
            "count" => {
                r.count = Some(
                    v.as_int()
                        .map_err(|_| "alert: `count` must be an integer")?
                        .max(1) as u64,
                )
            }
            other => {
                return Err(format!(
                    "alert: unknown field `{other}`: use group, title, severity or count"
                )
                .into())
            }
        }
    }
    Ok(r)
}
