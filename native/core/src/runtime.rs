//! The one tokio runtime of the library: HTTP only. Its threads never touch the JVM; the task
//! thread enters it with `block_on` only to wait for a load it must wait for.

use once_cell::sync::Lazy;
use tokio::runtime::{Builder, Runtime};

static RUNTIME: Lazy<Runtime> = Lazy::new(|| {
    Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("starrocks-sink-io")
        .enable_all()
        .build()
        .expect("cannot start the tokio runtime")
});

pub fn get() -> &'static Runtime {
    &RUNTIME
}
