//! Serves only the query port, for trying the store crate alone:
//! `cargo run -p starrocks-emulator-store --example query_port -- [port] [root_password] [data_dir]`.

use std::path::PathBuf;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    let password = args.get(2).cloned().unwrap_or_default();
    let dir = args.get(3).map(PathBuf::from);
    let catalog =
        starrocks_emulator_store::Catalog::open(&password, dir.as_deref()).expect("open catalog");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    println!("{}", listener.local_addr().unwrap().port());
    starrocks_emulator_store::mysql::serve(listener, catalog).await;
}
