#!/bin/sh
# Proves the SDK works for someone outside this repository: install into a
# temporary prefix, build the corridor example plugin against it twice (the
# README's pkg-config one-liner, and CMake's find_package), and have the
# installed host load it from DAYDREAM_PLUGIN_PATH and run a scenario with it.
# usage: sdk_out_of_tree.sh SOURCE_DIR BUILD_DIR
set -eu
src=$1
build=$2
tmp=$(mktemp -d /tmp/ddsdk.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
mkdir -p "$tmp/plugin" "$tmp/pc"
cp "$src/plugins/envs/corridor/corridor.c" "$src/examples/plugin/CMakeLists.txt" "$tmp/plugin/"

# 1. pkg-config, as the README shows it
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
cc -shared -fPIC -Wall -Wextra -Werror -o "$tmp/pc/corridor.so" "$tmp/plugin/corridor.c" \
	$(pkg-config --cflags --libs daydream) || fail "pkg-config build"

# 2. CMake's find_package(Daydream)
cmake -S "$tmp/plugin" -B "$tmp/plugin/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null ||
	fail "cmake configure against the installed SDK"
cmake --build "$tmp/plugin/build" >/dev/null || fail "cmake build"
test -f "$tmp/plugin/build/corridor.so" || fail "no corridor.so from the CMake build"

# 3. the installed host finds its own plugins and the dropped-in one (which
#    shadows the installed corridor), and runs the main scenario with it
host="$tmp/prefix/bin/daydream"
json=$(DAYDREAM_PLUGIN_PATH="$tmp/pc" "$host" plugins --json 2>/dev/null)
echo "$json" | grep -q "\"path\": \"$tmp/pc/corridor.so\"" || fail "dropped-in corridor not listed: $json"
echo "$json" | grep -q '"name": "random"' || fail "installed random learner not found: $json"
cd "$tmp"
DAYDREAM_PLUGIN_PATH="$tmp/plugin/build" "$host" run "$src/scenarios/corridor_random.lua" \
	--db "$tmp/sdk.db" --set episodes=20 >/dev/null || fail "scenario with the out-of-tree plugin"
n=$(sqlite3 "$tmp/sdk.db" "SELECT count(*) FROM episodes")
[ "$n" = 20 ] || fail "expected 20 episodes, found $n"
echo "1 passed, 0 failed"
