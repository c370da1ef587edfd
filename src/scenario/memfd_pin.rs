// SPDX-License-Identifier: GPL-2.0

//! `memfd_pin`: page 0 of the writer's memfd `fd` pinned with
//! `memfd_pin_folios()`, `iterations` times, the first word of each pinned
//! page noted. A driver for the one caller of
//! `filemap_get_folios_contig()` in the test kernel (udmabuf and nilfs2,
//! its other callers, are not built): a test holds that lookup with
//! `pagecache_pre_grab` phase `contig` and checks the words it pinned.

use super::{Args, Report, Scenario};
use crate::abstractions::mm::memfd_pin_word;

pub(super) static MEMFD_PIN: Scenario = Scenario {
    name: "memfd_pin",
    about: "page 0 of memfd fd=N pinned by memfd_pin_folios(); each pin's first word noted",
    run,
};

fn run(r: &mut Report<'_>, args: &Args) {
    let Some(fd) = args.fd.and_then(|fd| i32::try_from(fd).ok()) else {
        r.check(false, "fd", format_args!("no memfd given (fd=N)"));
        return;
    };
    let mut pinned = 0;
    for _ in 0..args.iterations {
        match memfd_pin_word(fd, 0) {
            Ok(word) => {
                pinned += 1;
                r.note(format_args!("word {word:#x}"));
            }
            Err(e) => {
                r.check(
                    false,
                    "pinned",
                    format_args!(
                        "memfd_pin_folios() of fd {fd}: error {} after {pinned} pins",
                        e.to_errno()
                    ),
                );
                return;
            }
        }
    }
    r.check(
        true,
        "pinned",
        format_args!("{pinned} of {} pins", args.iterations),
    );
}
