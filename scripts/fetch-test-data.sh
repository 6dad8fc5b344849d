#!/bin/sh
# Fetches the real data that tests, benchmarks and scenarios use, from
# Debian's own packages, into a cache folder (no root needed, nothing
# installed):
#   opencv-doc      -> opencv/vtest.avi, Megamind.avi, Megamind_bugy.avi, tree.avi
#   python3-sklearn -> sklearn/digits.csv.gz (scikit-learn's 8x8 digits)
#   python3-skimage -> skimage/*.png (natural photographs: image patches)
# The folder is $DAYDREAM_DATA, else ${XDG_CACHE_HOME:-~/.cache}/daydream; the
# plugins and tests look in the same places.
# Fashion-MNIST comes from the package dataset-fashion-mnist (setup-debian.sh).
# Safe to run again: what is present is not fetched twice.
set -eu
dest="${DAYDREAM_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/daydream}"
mkdir -p "$dest/opencv" "$dest/sklearn" "$dest/skimage"

# fetch PACKAGE PATH-IN-PACKAGE DEST-FILE...: apt-get download + dpkg -x.
fetch() {
	pkg=$1
	shift
	missing=0
	for pair in "$@"; do
		[ -s "${pair#*=}" ] || missing=1
	done
	[ "$missing" -eq 0 ] && return 0
	tmp=$(mktemp -d)
	chmod 755 "$tmp" # apt's _apt user downloads into it
	# (as root apt warns that it downloads unsandboxed: harmless, kept quiet)
	(cd "$tmp" && apt-get download -q "$pkg" >"$tmp/log" 2>&1) || {
		cat "$tmp/log" >&2
		echo "fetch-test-data: apt-get download $pkg failed (run apt-get update?)" >&2
		rm -rf "$tmp"
		return 1
	}
	dpkg -x "$tmp"/"$pkg"_*.deb "$tmp/x"
	for pair in "$@"; do
		cp "$tmp/x/${pair%%=*}" "${pair#*=}"
		echo "fetch-test-data: ${pair#*=}"
	done
	rm -rf "$tmp"
}

data=usr/share/doc/opencv-doc/examples/data
fetch opencv-doc \
	"$data/vtest.avi=$dest/opencv/vtest.avi" \
	"$data/Megamind.avi=$dest/opencv/Megamind.avi" \
	"$data/Megamind_bugy.avi=$dest/opencv/Megamind_bugy.avi" \
	"$data/tree.avi=$dest/opencv/tree.avi"
fetch python3-sklearn \
	"usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz=$dest/sklearn/digits.csv.gz"
sk=usr/lib/python3/dist-packages/skimage/data
set --
for photo in astronaut brick camera chelsea coffee coins grass gravel moon motorcycle_left; do
	set -- "$@" "$sk/$photo.png=$dest/skimage/$photo.png"
done
fetch python3-skimage "$@"
echo "fetch-test-data: test data in $dest"
