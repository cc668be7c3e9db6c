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
        let first = first_load();
        assert!(
            first < 200 * 1024,
            "the first load (login, shell, Overview) is {first} bytes; the budget is 200 KB"
        );
    }

    /// Bytes a browser fetches to sign in and see the Overview: both pages, their style
    /// sheet, and every module statically imported from login.js, app.js and the
    /// Overview's page (other pages load when visited).
    fn first_load() -> usize {
        let mut seen = std::collections::BTreeSet::new();
        let mut todo: Vec<String> = [
            "/index.html",
            "/login.html",
            "/css/picket.css",
            "/js/login.js",
            "/js/app.js",
            "/js/page-overview.js",
        ]
        .map(String::from)
        .to_vec();
        let mut total = 0;
        while let Some(path) = todo.pop() {
            if !seen.insert(path.clone()) {
                continue;
            }
            let asset = find(&path).unwrap_or_else(|| panic!("{path} is not embedded"));
            total += asset.body.len();
            if path.ends_with(".js") {
                let text = String::from_utf8_lossy(asset.body);
                for line in text.lines().filter(|l| l.starts_with("import ")) {
                    if let Some(m) = line.split("from './").nth(1) {
                        let name = m.split('\'').next().unwrap_or("");
                        todo.push(format!("/js/{name}"));
                    }
                }
            }
        }
        total
    }
}
