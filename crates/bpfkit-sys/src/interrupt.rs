//! Waiting for Ctrl-C: a flag set by `SIGINT` and `SIGTERM`, so a loop that streams events can
//! stop and drop its attachments (which detaches them) instead of dying with them attached.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Installs handlers for `SIGINT` and `SIGTERM` that set the flag [`interrupted`] reads.
pub fn catch_interrupts() -> Result<()> {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe; `signal`
        // takes a handler of this signature.
        let previous =
            unsafe { libc::signal(signal, on_signal as *const () as libc::sighandler_t) };
        if previous == libc::SIG_ERR {
            return Err(Error::os("signal", format!("signal {signal}")));
        }
    }
    Ok(())
}

/// Whether `SIGINT` or `SIGTERM` arrived since [`catch_interrupts`].
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
