//! The dashboard's files, embedded at build time (see `build.rs`): Picket is one binary
//! that works offline, with no CDN and no files to install.

/// (URL path, content type, ETag, bytes) of every file under `web/`. The ETag is a hash
/// of the content, so a browser revalidates with `If-None-Match` and gets a 304 instead
/// of the file again.
pub static ASSETS: &[(&str, &str, &str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// One embedded file.
pub struct Asset {
    pub content_type: &'static str,
    pub etag: &'static str,
    pub body: &'static [u8],
}

/// The asset served at `path` (`/` is the app shell).
pub fn find(path: &str) -> Option<Asset> {
    let path = if path == "/" { "/index.html" } else { path };
    ASSETS
        .iter()
        .find(|(p, _, _, _)| *p == path)
        .map(|(_, ct, etag, b)| Asset {
            content_type: ct,
            etag,
            body: b,
        })
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
        assert!(find("/")
            .is_some_and(|a| a.content_type.starts_with("text/html") && !a.body.is_empty()));
        assert!(find("/login.html").is_some());
        assert!(find("/js/app.js").is_some_and(|a| a.content_type.starts_with("text/javascript")));
        let tags: std::collections::HashSet<_> = ASSETS.iter().map(|(_, _, e, _)| *e).collect();
        assert_eq!(tags.len(), ASSETS.len(), "two assets share an ETag");
        assert!(find("/API.md").is_none());
        assert!(find("/../Cargo.toml").is_none());
        let total: usize = ASSETS.iter().map(|(_, _, _, b)| b.len()).sum();
        assert!(
            total < 200 * 1024,
            "dashboard is {total} bytes; the budget is 200 KB"
        );
    }
}
