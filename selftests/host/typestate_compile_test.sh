#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The typestate folio API's forbidden uses, and probe sites the module
# cannot hold (site_*), do not compile, as KTAP: each
# snippet in typestate/*.rs names the rustc error it must fail with
# ("// expect: E0599") and a piece of its message ("// expect-text: ..."),
# or "ok" for those that must compile (so that a broken setup cannot pass
# the others). Each is type-checked as a crate of its own holding
# src/abstractions/{folio,probe}.rs and what they use, with the very
# rustc command kbuild used for mmrace.ko against KDIR (from
# src/.mmrace_main.o.cmd, written by scripts/build-module.sh), emitting
# metadata only. A snippet passes only if every error it produces has the
# expected code and the expected text is among the messages.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
snippets=$top/selftests/host/typestate
cmdfile=$top/src/.mmrace_main.o.cmd

echo "TAP version 13"
if [ ! -d "${KDIR:-}/rust" ]; then
	echo "1..0 # SKIP no Rust kernel build in KDIR=${KDIR:-}"
	exit 4
fi
cmd=$(sed -n 's/^savedcmd_[^ ]* := //p' "$cmdfile" 2>/dev/null)
if [ -z "$cmd" ] || [ ! -f "$top/src/bindings/shim_generated.rs" ]; then
	echo "# no kbuild command in $cmdfile: build the module first"
	echo "1..1"
	echo "not ok 1 module build command found"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The module's command, for one snippet crate: rustc instead of
# clippy-driver, metadata instead of an object, lints capped.
base=$(printf '%s\n' "$cmd" | sed -E \
	-e 's#^RUST_MODFILE=[^ ]+ ##' \
	-e 's#^[^ ]*clippy-driver #/usr/bin/rustc #' \
	-e 's# --crate-name [^ ]+# --crate-name typestate_snippet#' \
	-e 's# --out-dir [^ ]+##' \
	-e 's# --emit=[^ ]+##g' \
	-e 's# [^ ]+/src/mmrace_main\.rs *$##')
case $base in
*/src/mmrace_main.rs*|*clippy-driver*) echo "# cannot rewrite: $cmd"; exit 1 ;;
esac

prelude() { # SNIPPET
	cat <<-END
	// Generated from $1.
	#![allow(unused)]
	#[path = "$top/src/bindings/mod.rs"]
	mod bindings;
	mod abstractions {
	    #[path = "$top/src/abstractions/folio.rs"]
	    pub(crate) mod folio;
	    #[path = "$top/src/abstractions/mm.rs"]
	    pub(crate) mod mm;
	    #[path = "$top/src/abstractions/pid.rs"]
	    pub(crate) mod pid;
	    #[path = "$top/src/abstractions/probe.rs"]
	    pub(crate) mod probe;
	    #[path = "$top/src/abstractions/thread.rs"]
	    pub(crate) mod thread;
	}
	use abstractions::folio::{
	    flag, Exclusive, Folio, FolioState, Frozen, Referenced, TransitionError, Unpublished,
	};
	use abstractions::probe::{Site, Tracepoint};
	use abstractions::thread;
	use core::num::NonZeroU16;
	use kernel::prelude::*;
	END
}

files=("$snippets"/*.rs)
echo "1..${#files[@]}"
n=0
failed=0
for f in "${files[@]}"; do
	n=$((n + 1))
	name=$(basename "$f" .rs)
	expect=$(sed -n 's#^// expect: *##p' "$f" | head -n 1)
	text=$(sed -n 's#^// expect-text: *##p' "$f" | head -n 1)
	crate=$tmp/$name.rs
	{ prelude "${f#"$top"/}"; cat "$f"; } >"$crate"
	# RUSTC_BOOTSTRAP=1: the kernel's unstable flags, as kbuild exports.
	out=$(cd "$KDIR" && eval "RUSTC_BOOTSTRAP=1 $base --cap-lints=allow \
		--emit=metadata=$tmp/$name.rmeta $crate" 2>&1)
	rc=$?
	codes=$(printf '%s\n' "$out" | grep -oE '^error\[E[0-9]+\]' |
		grep -oE 'E[0-9]+' | sort -u | tr '\n' ' ')
	codes=${codes% }
	if [ "$expect" = ok ]; then
		ok=$([ $rc = 0 ] && echo y)
		what="compiles"
	else
		ok=$([ $rc != 0 ] && [ "$codes" = "$expect" ] &&
			printf '%s\n' "$out" | grep -qF -- "$text" && echo y)
		what="fails with $expect"
	fi
	if [ -n "$ok" ]; then
		echo "ok $n $name: $what"
	else
		printf '%s\n' "$out" | grep -E '^(error|warning: unused)|^ *-->' |
			head -n 12 | sed 's/^/# /'
		[ "$expect" = ok ] || echo "# expected text: $text"
		echo "not ok $n $name: expected: $what; rustc exit $rc, errors: ${codes:-none}"
		failed=1
	fi
done
exit $failed
