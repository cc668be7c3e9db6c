//! The configuration checks in a real `picket run`: they run at start and are stored with
//! the security score, a change to the check directory takes effect within a couple of
//! seconds (a broken file keeps its last good version and shows its error), an admin can
//! run them on demand (audited; a viewer cannot), and the score's history grows.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::http::{get_ok, request};
use common::sys::{add_user, bearer, wait_for, Picket};

/// A check on a file of the test's own: whatever this machine's configuration, its verdict
/// is the test's doing.
fn mode_check(id: &str, path: &str, max: &str) -> String {
    format!(
        "id: {id}\ntitle: The test file is private\ncategory: files\nseverity: high\n\
         remediation: chmod 0600 the test file\nfile_mode:\n  path: {path}\n  max: \"{max}\"\n"
    )
}

#[test]
fn checks_run_at_start_reload_on_change_and_on_demand() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let target = dir.path().join("secret.conf");
    std::fs::write(&target, "x").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    let t = target.to_str().unwrap();
    let checks = dir.path().join("checks");
    std::fs::create_dir(&checks).unwrap();
    std::fs::write(
        checks.join("private.yaml"),
        mode_check("private", t, "0600"),
    )
    .unwrap();
    std::fs::write(dir.path().join("auth.log"), "").unwrap();
    add_user(d, "alice", "admin", "correct horse battery");
    add_user(d, "victor", "viewer", "correct horse battery");
    let (admin, viewer) = (bearer(d, "alice"), bearer(d, "victor"));
    let (_p, addr) = Picket::serve(&[
        "--log",
        dir.path().join("auth.log").to_str().unwrap(),
        "--data-dir",
        d,
        "--checks",
        checks.to_str().unwrap(),
        "--checks-interval",
        "3600",
    ]);
    let call = |method: &str, path: &str, auth: &str| {
        request(&addr, method, path, &[("Authorization", auth)], None)
    };
    let get = |path: &str| get_ok(&addr, path, &admin);

    // At start: one FAIL naming the file and its mode, and a score with its parts.
    let cfg = wait_for("the first run", Duration::from_secs(10), || {
        let c = get("/api/config");
        (!c["ran_at"].is_null()).then_some(c)
    });
    assert_eq!(cfg["interval_s"], 3600);
    assert_eq!(cfg["results"].as_array().unwrap().len(), 1, "{cfg}");
    let r = &cfg["results"][0];
    assert_eq!(
        (r["id"].as_str(), r["status"].as_str()),
        (Some("private"), Some("FAIL"))
    );
    assert_eq!(r["evidence"][0]["file"], t);
    assert!(
        r["evidence"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("0644"),
        "{r}"
    );
    assert!(r["since"].is_string());
    assert_eq!(cfg["score"]["score"], 0);
    assert_eq!(cfg["counts"]["FAIL"], 1);
    assert!(cfg["formula"].as_str().unwrap().contains("critical 10"));
    assert_eq!(get("/api/metrics")["security_score"], 0);

    // Hot reload: a second check appears and runs within a couple of seconds.
    std::fs::write(checks.join("loose.yaml"), mode_check("loose", t, "0644")).unwrap();
    let cfg = wait_for("the new check", Duration::from_secs(5), || {
        let c = get("/api/config");
        (c["results"].as_array().unwrap().len() == 2).then_some(c)
    });
    let loose = cfg["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "loose")
        .unwrap();
    assert_eq!(loose["status"], "PASS");
    assert_eq!(cfg["score"]["score"], 50, "one high PASS, one high FAIL");

    // A broken edit: the error is shown at its line, the last good version still runs.
    std::fs::write(
        checks.join("loose.yaml"),
        mode_check("loose", t, "0644").replace("severity: high", "severity: dire"),
    )
    .unwrap();
    let cfg = wait_for("the error", Duration::from_secs(5), || {
        let c = get("/api/config");
        (!c["errors"].as_array().unwrap().is_empty()).then_some(c)
    });
    assert_eq!(cfg["errors"][0]["line"], 4, "{cfg}");
    assert!(cfg["errors"][0]["file"]
        .as_str()
        .unwrap()
        .ends_with("loose.yaml"));
    assert_eq!(cfg["results"].as_array().unwrap().len(), 2);

    // Fixed on the host, then run on demand: an admin may, a viewer may not.
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(call("POST", "/api/config/run", &viewer).status, 403);
    let r = call("POST", "/api/config/run", &admin);
    assert_eq!(r.status, 200, "{}", r.body);
    let cfg = r.json();
    assert_eq!(cfg["score"]["score"], 100, "{cfg}");
    assert!(cfg["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "PASS"));
    let audit = get("/api/audit");
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "checks.run" && e["user"] == "alice"),
        "{audit}"
    );

    // The score's trend: every run is a point, oldest first, ending at 100.
    let points = get("/api/config/history")["points"]
        .as_array()
        .unwrap()
        .clone();
    assert!(points.len() >= 3, "{points:?}");
    assert_eq!(points[0]["score"], 0);
    assert_eq!(points.last().unwrap()["score"], 100);
    assert_eq!(
        call("GET", "/api/config/history?since=yesterday", &admin).status,
        400
    );
}
