//! The dashboard's files, embedded at build time (see `build.rs`): Picket is one binary
//! that works offline, with no CDN and no files to install.

/// (URL path, content type, bytes) of every file under `web/`.
pub static ASSETS: &[(&str, &str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The asset served at `path` (`/` is the app shell).
pub fn find(path: &str) -> Option<(&'static str, &'static [u8])> {
    let path = if path == "/" { "/index.html" } else { path };
    ASSETS
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|(_, ct, b)| (*ct, *b))
}

/// Pages a person may load without being logged in.
pub fn is_public(path: &str) -> bool {
    path == "/login.html"
        || path.starts_with("/css/")
        || path == "/js/login.js"
        || path == "/js/api.js"
        || path == "/js/dom.js"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_is_embedded_and_small() {
        assert!(find("/").is_some_and(|(ct, b)| ct.starts_with("text/html") && !b.is_empty()));
        assert!(find("/login.html").is_some());
        assert!(find("/js/app.js").is_some_and(|(ct, _)| ct.starts_with("text/javascript")));
        assert!(find("/API.md").is_none());
        assert!(find("/../Cargo.toml").is_none());
        let total: usize = ASSETS.iter().map(|(_, _, b)| b.len()).sum();
        assert!(
            total < 200 * 1024,
            "dashboard is {total} bytes; the budget is 200 KB"
        );
    }
}
