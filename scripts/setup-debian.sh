#!/bin/sh
# Installs what Daydream needs to build and test on Debian 12: compilers,
# CMake, the -dev packages of its libraries, and the Debian data sets the
# tests learn from (Fashion-MNIST). Safe to run again.
set -eu
pkgs="build-essential cmake pkg-config liblua5.4-dev libsqlite3-dev
      libopenblas-dev libcmocka-dev libpng-dev libgif-dev sqlite3
      zlib1g-dev libchipmunk-dev libavformat-dev libavcodec-dev libswscale-dev
      libavutil-dev
      dataset-fashion-mnist"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
