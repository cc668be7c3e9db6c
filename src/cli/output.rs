//! Printing events for people and for programs.
//!
//! Everything printed came from a hostile log: in the human table, control characters
//! (ANSI escapes, carriage returns, NULs) are shown escaped so a crafted user name cannot
//! repaint the terminal. JSON output relies on serde_json's escaping.

use std::io::{self, Write};

use crate::model::event::Event;

/// Replaces control characters with visible escapes and cuts to `max` characters.
pub fn terminal_safe(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    for (n, c) in s.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// One event per line as JSON.
pub fn write_json(w: &mut impl Write, events: &[Event]) -> io::Result<()> {
    for e in events {
        serde_json::to_writer(&mut *w, e)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// The table header matching [`write_table`].
pub fn write_table_header(w: &mut impl Write) -> io::Result<()> {
    writeln!(
        w,
        "{:<27} {:<18} {:<39} {:<16} {:<10} DETAIL",
        "TIME (UTC)", "TYPE", "SOURCE ADDRESS", "USER", "PROGRAM"
    )
}

/// A readable line per event.
pub fn write_table(w: &mut impl Write, events: &[Event]) -> io::Result<()> {
    for e in events {
        let remote = e.remote().unwrap_or_else(|| "-".into());
        let user = e
            .user
            .as_deref()
            .or(e.target_user.as_deref())
            .unwrap_or("-");
        let program = e.program.as_deref().unwrap_or("-");
        writeln!(
            w,
            "{:<27} {:<18} {:<39} {:<16} {:<10} {}",
            e.ts.to_string(),
            e.kind.as_str(),
            terminal_safe(&remote, 39),
            terminal_safe(user, 16),
            terminal_safe(program, 10),
            terminal_safe(&detail(e), 120)
        )?;
    }
    Ok(())
}

fn detail(e: &Event) -> String {
    let mut parts = Vec::new();
    let mut push = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            parts.push(format!("{k}={v}"));
        }
    };
    push("method", &e.method);
    push("target", &e.target_user);
    push("command", &e.command);
    push("package", &e.package);
    push("version", &e.version);
    push("process", &e.process);
    push("path", &e.path);
    if let Some(o) = e.outcome {
        parts.push(format!("outcome={}", o.as_str()));
    }
    for (k, v) in &e.extra {
        parts.push(format!("{k}={v}"));
    }
    parts.join(" ")
}

/// Flushes `out` after `written`; a reader that went away (`picket … | head`) is not an
/// error.
pub fn finish(written: anyhow::Result<()>, out: &mut impl Write) -> anyhow::Result<()> {
    match written.and_then(|()| out.flush().map_err(anyhow::Error::from)) {
        Err(e)
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(terminal_safe("a\x1b[2Jb\r\n", 50), "a\\u{1b}[2Jb\\r\\n");
        assert_eq!(terminal_safe("abcdef", 3), "abc…");
    }
}
