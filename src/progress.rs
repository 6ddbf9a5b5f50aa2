//! Progress of long runs, reported by the stages and drawn (or not) by the
//! binary. Like a logging facade: the library calls these functions, and
//! nothing happens unless the binary installed a reporter, so library users
//! and tests see no output.

use std::sync::OnceLock;

/// Something that shows progress.
pub trait Progress: Send + Sync {
    /// A stage starts (`reading`, `linking`, `evaluating`, `writing`) with
    /// `total` units of work.
    fn stage(&self, name: &'static str, total: u64);
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// The run is over; clear whatever was drawn.
    fn done(&self);
}

static REPORTER: OnceLock<Box<dyn Progress>> = OnceLock::new();

/// Installs the process's reporter (once; later calls are ignored).
pub fn install(reporter: Box<dyn Progress>) {
    let _ = REPORTER.set(reporter);
}

/// Starts a stage.
pub fn stage(name: &'static str, total: u64) {
    if let Some(r) = REPORTER.get() {
        r.stage(name, total);
    }
}

/// Advances the current stage.
pub fn advance(n: u64) {
    if let Some(r) = REPORTER.get() {
        r.advance(n);
    }
}

/// Ends the run's progress.
pub fn done() {
    if let Some(r) = REPORTER.get() {
        r.done();
    }
}
