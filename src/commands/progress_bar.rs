//! The terminal progress bar: drawn on stderr, only when stderr is a
//! terminal, and only once a run has taken more than about two seconds, so
//! short runs and pipelines stay quiet.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::progress::Progress;

/// How long a run goes before a bar appears.
const DELAY: Duration = Duration::from_secs(2);

/// Overrides [`DELAY`] in milliseconds, so that a test (or a demo) can see
/// the bar on a short run.
const DELAY_VARIABLE: &str = "SEVERANCE_PROGRESS_DELAY_MS";

struct TerminalBar {
    bar: ProgressBar,
    started: Instant,
    delay: Duration,
    shown: Mutex<bool>,
}

impl TerminalBar {
    fn maybe_show(&self) {
        if self.started.elapsed() < self.delay {
            return;
        }
        if let Ok(mut shown) = self.shown.lock()
            && !*shown
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            *shown = true;
        }
    }
}

impl Progress for TerminalBar {
    fn stage(&self, name: &'static str, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(0);
        self.bar.set_message(name);
        self.maybe_show();
    }

    fn advance(&self, n: u64) {
        self.bar.inc(n);
        self.maybe_show();
    }

    fn done(&self) {
        self.bar.finish_and_clear();
    }
}

/// Installs the terminal bar when stderr is a terminal.
pub fn install() {
    if !std::io::stderr().is_terminal() {
        return;
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
    let style = ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({eta} left)")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    crate::progress::install(Box::new(TerminalBar {
        bar,
        started: Instant::now(),
        delay: std::env::var(DELAY_VARIABLE)
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map_or(DELAY, Duration::from_millis),
        shown: Mutex::new(false),
    }));
}
