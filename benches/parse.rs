//! Parse-and-normalize throughput on a generated auth.log (see examples/gen_authlog.rs for
//! the mix), single-threaded: `cargo bench --bench parse`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use picket::base::lines::for_each_line;
use picket::base::timestamp::{LocalZone, Timestamp};
use picket::parse::{InputFormat, Normalizer};

fn generated_log(lines: usize) -> Vec<u8> {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "run",
            "--quiet",
            "--release",
            "--example",
            "gen_authlog",
            "--",
        ])
        .arg(lines.to_string())
        .output()
        .expect("running the generator");
    assert!(
        out.status.success(),
        "generator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn bench(c: &mut Criterion) {
    const LINES: usize = 200_000;
    let data = generated_log(LINES);
    let mut group = c.benchmark_group("normalize");
    group.throughput(Throughput::Elements(LINES as u64));
    group.sample_size(20);
    group.bench_function("auth.log 200k lines", |b| {
        b.iter(|| {
            let mut n = Normalizer::new(
                InputFormat::Syslog,
                "bench",
                LocalZone::utc(),
                Timestamp::from_secs(1_800_000_000),
            );
            let mut out = Vec::with_capacity(4096);
            let mut events = 0usize;
            for_each_line(&data[..], |l| {
                n.push_line(l, &mut out);
                if out.len() >= 4096 {
                    events += out.len();
                    out.clear();
                }
            })
            .unwrap();
            events + out.len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
