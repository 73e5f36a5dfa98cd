//! `starrocks-emulator`: a one-FE/one-BE StarRocks 3.x/4.0 stand-in. Prints the bound ports as one
//! JSON line on stdout, logs to stderr, exits cleanly on SIGTERM/SIGINT.

/// glibc malloc spends a large share of ingest time growing thread arenas (mprotect and page
/// faults) for the millions of small row allocations a load makes; mimalloc avoids that. It is
/// built with `no_thp`: with transparent huge pages, every page mimalloc purged and took back was
/// a fresh 2 MiB page the kernel zeroed, half of the emulator's CPU (docs/emulator.md#performance).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use starrocks_emulator::EmulatorConfig;

const USAGE: &str = "usage: starrocks-emulator [--host 127.0.0.1] [--fe-http-port 8030] [--be-http-port 8040] \
[--query-port 9030] [--root-password PW] [--data-dir DIR] [--label-keep-max-second 259200] \
[--label-keep-max-num 1000] [--streaming-load-max-mb 102400] [--json-max-mb 100] \
[--max-running-txn-num-per-db 1000] [--publish-delay-ms 0] [--schema-change-delay-ms 0] \
[--starrocks-version 4.0.0] \
[--tls-cert CHAIN.pem --tls-key KEY.pem]   (port 0 = any free port; \
with --tls-cert/--tls-key both HTTP ports serve HTTPS only)";

/// Hand-written: a dozen `--flag value` pairs do not justify a CLI-parser dependency, and the
/// error text stays under our control.
fn parse_args(args: &[String]) -> Result<EmulatorConfig, String> {
    let mut c = EmulatorConfig { fe_http_port: 8030, be_http_port: 8040, query_port: 9030, ..Default::default() };
    let (mut tls_cert, mut tls_key) = (None, None);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag.as_str(), None),
        };
        let value = match inline {
            Some(v) => v,
            None => it.next().cloned().ok_or_else(|| format!("{name} needs a value"))?,
        };
        fn num<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
            v.parse().map_err(|_| format!("{name}: not a valid number: {v}"))
        }
        match name {
            "--host" => c.host = value,
            "--fe-http-port" => c.fe_http_port = num(name, &value)?,
            "--be-http-port" => c.be_http_port = num(name, &value)?,
            "--query-port" => c.query_port = num(name, &value)?,
            "--root-password" => c.root_password = value,
            "--data-dir" => c.data_dir = Some(PathBuf::from(value)),
            "--label-keep-max-second" => c.label_keep_max_second = num(name, &value)?,
            "--label-keep-max-num" => c.label_keep_max_num = num(name, &value)?,
            "--streaming-load-max-mb" => c.limits.streaming_load_max_mb = num(name, &value)?,
            "--json-max-mb" => c.limits.json_max_mb = num(name, &value)?,
            "--max-running-txn-num-per-db" => c.limits.max_running_txn_num_per_db = num(name, &value)?,
            "--publish-delay-ms" => c.publish_delay_ms = num(name, &value)?,
            "--schema-change-delay-ms" => c.schema_change_delay_ms = num(name, &value)?,
            "--starrocks-version" => c.starrocks_version = value,
            "--tls-cert" => tls_cert = Some(value),
            "--tls-key" => tls_key = Some(value),
            _ => return Err(format!("unknown option {name}")),
        }
    }
    c.tls = match (tls_cert, tls_key) {
        (None, None) => None,
        (Some(cert), Some(key)) => {
            let read = |flag: &str, path: &str| std::fs::read(path).map_err(|e| format!("{flag}: cannot read {path}: {e}"));
            Some(starrocks_emulator::TlsPem { cert_chain: read("--tls-cert", &cert)?, key: read("--tls-key", &key)? })
        }
        _ => return Err("--tls-cert and --tls-key go together".to_string()),
    };
    Ok(c)
}

/// Handlers are installed before the port line is printed: a supervisor may signal as soon as
/// it has read the ports, and an uninstalled handler would mean death by signal, not a clean exit.
async fn wait_for_signal(mut term: tokio::signal::unix::Signal, mut int: tokio::signal::unix::Signal) {
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = int.recv() => tracing::info!("SIGINT: shutting down"),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("starrocks-emulator: {e}");
            }
            eprintln!("{USAGE}");
            return if e.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) };
        }
    };
    use tokio::signal::unix::{signal, SignalKind};
    let (term, int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(t), Ok(i)) => (t, i),
        _ => {
            eprintln!("starrocks-emulator: cannot install signal handlers");
            return ExitCode::FAILURE;
        }
    };
    let host = config.host.clone();
    let emu = match starrocks_emulator::start(config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("starrocks-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    let line = format!("{{\"fe_http_port\":{},\"be_http_port\":{},\"query_port\":{}}}\n", emu.fe_http_port, emu.be_http_port, emu.query_port);
    let mut out = std::io::stdout().lock();
    if out.write_all(line.as_bytes()).and_then(|_| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    drop(out);
    tracing::info!(
        "listening on {host}: FE http {}, BE http {}, query {}",
        emu.fe_http_port,
        emu.be_http_port,
        emu.query_port
    );
    wait_for_signal(term, int).await;
    emu.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn defaults_are_starrocks_ports() {
        let c = parse_args(&[]).unwrap();
        assert_eq!((c.fe_http_port, c.be_http_port, c.query_port), (8030, 8040, 9030));
    }

    #[test]
    fn flags_and_errors() {
        let c = parse_args(&args("--fe-http-port 0 --be-http-port=0 --root-password pw --label-keep-max-num 5")).unwrap();
        assert_eq!((c.fe_http_port, c.be_http_port, c.root_password.as_str(), c.label_keep_max_num), (0, 0, "pw", 5));
        assert_eq!(parse_args(&args("--bogus 1")).err().unwrap(), "unknown option --bogus");
        let c = parse_args(&args("--publish-delay-ms 250 --starrocks-version 3.3.0")).unwrap();
        assert_eq!((c.publish_delay_ms, c.starrocks_version.as_str()), (250, "3.3.0"));
        assert_eq!(parse_args(&[]).unwrap().starrocks_version, "4.0.0");
        assert_eq!(parse_args(&args("--query-port")).err().unwrap(), "--query-port needs a value");
        assert!(parse_args(&args("--query-port x")).err().unwrap().contains("not a valid number"));
        assert_eq!(parse_args(&args("--tls-cert c.pem")).err().unwrap(), "--tls-cert and --tls-key go together");
        assert!(parse_args(&args("--tls-cert /nonexistent/c.pem --tls-key k.pem")).err().unwrap().starts_with("--tls-cert: cannot read /nonexistent/c.pem"));
    }
}
