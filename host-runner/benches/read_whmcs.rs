//! `cargo bench -p opsync --bench read_whmcs`: the sync's read of `tbldomains`, 100k
//! Openprovider rows in MariaDB (127.0.0.1:3306, root, no password; a database of its own,
//! dropped after), through sqlx's `Any` driver (what opsync uses: one SQL text for MySQL
//! and SQLite) against sqlx's MySQL driver with the same query and the same decoding into
//! the engine's rows. The figures are in BENCHMARKS.md ("Reading WHMCS").

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_util::TryStreamExt;
use opsync::whmcs::Whmcs;
use opsync_engine::contract::WhmcsRow;
use opsync_testkit::whmcs_db::TestDb;
use sqlx::mysql::MySqlPoolOptions;
use sqlx::{QueryBuilder, Row};

const ROWS: u64 = 100_000;

/// 100k rows as the benchmarks' fixture has them (`scripts/bench-fixture.py`).
async fn fill(db: &TestDb) {
    let pool = MySqlPoolOptions::new().connect(&db.url).await.unwrap();
    for chunk in (1..=ROWS).collect::<Vec<_>>().chunks(1000) {
        let mut insert = QueryBuilder::new(
            "INSERT INTO tbldomains (id, userid, domain, registrar, status, expirydate, \
             nextduedate, nextinvoicedate, donotrenew, idprotection, reminders, subscriptionid, \
             additionalnotes, paymentmethod) ",
        );
        insert.push_values(chunk, |mut row, i| {
            let day = format!("2027-03-{:02}", 1 + i % 28);
            row.push_bind(*i as i64)
                .push_bind(1i64)
                .push_bind(format!("bench-{i:06}.com"))
                .push_bind("openprovider")
                .push_bind("Active")
                .push_bind(day.clone())
                .push_bind(day.clone())
                .push_bind(day)
                .push_bind(0i64)
                .push_bind(0i64)
                .push_bind("")
                .push_bind("")
                .push_bind("")
                .push_bind("");
        });
        insert.build().execute(&pool).await.unwrap();
    }
}

/// The same query through the MySQL driver, each row decoded as `Whmcs::read` decodes it.
async fn read_mysql(pool: &sqlx::MySqlPool, sql: &str) -> usize {
    let mut rows = sqlx::query(sql).fetch(pool);
    let mut read = Vec::new();
    while let Some(row) = rows.try_next().await.unwrap() {
        let userid: u64 = row
            .try_get::<Option<String>, _>(0)
            .unwrap()
            .and_then(|u| u.parse().ok())
            .unwrap_or(0);
        let mut at = 1;
        let domain = WhmcsRow::from_columns(|_| {
            at += 1;
            row.try_get::<Option<String>, _>(at - 1).unwrap()
        })
        .unwrap();
        read.push((userid, domain));
    }
    read.len()
}

/// This process's CPU time so far (user + system), in seconds: what the driver costs
/// opsync, apart from the time the server takes.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn read_whmcs(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(TestDb::mariadb("bench_read", &[]));
    rt.block_on(fill(&db));
    let store = rt.block_on(Whmcs::connect(&db.url)).unwrap();
    let mysql = rt
        .block_on(MySqlPoolOptions::new().connect(&db.url))
        .unwrap();
    let sql = opsync::whmcs::read_all_sql();
    assert_eq!(
        rt.block_on(store.openprovider_rows()).unwrap().len(),
        ROWS as usize
    );
    assert_eq!(rt.block_on(read_mysql(&mysql, &sql)), ROWS as usize);

    // The drivers in turn, 20 reads each: opsync's own CPU per read beside the wall time.
    let (mut any, mut my) = ((0.0, 0.0), (0.0, 0.0));
    for _ in 0..20 {
        for (total, mysql_driver) in [(&mut any, false), (&mut my, true)] {
            let (wall, cpu) = (std::time::Instant::now(), cpu_seconds());
            if mysql_driver {
                rt.block_on(read_mysql(&mysql, &sql));
            } else {
                rt.block_on(store.openprovider_rows()).unwrap();
            }
            total.0 += wall.elapsed().as_secs_f64() / 20.0;
            total.1 += (cpu_seconds() - cpu) / 20.0;
        }
    }
    for (name, (wall, cpu)) in [("any driver (opsync)", any), ("mysql driver", my)] {
        println!(
            "{name}: {:.1} ms wall, {:.1} ms of opsync's CPU per read of {ROWS} rows (20 reads, in turn)",
            wall * 1000.0,
            cpu * 1000.0
        );
    }

    let mut group = c.benchmark_group("read_whmcs");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS));
    group.bench_function("any driver (opsync)", |b| {
        b.iter(|| rt.block_on(store.openprovider_rows()).unwrap().len())
    });
    group.bench_function("mysql driver", |b| {
        b.iter(|| rt.block_on(read_mysql(&mysql, &sql)))
    });
    group.finish();
    rt.block_on(db.finish());
}

criterion_group!(benches, read_whmcs);
criterion_main!(benches);
