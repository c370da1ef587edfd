// SPDX-License-Identifier: GPL-2.0

//! The debugfs tree: `/sys/kernel/debug/mmrace/` and its top-level files;
//! the windows' own files are in `window/files.rs`.

use crate::abstractions::debugfs::{reject, Attr, AttrOps, Buffer, Dir, Parent, Why};
use crate::{scenario, window};
use core::fmt::{self, Write};
use kernel::{c_str, prelude::*};

/// Version of the debugfs ABI and of the module, in `version`.
pub(crate) const VERSION: &str = "0.2.0";

/// `version`: read-only, one line.
struct Version;

impl AttrOps for Version {
    fn show(&self, out: &mut Buffer<'_>) -> fmt::Result {
        writeln!(out, "{VERSION}")
    }
}

/// `control`: commands for all windows at once.
struct ControlFile;

impl AttrOps for ControlFile {
    fn show(&self, out: &mut Buffer<'_>) -> fmt::Result {
        writeln!(out, "disarm-all reset")
    }

    fn store(&self, input: &str, why: &mut Why<'_>) -> Result {
        match input {
            "disarm-all" => window::disarm_all(),
            "reset" => window::reset_all(),
            _ => {
                return reject(
                    why,
                    format_args!("unknown command '{input}' (disarm-all, reset)"),
                )
            }
        }
        Ok(())
    }
}

/// `summary`: one line per window.
struct Summary;

impl AttrOps for Summary {
    fn show(&self, out: &mut Buffer<'_>) -> fmt::Result {
        for w in window::WINDOWS {
            w.summary(out)?;
        }
        Ok(())
    }
}

static VERSION_ATTR: Attr<Version> = Attr::new(Version);
static CONTROL_ATTR: Attr<ControlFile> = Attr::new(ControlFile);
static SUMMARY_ATTR: Attr<Summary> = Attr::new(Summary);

/// The module's debugfs tree; removing it on drop waits for readers and
/// writers in progress.
pub(crate) struct Control {
    _root: Dir,
}

impl Control {
    /// Creates the tree.
    pub(crate) fn new() -> Result<Self> {
        let root = Dir::new(c_str!("mmrace"))?;
        root.attr(c_str!("version"), 0o400, &VERSION_ATTR)?;
        root.attr(c_str!("control"), 0o600, &CONTROL_ATTR)?;
        root.attr(c_str!("summary"), 0o400, &SUMMARY_ATTR)?;
        let windows = root.subdir(c_str!("windows"))?;
        for w in window::WINDOWS {
            w.files.create(&windows)?;
        }
        window::profile::create(&root)?;
        scenario::create(&root)?;
        Ok(Self { _root: root })
    }
}
