#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-mutant.sh KDIR PATCH: build the test kernel with PATCH applied and
# print the path of its bzImage.
#
# Incremental: a work tree next to the clean build (a hard-linked copy of
# the source, a copy of the build directory with its recorded paths
# rewritten) is made once per clean kernel; each mutant then restores the
# files the previous one touched (changed, created or deleted), applies its
# patch and re-runs make, which recompiles only those files and relinks
# (about 15-30 s). Images are cached under the clean kernel's key and the
# patch's hash.
set -eu
. "$(dirname "$0")/env.sh"

kdir=$(cd "$1" && pwd)
patch=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
src=$(readlink -f "$kdir/source")
[ -f "$src/Makefile" ] || { echo "build-mutant: $kdir has no source link" >&2; exit 1; }

base=$MMRACE_CACHE/mutants/$(basename "$kdir")
sum=$(sha256sum "$patch" | cut -c1-12)
image=$base/images/$sum.bzImage
if [ -f "$image" ]; then
	echo "$image"
	exit 0
fi
mkdir -p "$base/images"
exec 9>"$base/.lock"
flock 9

work=$base/work
if [ ! -f "$work/.mmrace-ready" ]; then
	echo "build-mutant: preparing the incremental work tree in $work" >&2
	rm -rf "$work"
	mkdir -p "$work"
	cp -al "$src" "$work/src"
	cp -a "$kdir" "$work/build"
	# The build records absolute source paths (.cmd files, Makefile):
	# point them at the copy, or make would rebuild everything.
	(cd "$work/build" && grep -rlI --null -F "$src" . |
		xargs -0 -r sed -i "s#$src#$work/src#g")
	ln -sfn "$work/src" "$work/build/source"
	rm -f "$work/build/.mmrace-built"
	: >"$work/touched"
	touch "$work/.mmrace-ready"
fi

# A file back to its pristine contents (or gone, if the pristine tree has
# none): new mtime (so make rebuilds it), link broken (so the pristine tree
# is never written through).
pristine() { # FILE
	if [ -f "$src/$1" ]; then
		mkdir -p "$(dirname "$work/src/$1")"
		cp --remove-destination "$src/$1" "$work/src/$1"
	else
		rm -f "$work/src/$1"
	fi
}

# Undo the previous mutant: every file it changed, created or deleted.
while read -r f; do
	[ -z "$f" ] || pristine "$f"
done <"$work/touched"
: >"$work/touched"

# The files PATCH touches: old and new names ("--- a/F" alone for a file it
# deletes, "+++ b/F" alone for one it creates; git's renames and copies).
files=$(sed -n -e 's#^--- a/\([^[:space:]]*\).*#\1#p' \
	-e 's#^+++ b/\([^[:space:]]*\).*#\1#p' \
	-e 's#^\(rename from\|rename to\|copy to\) \(.*\)#\2#p' "$patch" | sort -u)
[ -n "$files" ] || { echo "build-mutant: $patch touches no file" >&2; exit 1; }
for f in $files; do
	pristine "$f"
	echo "$f" >>"$work/touched"
done
if ! patch -d "$work/src" -p1 --no-backup-if-mismatch -s <"$patch" >&2; then
	echo "build-mutant: $(basename "$patch") does not apply to $(basename "$src")" >&2
	exit 1
fi

echo "build-mutant: building $(basename "$patch")" >&2
if ! make -s -C "$work/src" O="$work/build" "${KMAKE_ARGS[@]}" \
	-j"$(nproc)" bzImage >"$base/build.log" 2>&1; then
	tail -n 30 "$base/build.log" >&2
	echo "build-mutant: $(basename "$patch") does not build" >&2
	exit 1
fi
cp "$work/build/arch/x86/boot/bzImage" "$image.tmp"
mv "$image.tmp" "$image"
echo "$image"
