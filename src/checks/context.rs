//! What the checks of one run share, computed at most once per run and never across runs
//! (a long-lived daemon must see changes): the walk of the system directories, and the
//! running sshd's own reading of its configuration (`sshd -T`).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::commands;
use super::host::Host;
use super::walk::WalkCache;

/// The shared state of one run of the checks.
#[derive(Debug, Default)]
pub struct RunContext {
    pub walks: WalkCache,
    sshd_t: OnceLock<Option<HashMap<String, String>>>,
}

impl RunContext {
    /// `sshd -T`'s effective settings (lower-case keyword → value), when the root is `/`
    /// and the command succeeds (it needs root and the host keys); `None` otherwise.
    pub fn sshd_t(&self, host: &Host) -> Option<&HashMap<String, String>> {
        self.sshd_t
            .get_or_init(|| {
                let out = commands::run(host, "sshd -T").ok()?;
                (out.success() && !out.truncated).then(|| parse_sshd_t(&out.stdout))
            })
            .as_ref()
    }
}

impl RunContext {
    /// A context whose `sshd -T` said `settings`, for tests of the disagreement paths.
    #[cfg(test)]
    pub(crate) fn with_sshd_t(settings: &[(&str, &str)]) -> Self {
        let ctx = RunContext::default();
        let m = settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ctx.sshd_t.set(Some(m)).expect("fresh context");
        ctx
    }
}

/// `keyword value` lines, as `sshd -T` prints them; the first of a repeated keyword
/// (`listenaddress`) is kept.
pub fn parse_sshd_t(stdout: &str) -> HashMap<String, String> {
    let mut m = HashMap::new();
    for line in stdout.lines() {
        if let Some((k, v)) = line.trim().split_once(' ') {
            m.entry(k.to_ascii_lowercase())
                .or_insert_with(|| v.trim().to_string());
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sshd_t_output() {
        let m = parse_sshd_t(
            "port 22\nlistenaddress [::]:22\nlistenaddress 0.0.0.0:22\nPermitRootLogin without-password\nbroken\n",
        );
        assert_eq!(m["listenaddress"], "[::]:22");
        assert_eq!(m["permitrootlogin"], "without-password");
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn sshd_t_runs_only_on_the_live_host() {
        let t = tempfile::tempdir().unwrap();
        let h = Host::new(t.path()).unwrap();
        assert!(RunContext::default().sshd_t(&h).is_none());
    }
}
