// SPDX-License-Identifier: GPL-2.0

//! mmrace: forced race windows for Linux memory-management testing.
//!
//! Layers, bottom up: `bindings` (the C shim and bindgen's view of it),
//! `abstractions` (safe wrappers; all of the module's `unsafe` is there),
//! and the safe code on top (`control`, the `window` engine and its
//! windows, the `scenario`s).

use kernel::prelude::*;

mod abstractions;
mod bindings;
#[deny(unsafe_code)]
mod control;
#[deny(unsafe_code)]
mod scenario;
#[deny(unsafe_code)]
mod window;

module! {
    type: MmRace,
    name: "mmrace",
    author: "mmrace developers",
    description: "Forced race windows for memory-management testing",
    license: "GPL",
}

struct MmRace {
    _control: control::Control,
}

impl kernel::Module for MmRace {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        if let Err(e) = abstractions::context::check_not_locked_down() {
            pr_err!("refusing to load: the kernel is locked down (integrity or confidentiality); mmrace changes how memory management runs, from debugfs\n");
            return Err(e);
        }
        window::resolve_sites();
        let control = control::Control::new()?;
        pr_info!("version {} loaded\n", control::VERSION);
        Ok(Self { _control: control })
    }
}

impl Drop for MmRace {
    fn drop(&mut self) {
        // Close open windows at once and unregister every probe (waiting
        // for running handlers); the debugfs tree goes when `_control` is
        // dropped, right after.
        window::shutdown();
        pr_info!("unloading\n");
    }
}
