#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/build-mutant.sh's incremental work tree on a fake kernel (a
# source tree whose Makefile's "bzImage" is a listing of the tree, in a
# scratch MMRACE_CACHE), as KTAP: a mutant that deletes a file, creates one
# and changes one builds what it says; the next mutant builds on the
# pristine tree again (the deleted file back, the created one gone, the
# changed one restored); the pristine tree is never written.
#
# MMRACE_SCRIPTS: the scripts directory under test (default: this tree's).
set -u
. "$(dirname "$0")/lib.sh"
# Every file of DIR but the Makefile, as "NAME=CONTENTS ...".
listing() { (cd "$1" && find . -type f ! -name Makefile | sort | while read -r f; do
	printf '%s=%s ' "${f#./}" "$(cat "$f")"; done); }

src=$work/src
mkdir -p "$src/sub" "$src/gone" "$work/kdir"
echo a >"$src/a.c"
echo b >"$src/b.c"
echo c >"$src/sub/c.c"
echo d >"$src/gone/d.c"
# shellcheck disable=SC2016 # make's variables, for the Makefile
printf '%s\n' 'bzImage:' '	mkdir -p $(O)/arch/x86/boot' \
	'	cd $(CURDIR) && find . -type f ! -name Makefile | sort | while read -r f; do printf "%s=%s " "$${f#./}" "$$(cat $$f)"; done >$(O)/arch/x86/boot/bzImage' \
	>"$src/Makefile"
ln -s "$src" "$work/kdir/source"
pristine=$(listing "$src")

# Mutant 1: deletes a.c and gone/d.c (git style, "+++ /dev/null"), creates
# n.c, changes b.c. Mutant 2: changes sub/c.c only.
cat >"$work/m1.patch" <<'PATCH'
diff --git a/a.c b/a.c
deleted file mode 100644
--- a/a.c
+++ /dev/null
@@ -1 +0,0 @@
-a
diff --git a/gone/d.c b/gone/d.c
deleted file mode 100644
--- a/gone/d.c
+++ /dev/null
@@ -1 +0,0 @@
-d
diff --git a/n.c b/n.c
new file mode 100644
--- /dev/null
+++ b/n.c
@@ -0,0 +1 @@
+n
diff --git a/b.c b/b.c
--- a/b.c
+++ b/b.c
@@ -1 +1 @@
-b
+B1
PATCH
cat >"$work/m2.patch" <<'PATCH'
--- a/sub/c.c
+++ b/sub/c.c
@@ -1 +1 @@
-c
+C2
PATCH

build() { # PATCH: the listing its image holds
	local image
	image=$(MMRACE_CACHE=$work/cache "$scripts/build-mutant.sh" "$work/kdir" "$1" \
		2>"$work/err") || { sed 's/^/# /' "$work/err"; echo "build failed"; return; }
	cat "$image"
}

echo "TAP version 13"
echo "1..3"
expect "mutant 1: a.c and gone/d.c deleted, n.c created, b.c changed" \
	"b.c=B1 n.c=n sub/c.c=c " "$(build "$work/m1.patch")"
expect "mutant 2 after mutant 1: the pristine tree with sub/c.c changed" \
	"a.c=a b.c=b gone/d.c=d sub/c.c=C2 " "$(build "$work/m2.patch")"
expect "the pristine tree is untouched" "$pristine" "$(listing "$src")"
exit $failed
