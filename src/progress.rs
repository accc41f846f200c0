//! Progress on a terminal: one spinner per submission with its current
//! stage and elapsed time, on standard error, cleared when the work ends.
//! Nothing at all is drawn when standard error is not a terminal (CI logs,
//! pipes, tests), so reports stay byte-for-byte the same.
//!
//! Long stages announce themselves with [`stage`] from the thread doing the
//! work; it costs nothing when no spinner is shown.

use std::cell::RefCell;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

thread_local! {
    /// The spinner of the submission this thread is checking, if shown.
    static CURRENT: RefCell<Option<ProgressBar>> = const { RefCell::new(None) };
}

/// Sets the current stage ("running load_model", "hashing weights") of the
/// submission this thread works on.
pub fn stage(message: &str) {
    CURRENT.with(|c| {
        if let Some(bar) = c.borrow().as_ref() {
            bar.set_message(one_line(message));
        }
    });
}

/// Text for a spinner line: no control characters (a path may come from
/// anywhere), so it can neither break the line nor drive the terminal.
fn one_line(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// The spinners of one command.
pub struct Progress {
    multi: Option<MultiProgress>,
}

impl Progress {
    /// Shown only when standard error is a terminal.
    pub fn new() -> Progress {
        let shown = std::io::stderr().is_terminal();
        Progress {
            multi: shown.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
        }
    }

    /// Starts the spinner of one submission on the calling thread.
    pub fn task(&self, name: &str) -> Task {
        let Some(multi) = &self.multi else {
            return Task { bar: None };
        };
        let style = ProgressStyle::with_template("{spinner} {prefix} [{elapsed}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bar = multi.add(ProgressBar::new_spinner().with_style(style));
        bar.set_prefix(one_line(name));
        bar.set_message("checking");
        bar.enable_steady_tick(Duration::from_millis(120));
        CURRENT.with(|c| *c.borrow_mut() = Some(bar.clone()));
        Task { bar: Some(bar) }
    }
}

impl Default for Progress {
    fn default() -> Progress {
        Progress::new()
    }
}

/// One submission's spinner; removed when finished or dropped.
pub struct Task {
    bar: Option<ProgressBar>,
}

impl Drop for Task {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            CURRENT.with(|c| *c.borrow_mut() = None);
        }
    }
}
