//! Where each value of a YAML document is: `response.allowlist[1]` → line 12, column 5.
//! Validation that runs after deserialization (a CIDR that does not parse, a number out of
//! range) reports its errors by path; this places them in the file, so every error names
//! `file:line:column` like a syntax error does. Read with `granit-parser`, the YAML parser
//! serde-saphyr itself is built on.

use std::collections::HashMap;

use granit_parser::{Event, Parser};

/// The position (1-based line and column) of every node of a document, by path.
#[derive(Debug, Default)]
pub struct YamlPaths {
    at: HashMap<String, (u32, u32)>,
}

enum Frame {
    /// A mapping at `path`; `key` is the key whose value comes next.
    Map { path: String, key: Option<String> },
    /// A sequence at `path`; `next` is the index of its next item.
    Seq { path: String, next: usize },
}

impl YamlPaths {
    /// Reads `text`. A document that does not parse gives the positions read before the
    /// problem (deserialization reports the problem itself).
    pub fn of(text: &str) -> YamlPaths {
        let mut at = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        for next in Parser::new_from_str(text) {
            let Ok((event, span)) = next else { break };
            let pos = (span.start.line() as u32, span.start.col() as u32 + 1);
            let node = match &event {
                Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..) => true,
                Event::Alias(..) => true,
                Event::SequenceEnd | Event::MappingEnd => {
                    stack.pop();
                    false
                }
                _ => false,
            };
            if !node {
                continue;
            }
            // A scalar in key position names the next value; anything else is a value.
            let path = match stack.last_mut() {
                None => String::new(),
                Some(Frame::Map { key, .. }) if key.is_none() => {
                    if let Event::Scalar(k, ..) = &event {
                        *key = Some(k.to_string());
                    } else {
                        // A complex key: its value cannot be named by a path.
                        *key = Some(String::new());
                    }
                    continue;
                }
                Some(Frame::Map { path, key }) => {
                    let k = key.take().unwrap_or_default();
                    if path.is_empty() {
                        k
                    } else {
                        format!("{path}.{k}")
                    }
                }
                Some(Frame::Seq { path, next }) => {
                    *next += 1;
                    format!("{path}[{}]", *next - 1)
                }
            };
            at.entry(path.clone()).or_insert(pos);
            match event {
                Event::MappingStart(..) => stack.push(Frame::Map { path, key: None }),
                Event::SequenceStart(..) => stack.push(Frame::Seq { path, next: 0 }),
                _ => {}
            }
        }
        YamlPaths { at }
    }

    /// Where `path` is, else where its nearest enclosing value is (a missing key's
    /// mapping), else `None`.
    pub fn find(&self, path: &str) -> Option<(u32, u32)> {
        let mut p = path;
        loop {
            if let Some(&pos) = self.at.get(p) {
                return Some(pos);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_found_by_path_in_block_and_flow_style() {
        let text = "listen: 127.0.0.1:8470\nresponse:\n  allowlist:\n    - 10.0.0.0/8\n    - nonsense\nlan: { names_timeout_ms: 60000 }\n";
        let p = YamlPaths::of(text);
        assert_eq!(p.find("listen"), Some((1, 9)));
        assert_eq!(p.find("response.allowlist[1]"), Some((5, 7)));
        assert_eq!(p.find("lan.names_timeout_ms"), Some((6, 26)));
        assert!(p.find("response").is_some());
        assert_eq!(p.find("response.block_ip.mode"), p.find("response"));
        assert_eq!(p.find("nothing"), None);
    }

    #[test]
    fn broken_documents_give_what_was_read() {
        let p = YamlPaths::of("a: 1\nb: [\n");
        assert_eq!(p.find("a"), Some((1, 4)));
    }
}
