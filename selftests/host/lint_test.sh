#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Style gates, as KTAP: the Rust code is rustfmt-clean (the kernel's
# .rustfmt.toml), the module built without a single warning under CLIPPY=1
# (build/module.log, written by scripts/build-module.sh), the C shim passes
# checkpatch.pl --no-tree --strict and the C selftests checkpatch's default
# level (user-space code: no BIT(), long format strings, as in the kernel's
# own selftests).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
ksrc=$KDIR/source
[ -d "$ksrc/scripts" ] || ksrc=$KDIR
failed=0
n=0
check() { # DESCRIPTION COMMAND...
	local desc=$1 out
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $n $desc"
	else
		printf '%s\n' "$out" | head -n 40 | sed 's/^/# /'
		echo "not ok $n $desc"
		failed=1
	fi
}
no_warnings() {
	local newer
	[ -s "$1" ] || { echo "no build log at $1"; return 1; }
	# A log older than a source speaks of another module.
	newer=$(find "$top/src" \( -name '*.rs' -o -name '*.[ch]' \) \
		-newer "$1" -print | head -n 1)
	[ -z "$newer" ] ||
		{ echo "$1 is older than $newer: build the module first"; return 1; }
	! grep -iE '(^|[^a-z])(warning|error)(\[|:)' "$1"
}

echo "TAP version 13"
echo "1..4"
check "rustfmt --check (kernel .rustfmt.toml)" \
	/usr/bin/rustfmt --check --color never --edition 2021 \
	--config-path "$ksrc/.rustfmt.toml" "$top/src/mmrace_main.rs"
check "module builds with CLIPPY=1 and no warnings" \
	no_warnings "$top/build/module.log"
# CAMELCASE: the kernel's own __SetPageMovable()/__ClearPageMovable(),
# which the shim must call, are CamelCase.
check "checkpatch.pl --no-tree --strict -f on the module's C" \
	perl "$ksrc/scripts/checkpatch.pl" --no-tree --quiet --strict \
	--ignore FILE_PATH_CHANGES,CAMELCASE -f "$top"/src/bindings/*.[ch]
check "checkpatch.pl --no-tree -f on the selftests' C" \
	perl "$ksrc/scripts/checkpatch.pl" --no-tree --quiet \
	--ignore FILE_PATH_CHANGES -f "$top"/selftests/*.[ch]
exit $failed
