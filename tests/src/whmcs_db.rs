//! Throwaway WHMCS databases for tests: a MariaDB database of its own (at 127.0.0.1:3306,
//! root, no password), or a SQLite file, loaded with `fixtures/whmcs/` and some rows.

use sqlx::{AnyConnection, Connection};

pub const MARIADB: &str = "mysql://root@127.0.0.1:3306";

/// A fresh WHMCS database with the fixture schema and `rows` inserted; dropped on `finish`.
pub struct TestDb {
    pub url: String,
    mariadb: Option<String>,
}

impl TestDb {
    pub async fn mariadb(name: &str, rows: &[&str]) -> TestDb {
        sqlx::any::install_default_drivers();
        let db = format!("opsync_store_{}_{name}", std::process::id());
        let mut admin = AnyConnection::connect(&format!("{MARIADB}/test"))
            .await
            .expect("MariaDB at 127.0.0.1:3306");
        sqlx::query(&format!("DROP DATABASE IF EXISTS {db}"))
            .execute(&mut admin)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {db}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let url = format!("{MARIADB}/{db}");
        load(&url, "schema.mysql.sql", rows).await;
        TestDb {
            url,
            mariadb: Some(db),
        }
    }

    pub async fn sqlite(name: &str, rows: &[&str]) -> TestDb {
        sqlx::any::install_default_drivers();
        let path =
            std::env::temp_dir().join(format!("opsync_store_{}_{name}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let url = format!("sqlite://{}?mode=rwc", path.display());
        load(&url, "schema.sqlite.sql", rows).await;
        TestDb { url, mariadb: None }
    }

    pub async fn finish(self) {
        match self.mariadb {
            Some(db) => {
                let mut admin = AnyConnection::connect(&format!("{MARIADB}/test"))
                    .await
                    .unwrap();
                sqlx::query(&format!("DROP DATABASE {db}"))
                    .execute(&mut admin)
                    .await
                    .unwrap();
            }
            None => {
                let path = self
                    .url
                    .trim_start_matches("sqlite://")
                    .trim_end_matches("?mode=rwc");
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Runs the schema file and the inserts on one connection (the MySQL schema relaxes
/// sql_mode for its session, so the zero dates WHMCS keeps can go in).
async fn load(url: &str, schema: &str, rows: &[&str]) {
    let path = format!("{}/../fixtures/whmcs/{schema}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let mut conn = AnyConnection::connect(url).await.unwrap();
    let statements = text
        .split(";\n")
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|s| !s.trim().is_empty());
    for statement in statements.chain(rows.iter().map(|r| r.to_string())) {
        sqlx::query(&statement)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}
