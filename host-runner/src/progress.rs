//! What a run shows while it works. On a terminal: a spinner naming the step, and a bar
//! while WHMCS rows are written; under cron: nothing (indicatif draws only on a terminal).

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// The run reports its steps here; how they are shown is the caller's business.
pub trait Progress: Sync {
    /// A new step starts.
    fn step(&self, what: &str);
    /// A counted step starts: `total` things to do.
    fn counted(&self, what: &str, total: u64);
    /// One more thing of the counted step is done.
    fn advance(&self);
    /// The run is over: clear whatever is shown.
    fn finish(&self);
}

/// Shows nothing (tests, libraries).
pub struct Silent;

impl Progress for Silent {
    fn step(&self, _: &str) {}
    fn counted(&self, _: &str, _: u64) {}
    fn advance(&self) {}
    fn finish(&self) {}
}

/// A spinner and a bar on standard error, drawn only when it is a terminal.
pub struct Terminal {
    bar: ProgressBar,
}

impl Terminal {
    pub fn new() -> Terminal {
        let bar = ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(120));
        Terminal { bar }
    }
}

impl Default for Terminal {
    fn default() -> Self {
        Terminal::new()
    }
}

impl Progress for Terminal {
    fn step(&self, what: &str) {
        self.bar.set_style(ProgressStyle::default_spinner());
        self.bar.set_message(what.to_string());
    }

    fn counted(&self, what: &str, total: u64) {
        let style = ProgressStyle::with_template(&format!("{what} {{bar:30}} {{pos}}/{{len}}"))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        self.bar.set_style(style);
        self.bar.set_position(0);
        self.bar.set_length(total);
    }

    fn advance(&self) {
        self.bar.inc(1);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
