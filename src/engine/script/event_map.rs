//! The event as a script sees it (an object map), built with only the fields the script
//! reads: which fields those are is worked out from its source when it is compiled.

use rhai::{Dynamic, Map};

use crate::model::event::Event;

/// The fields of the event map, in the order of [`FieldMask`]'s bits.
const MAP_FIELDS: [&str; 20] = [
    "ts",
    "type",
    "line",
    "source",
    "host",
    "program",
    "src_host",
    "user",
    "target_user",
    "method",
    "outcome",
    "command",
    "package",
    "version",
    "process",
    "path",
    "src_ip",
    "src_port",
    "pid",
    "extra",
];

/// Which event fields a script's map gets: a bit per [`MAP_FIELDS`] entry, worked out once
/// when the script is compiled, so building the map tests bits rather than names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldMask(u32);

impl FieldMask {
    pub const ALL: FieldMask = FieldMask(u32::MAX);

    /// The fields named (`None`: all of them).
    pub fn of(fields: Option<&[String]>) -> FieldMask {
        let Some(fields) = fields else {
            return FieldMask::ALL;
        };
        FieldMask(
            fields
                .iter()
                .filter_map(|f| MAP_FIELDS.iter().position(|n| n == f))
                .fold(0, |m, i| m | 1 << i),
        )
    }

    fn has(self, field: usize) -> bool {
        self.0 & (1 << field) != 0
    }
}

/// The event as the script sees it: its fields as strings (absent ones missing, so they
/// read as `()`), `ts` in microseconds, `extra` as a map. Only the fields in `fields`.
pub fn event_map(e: &Event, fields: FieldMask) -> Map {
    let mut m = Map::new();
    // The numbers are indexes into MAP_FIELDS. Values are built only for wanted fields.
    let mut put = |field: usize, v: &mut dyn FnMut() -> Option<Dynamic>| {
        if fields.has(field) {
            if let Some(v) = v() {
                m.insert(MAP_FIELDS[field].into(), v);
            }
        }
    };
    let text = |v: Option<&str>| v.map(|v| -> Dynamic { v.into() });
    put(0, &mut || Some(Dynamic::from_int(e.ts.as_micros())));
    put(1, &mut || Some(e.kind.as_str().into()));
    put(2, &mut || Some((&*e.line).into()));
    put(3, &mut || Some(e.source.as_ref().into()));
    put(4, &mut || text(e.host.as_deref()));
    put(5, &mut || text(e.program.as_deref()));
    put(6, &mut || text(e.src_host.as_deref()));
    put(7, &mut || text(e.user.as_deref()));
    put(8, &mut || text(e.target_user.as_deref()));
    put(9, &mut || text(e.method.as_deref()));
    put(10, &mut || text(e.outcome.map(|o| o.as_str())));
    put(11, &mut || text(e.command.as_deref()));
    put(12, &mut || text(e.package.as_deref()));
    put(13, &mut || text(e.version.as_deref()));
    put(14, &mut || text(e.process.as_deref()));
    put(15, &mut || text(e.path.as_deref()));
    put(16, &mut || {
        e.src_ip.map(|ip| crate::model::ip::ip_text(ip).into())
    });
    put(17, &mut || e.src_port.map(|p| Dynamic::from_int(p.into())));
    put(18, &mut || e.pid.map(|p| Dynamic::from_int(p.into())));
    put(19, &mut || {
        (!e.extra.is_empty()).then(|| {
            let x: Map = e
                .extra
                .iter()
                .map(|(k, v)| (k.as_ref().into(), v.as_str().into()))
                .collect();
            Dynamic::from_map(x)
        })
    });
    m
}

/// The fields a script reads from its event parameter `param`, if every use of that name
/// in the source is a plain `param.field` access. Any other use (passing the event on,
/// indexing it, copying it, even the word in a comment) gives `None`: all fields. A field
/// named only inside a string is harmless: it is merely built.
pub(super) fn fields_read(source: &str, param: &str) -> Option<Vec<String>> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut fields: Vec<String> = Vec::new();
    let mut declared = false;
    for (at, _) in source.match_indices(param) {
        let before = source[..at].chars().next_back();
        let after = &source[at + param.len()..];
        if before.is_some_and(ident) || after.chars().next().is_some_and(ident) {
            continue; // part of a longer word
        }
        if !declared && source[..at].trim_end().ends_with("on_event(") {
            declared = true;
            continue;
        }
        let rest = after.trim_start().strip_prefix('.')?.trim_start();
        let name: String = rest.chars().take_while(|&c| ident(c)).collect();
        if name.is_empty() || rest[name.len()..].trim_start().starts_with('(') {
            return None; // not a field, or a method call on the whole map (`ev.keys()`)
        }
        if !fields.contains(&name) {
            fields.push(name);
        }
    }
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::super::tests::root_login;
    use super::*;

    #[test]
    fn only_the_fields_a_script_reads_are_built() {
        let src = "fn on_event(ev) {\n  if ev.user == () { return; }\n  count(ev . src_ip, 5);\n  let event = 1; // prevents nothing\n}\n";
        assert_eq!(
            fields_read(src, "ev"),
            Some(vec!["user".to_string(), "src_ip".to_string()])
        );
        for whole in [
            "fn on_event(ev) { helper(ev) }",
            "fn on_event(ev) { let x = ev; }",
            "fn on_event(ev) { ev[\"user\"] }",
            "fn on_event(ev) { ev.keys() }",
            "// ev is the event\nfn on_event(ev) { ev.user }",
        ] {
            assert_eq!(fields_read(whole, "ev"), None, "{whole}");
        }
        let e = root_login(5);
        let m = event_map(&e, FieldMask::of(Some(&["user".to_string()])));
        assert_eq!(m.len(), 1);
        assert!(m.contains_key("user"));
        assert!(event_map(&e, FieldMask::ALL).len() > 3);
        assert!(event_map(&e, FieldMask::of(Some(&[]))).is_empty());
    }
}
