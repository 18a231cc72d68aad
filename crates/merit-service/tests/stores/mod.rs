//! The stores every contract test runs on: SQLite always, PostgreSQL when
//! MERIT_TEST_POSTGRES_URL is set (each test in its own schema). With
//! CI=true a missing PostgreSQL URL fails the test instead of skipping it.

use merit_store::Store;
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT_SCHEMA: AtomicU32 = AtomicU32::new(0);

pub async fn stores(test: &str) -> Vec<Store> {
    let sqlite = Store::open(":memory:").await.unwrap();
    sqlite.migrate().await.unwrap();
    let mut stores = vec![sqlite];
    match std::env::var("MERIT_TEST_POSTGRES_URL") {
        Ok(url) => {
            let schema = format!(
                "t_{test}_{}_{}",
                std::process::id(),
                NEXT_SCHEMA.fetch_add(1, Ordering::Relaxed)
            );
            let admin = Store::open(&url).await.unwrap();
            admin
                .execute_raw(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .await
                .unwrap();
            admin
                .execute_raw(&format!("CREATE SCHEMA {schema}"))
                .await
                .unwrap();
            admin.close().await;
            let options = PgConnectOptions::from_str(&url)
                .unwrap()
                .options([("search_path", schema.as_str())]);
            let postgres = Store::open_postgres(options).await.unwrap();
            postgres.migrate().await.unwrap();
            stores.push(postgres);
        }
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but MERIT_TEST_POSTGRES_URL is not set: PostgreSQL tests cannot run")
        }
        Err(_) => {}
    }
    stores
}
