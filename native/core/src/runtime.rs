//! The tokio runtime of the library: HTTP only; its threads never touch the JVM. It exists while
//! at least one sink is open: the first sink starts it, the last one to close shuts it down, so a
//! deleted connector leaves no thread behind.

use std::sync::{Arc, Mutex};

use tokio::runtime::{Builder, Handle, Runtime};

static RUNTIME: Mutex<Option<(Arc<Runtime>, usize)>> = Mutex::new(None);

/// Keeps the runtime alive; dropping the last one shuts it down.
pub struct RuntimeRef {
    handle: Handle,
}

impl RuntimeRef {
    /// For spawning; a handle does not keep the runtime alive by itself.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

pub fn acquire() -> std::io::Result<RuntimeRef> {
    let mut slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    if slot.is_none() {
        let rt = Builder::new_multi_thread().worker_threads(2).thread_name("starrocks-sink-io").enable_all().build()?;
        *slot = Some((Arc::new(rt), 0));
    }
    let (rt, users) = slot.as_mut().expect("set above");
    *users += 1;
    Ok(RuntimeRef { handle: rt.handle().clone() })
}

impl Drop for RuntimeRef {
    fn drop(&mut self) {
        let mut slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
        let last = match slot.as_mut() {
            Some((_, users)) => {
                *users -= 1;
                *users == 0
            }
            None => false,
        };
        if last {
            let (rt, _) = slot.take().expect("checked above");
            drop(slot);
            // shutdown_background: allowed anywhere, and it does not wait for the aborted loads.
            if let Ok(rt) = Arc::try_unwrap(rt) {
                rt.shutdown_background();
            }
        }
    }
}

/// Whether the runtime exists now (for tests).
pub fn is_running() -> bool {
    RUNTIME.lock().unwrap_or_else(|p| p.into_inner()).is_some()
}
