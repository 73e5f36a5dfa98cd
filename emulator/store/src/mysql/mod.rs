//! The query port: MySQL wire protocol through `opensrv-mysql`, `mysql_native_password` checked
//! against the catalog's users, each statement run by `Catalog::execute_typed`.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use opensrv_mysql::{
    AsyncMysqlIntermediary, AsyncMysqlShim, Column, ColumnFlags, ColumnType, ErrorKind, InitWriter,
    OkResponse, ParamParser, QueryResultWriter, StatementMetaWriter,
};
use sha1::{Digest, Sha1};
use tokio::io::AsyncWrite;
use tokio::net::TcpListener;

use crate::catalog::Catalog;
use crate::sql::{self, vars, Kind, Session, SqlError};

/// Accepts connections until the task is aborted.
pub async fn serve(listener: TcpListener, catalog: Arc<Catalog>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("query port: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shim = Shim::new(catalog.clone(), peer.ip().to_string());
        let w_state = shim.auth_error.clone();
        tokio::spawn(async move {
            let (r, w) = stream.into_split();
            let w = AuthErrorRewriter {
                inner: w,
                replacement: w_state,
                pending: Vec::new(),
            };
            if let Err(e) = AsyncMysqlIntermediary::run_on(shim, r, w).await {
                if e.kind() != io::ErrorKind::PermissionDenied
                    && e.kind() != io::ErrorKind::UnexpectedEof
                {
                    eprintln!("query port: connection ended: {e}");
                }
            }
        });
    }
}

/// `mysql_native_password`: SHA1(pw) XOR SHA1(salt + SHA1(SHA1(pw))); empty password = empty reply.
pub fn native_password_matches(password: &str, salt: &[u8], reply: &[u8]) -> bool {
    if password.is_empty() {
        return reply.is_empty();
    }
    let stage1 = Sha1::digest(password.as_bytes());
    let stage2 = Sha1::digest(stage1);
    let mut h = Sha1::new();
    h.update(salt);
    h.update(stage2);
    let mix = h.finalize();
    reply.len() == 20 && (0..20).all(|i| reply[i] == stage1[i] ^ mix[i])
}

static SALT_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A per-connection scramble (printable, no NUL or `$`, as the handshake requires).
fn new_salt(seed: u32) -> [u8; 20] {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut h = Sha1::new();
    h.update(now.to_le_bytes());
    h.update(seed.to_le_bytes());
    h.update(SALT_COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    let d = h.finalize();
    let mut salt = [0u8; 20];
    for i in 0..20 {
        let mut c = 0x21 + d[i] % 94;
        if c == b'$' {
            c += 1;
        }
        salt[i] = c;
    }
    salt
}

/// opensrv answers a failed login with its own error (1698 "Authenticate failed, user: ...");
/// StarRocks says `ERROR 1045 (28000): Access denied for user 'u'@'host' (using password: YES)`.
/// After a failed `authenticate` this writer swaps that one error packet for StarRocks' text.
struct AuthErrorRewriter<W> {
    inner: W,
    /// The replacement message, armed by `authenticate`.
    replacement: Arc<Mutex<Option<String>>>,
    /// Bytes of a rewritten packet not yet accepted by `inner`.
    pending: Vec<u8>,
}

impl<W: AsyncWrite + Unpin> AuthErrorRewriter<W> {
    fn drain(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<io::Result<()>> {
        use std::task::Poll;
        while !self.pending.is_empty() {
            match std::pin::Pin::new(&mut self.inner).poll_write(cx, &self.pending) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.pending.drain(..n);
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }

    /// If `bytes` is opensrv's login-failure packet and a replacement is armed: the new packet.
    fn rewrite(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let is_auth_error =
            bytes.len() > 7 && bytes[4] == 0xFF && u16::from_le_bytes([bytes[5], bytes[6]]) == 1698;
        if !is_auth_error {
            return None;
        }
        let msg = self.replacement.lock().unwrap().take()?;
        let mut payload = vec![0xFF];
        payload.extend_from_slice(&1045u16.to_le_bytes());
        payload.extend_from_slice(b"#28000");
        payload.extend_from_slice(msg.as_bytes());
        let len = payload.len() as u32;
        let mut packet = vec![len as u8, (len >> 8) as u8, (len >> 16) as u8, bytes[3]];
        packet.extend_from_slice(&payload);
        Some(packet)
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for AuthErrorRewriter<W> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[io::IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> std::task::Poll<io::Result<usize>> {
        use std::task::Poll;
        let this = self.get_mut();
        if let Poll::Ready(Err(e)) = this.drain(cx) {
            return Poll::Ready(Err(e));
        }
        if !this.pending.is_empty() {
            return Poll::Pending;
        }
        if this.replacement.lock().unwrap().is_some() {
            let all: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            if let Some(packet) = this.rewrite(&all) {
                this.pending = packet;
                let _ = this.drain(cx);
                return Poll::Ready(Ok(all.len()));
            }
        }
        std::pin::Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.drain(cx) {
            std::task::Poll::Ready(Ok(())) => std::pin::Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.drain(cx) {
            std::task::Poll::Ready(Ok(())) => std::pin::Pin::new(&mut this.inner).poll_shutdown(cx),
            other => other,
        }
    }
}

struct Shim {
    catalog: Arc<Catalog>,
    peer_ip: String,
    auth_error: Arc<Mutex<Option<String>>>,
    session: Session,
    salt: [u8; 20],
    /// Set by `authenticate` (which only gets `&self`).
    authed_user: Mutex<Option<String>>,
}

impl Shim {
    fn new(catalog: Arc<Catalog>, peer_ip: String) -> Shim {
        let id = catalog.new_connection_id();
        let mut session = Session::root();
        session.connection_id = id;
        Shim {
            catalog,
            peer_ip,
            auth_error: Arc::new(Mutex::new(None)),
            session,
            salt: new_salt(id),
            authed_user: Mutex::new(None),
        }
    }

    fn take_user(&mut self) {
        if let Some(u) = self.authed_user.lock().unwrap().take() {
            self.session.user = u;
        }
    }
}

fn error_kind(code: u16) -> ErrorKind {
    // opensrv's From<u16> panics on codes it does not know; StarRocks' own (5xxx) map to a
    // generic one with the same meaning.
    match code {
        1007 | 1008 | 1045 | 1046 | 1049 | 1050 | 1051 | 1064 | 1065 | 1105 | 1142 | 1193
        | 1396 => ErrorKind::from(code),
        5022 => ErrorKind::ER_CANNOT_USER,
        _ => ErrorKind::ER_UNKNOWN_ERROR,
    }
}

fn wire_type(k: Kind) -> ColumnType {
    match k {
        Kind::TinyInt | Kind::Boolean => ColumnType::MYSQL_TYPE_TINY,
        Kind::SmallInt => ColumnType::MYSQL_TYPE_SHORT,
        Kind::Int => ColumnType::MYSQL_TYPE_LONG,
        Kind::BigInt | Kind::LargeInt => ColumnType::MYSQL_TYPE_LONGLONG,
        Kind::Float => ColumnType::MYSQL_TYPE_FLOAT,
        Kind::Double => ColumnType::MYSQL_TYPE_DOUBLE,
        Kind::Decimal(_) => ColumnType::MYSQL_TYPE_NEWDECIMAL,
        Kind::Date => ColumnType::MYSQL_TYPE_DATE,
        Kind::DateTime => ColumnType::MYSQL_TYPE_DATETIME,
        Kind::Text | Kind::Json => ColumnType::MYSQL_TYPE_VAR_STRING,
    }
}

async fn write_output<W: AsyncWrite + Send + Unpin>(
    res: Result<sql::Output, SqlError>,
    results: QueryResultWriter<'_, W>,
) -> io::Result<()> {
    match res {
        Err(e) => {
            results
                .error(error_kind(e.code), e.message.as_bytes())
                .await
        }
        Ok(out) if !out.result_set => {
            results
                .completed(OkResponse {
                    affected_rows: out.affected,
                    info: out.info,
                    ..Default::default()
                })
                .await
        }
        Ok(out) => {
            let cols: Vec<Column> = out
                .columns
                .iter()
                .map(|(name, kind)| Column {
                    table: String::new(),
                    column: name.clone(),
                    coltype: wire_type(*kind),
                    colflags: ColumnFlags::empty(),
                })
                .collect();
            let mut w = results.start(&cols).await?;
            for row in &out.rows {
                for v in row {
                    w.write_col(v.as_deref())?;
                }
                w.end_row().await?;
            }
            w.finish().await
        }
    }
}

#[async_trait::async_trait]
impl<W: AsyncWrite + Send + Unpin> AsyncMysqlShim<W> for Shim {
    type Error = io::Error;

    fn version(&self) -> String {
        vars::MYSQL_VERSION.to_string()
    }

    fn connect_id(&self) -> u32 {
        self.session.connection_id
    }

    fn salt(&self) -> [u8; 20] {
        self.salt
    }

    async fn authenticate(
        &self,
        _plugin: &str,
        username: &[u8],
        salt: &[u8],
        auth_data: &[u8],
    ) -> bool {
        let user = String::from_utf8_lossy(username).to_string();
        let ok = match self.catalog.password_of(&user) {
            Some(pw) => native_password_matches(&pw, salt, auth_data),
            None => false,
        };
        if ok {
            *self.authed_user.lock().unwrap() = Some(user);
        } else {
            let using = if auth_data.is_empty() { "NO" } else { "YES" };
            *self.auth_error.lock().unwrap() = Some(format!(
                "Access denied for user '{user}'@'{}' (using password: {using})",
                self.peer_ip
            ));
        }
        ok
    }

    async fn on_prepare<'a>(
        &'a mut self,
        _query: &'a str,
        info: StatementMetaWriter<'a, W>,
    ) -> io::Result<()> {
        info.error(
            ErrorKind::ER_UNKNOWN_ERROR,
            b"Prepared statements are not supported by the StarRocks emulator",
        )
        .await
    }

    async fn on_execute<'a>(
        &'a mut self,
        _id: u32,
        _params: ParamParser<'a>,
        results: QueryResultWriter<'a, W>,
    ) -> io::Result<()> {
        results
            .error(
                ErrorKind::ER_UNKNOWN_ERROR,
                b"Prepared statements are not supported by the StarRocks emulator",
            )
            .await
    }

    async fn on_close<'a>(&'a mut self, _stmt: u32)
    where
        W: 'async_trait,
    {
    }

    async fn on_query<'a>(
        &'a mut self,
        query: &'a str,
        results: QueryResultWriter<'a, W>,
    ) -> io::Result<()> {
        self.take_user();
        let catalog = self.catalog.clone();
        let mut session = self.session.clone();
        let sql = query.to_string();
        // SELECTs may copy many rows into the mirror: keep that off the async workers.
        let (session, res) = tokio::task::spawn_blocking(move || {
            let r = catalog.execute_typed(&mut session, &sql);
            (session, r)
        })
        .await
        .map_err(|e| io::Error::other(e.to_string()))?;
        self.session = session;
        write_output(res, results).await
    }

    async fn on_init<'a>(&'a mut self, db: &'a str, w: InitWriter<'a, W>) -> io::Result<()> {
        self.take_user();
        match sql::use_db(&self.catalog, &mut self.session, db) {
            Ok(()) => w.ok().await,
            Err(e) => w.error(error_kind(e.code), e.message.as_bytes()).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_password_scramble() {
        let salt = b"01234567890123456789";
        let stage1 = Sha1::digest(b"secret");
        let stage2 = Sha1::digest(stage1);
        let mut h = Sha1::new();
        h.update(salt);
        h.update(stage2);
        let mix = h.finalize();
        let reply: Vec<u8> = (0..20).map(|i| stage1[i] ^ mix[i]).collect();
        assert!(native_password_matches("secret", salt, &reply));
        assert!(!native_password_matches("other", salt, &reply));
        assert!(native_password_matches("", salt, b""));
        assert!(!native_password_matches("", salt, &reply));
    }

    #[test]
    fn every_error_code_we_send_maps_without_panicking() {
        for c in [
            1007, 1008, 1045, 1046, 1049, 1050, 1051, 1064, 1065, 1105, 1142, 1193, 5022, 9999,
        ] {
            let _ = error_kind(c);
        }
        let s = new_salt(1);
        assert!(s.iter().all(|&b| b != 0 && b != b'$'));
    }

    #[test]
    fn only_the_armed_login_error_is_rewritten() {
        let armed = Arc::new(Mutex::new(Some(
            "Access denied for user 'u'@'h' (using password: YES)".to_string(),
        )));
        let w = AuthErrorRewriter {
            inner: Vec::<u8>::new(),
            replacement: armed.clone(),
            pending: Vec::new(),
        };
        let mut theirs = vec![0, 0, 0, 2, 0xFF];
        theirs.extend_from_slice(&1698u16.to_le_bytes());
        theirs.extend_from_slice(b"#28000Authenticate failed");
        let len = theirs.len() - 4;
        theirs[0] = len as u8;
        let ok = [7u8, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0];
        assert_eq!(w.rewrite(&ok), None);
        let new = w.rewrite(&theirs).unwrap();
        assert_eq!(new[3], 2, "keeps the sequence number");
        assert_eq!(
            u32::from_le_bytes([new[0], new[1], new[2], 0]) as usize,
            new.len() - 4
        );
        assert_eq!(&new[4..7], &[0xFF, 0x15, 0x04]);
        assert!(new.ends_with(b"#28000Access denied for user 'u'@'h' (using password: YES)"));
        assert!(armed.lock().unwrap().is_none(), "disarmed after one use");
        assert_eq!(w.rewrite(&theirs), None);
    }
}
