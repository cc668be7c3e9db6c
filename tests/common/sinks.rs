//! Real receivers for the notification tests, all on loopback: a webhook receiver
//! speaking enough HTTP/1.1 (answering with a scripted list of statuses), a listener that
//! accepts and never answers (a blackholed server), and Debian's aiosmtpd as an SMTP sink
//! writing a Maildir, with STARTTLS from a test CA made by openssl.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::http::free_port;
use crate::common::sys::{sh, wait_for};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    pub at: Instant,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
    /// The status it was answered with.
    pub status: u16,
}

impl Hit {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP/1.1 webhook receiver on 127.0.0.1. Answers each request with the next status
/// of its script, then 200.
pub struct Receiver {
    pub addr: String,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Receiver {
    pub fn start(script: &[u16]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let script = Arc::new(Mutex::new(script.to_vec()));
        let h = hits.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (h, script) = (h.clone(), script.clone());
                thread::spawn(move || {
                    let _ = serve(conn, &h, &script);
                });
            }
        });
        Receiver { addr, hits }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived; all of them.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Hit> {
        wait_for(&format!("{n} webhook requests"), timeout, || {
            let hits = self.hits();
            (hits.len() >= n).then_some(hits)
        })
    }
}

fn serve(conn: TcpStream, hits: &Mutex<Vec<Hit>>, script: &Mutex<Vec<u16>>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut r = BufReader::new(conn.try_clone()?);
    let mut w = conn;
    // Keep-alive: one request after another on the connection.
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
        let mut headers = Vec::new();
        loop {
            let mut l = String::new();
            r.read_line(&mut l)?;
            let l = l.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let len = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        r.read_exact(&mut body)?;
        let status = {
            let mut s = script.lock().unwrap();
            if s.is_empty() {
                200
            } else {
                s.remove(0)
            }
        };
        hits.lock().unwrap().push(Hit {
            at: Instant::now(),
            path,
            headers,
            body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
            status,
        });
        let text = if status == 200 {
            "ok"
        } else {
            "receiver says no"
        };
        write!(
            w,
            "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        )?;
        w.flush()?;
    }
}

/// A listener that accepts connections and never says a word (a blackholed server).
pub struct Blackhole {
    pub port: u16,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl Blackhole {
    pub fn start() -> Blackhole {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let held: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let h = held.clone();
        thread::spawn(move || {
            for c in listener.incoming().flatten() {
                h.lock().unwrap().push(c);
            }
        });
        Blackhole { port, held }
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.held.lock().unwrap().len()
    }
}

/// A test CA and a certificate for `localhost` and 127.0.0.1 signed by it (a self-signed
/// certificate would be refused as a CA used as an end entity, as it should be).
pub struct TestCerts {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub fn make_certs(dir: &Path) -> TestCerts {
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();
    sh(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=Picket test CA",
            "-keyout",
            &p("ca.key"),
            "-out",
            &p("ca.pem"),
        ],
    );
    sh(
        "openssl",
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            &p("server.key"),
            "-out",
            &p("server.csr"),
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    sh(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            &p("server.csr"),
            "-CA",
            &p("ca.pem"),
            "-CAkey",
            &p("ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &p("server.ext"),
            "-out",
            &p("server.pem"),
        ],
    );
    TestCerts {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    }
}

/// Debian's aiosmtpd on 127.0.0.1, storing what it receives in a Maildir. With `tls`,
/// it offers STARTTLS and refuses mail until the client started it.
pub struct SmtpSink {
    pub port: u16,
    pub maildir: PathBuf,
    child: Child,
}

impl SmtpSink {
    pub fn start(dir: &Path, tls: Option<&TestCerts>) -> SmtpSink {
        SmtpSink::spawn(dir, tls.map(|t| ("--tlscert", "--tlskey", t)))
    }

    /// An SMTPS sink: TLS from the first byte (what `tls: tls` speaks, port 465 in life).
    pub fn start_implicit_tls(dir: &Path, tls: &TestCerts) -> SmtpSink {
        SmtpSink::spawn(dir, Some(("--smtpscert", "--smtpskey", tls)))
    }

    fn spawn(dir: &Path, tls: Option<(&str, &str, &TestCerts)>) -> SmtpSink {
        let port = free_port();
        let maildir = dir.join(format!("maildir-{port}"));
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")]);
        if let Some((cert_flag, key_flag, t)) = tls {
            cmd.arg(cert_flag).arg(&t.cert).arg(key_flag).arg(&t.key);
        }
        cmd.args(["-c", "aiosmtpd.handlers.Mailbox"]).arg(&maildir);
        SmtpSink::launch(cmd, port, maildir)
    }

    /// Starts `cmd` (an aiosmtpd listening on `port`) and returns once it accepts.
    fn launch(mut cmd: Command, port: u16, maildir: PathBuf) -> SmtpSink {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting aiosmtpd (package python3-aiosmtpd; tests/run.sh installs it)");
        let sink = SmtpSink {
            port,
            maildir,
            child,
        };
        wait_for("aiosmtpd to listen", Duration::from_secs(20), || {
            TcpStream::connect(("127.0.0.1", port)).ok().map(|_| ())
        });
        sink
    }

    /// [`SmtpSink::start`] with STARTTLS required and AUTH (PLAIN, LOGIN) required after
    /// it, accepting only `user` and `password`: aiosmtpd's own authenticator hook, which
    /// its command line does not offer, through a few lines of Python.
    pub fn start_with_login(dir: &Path, tls: &TestCerts, user: &str, password: &str) -> SmtpSink {
        let port = free_port();
        let maildir = dir.join(format!("maildir-{port}"));
        let script = r#"
import ssl, sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult
port, maildir, cert, key, user, password = sys.argv[1:7]
def check(server, session, envelope, mechanism, data):
    ok = data.login == user.encode() and data.password == password.encode()
    return AuthResult(success=ok, handled=False)
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
c = Controller(Mailbox(maildir), hostname="127.0.0.1", port=int(port), tls_context=ctx,
               require_starttls=True, authenticator=check, auth_required=True,
               auth_require_tls=True)
c.start()
while True:
    time.sleep(3600)
"#;
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.args(["-c", script, &port.to_string()])
            .arg(&maildir)
            .arg(&tls.cert)
            .arg(&tls.key)
            .args([user, password]);
        SmtpSink::launch(cmd, port, maildir)
    }

    /// The messages delivered so far, raw (headers and body).
    pub fn messages(&self) -> Vec<String> {
        let Ok(rd) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut out: Vec<(std::time::SystemTime, String)> = rd
            .flatten()
            .filter_map(|e| {
                let t = e.metadata().ok()?.modified().ok()?;
                Some((t, std::fs::read_to_string(e.path()).ok()?))
            })
            .collect();
        out.sort_by_key(|(t, _)| *t);
        out.into_iter().map(|(_, m)| m).collect()
    }

    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<String> {
        wait_for(&format!("{n} mails in the SMTP sink"), timeout, || {
            let m = self.messages();
            (m.len() >= n).then_some(m)
        })
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A mail's headers (unfolded) and its body, decoded from quoted-printable when so sent.
pub fn split_mail(raw: &str) -> (Vec<(String, String)>, String) {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let qp = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("content-transfer-encoding")
            && v.eq_ignore_ascii_case("quoted-printable")
    });
    let body = if qp {
        decode_qp(body)
    } else {
        body.to_string()
    };
    (headers, body)
}

fn decode_qp(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            if b.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            if let Some(h) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(h);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}
