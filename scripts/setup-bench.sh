#!/bin/sh
# Installs the peers the benchmarks in bench/ compare against (not needed to
# build or test): PyTorch 1.13 CPU, scikit-learn 1.2 with threadpoolctl, and
# Debian's OpenMP OpenBLAS made the libblas.so.3 that PyTorch loads, so that
# torch.set_num_threads also sets its BLAS threads (BENCHMARKING.md: with
# the reference BLAS PyTorch's Linear and LSTM are no fair peer). Safe to
# run again.
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
pkgs="python3-torch python3-sklearn python3-threadpoolctl libopenblas0-openmp"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
$SUDO update-alternatives --set libblas.so.3-x86_64-linux-gnu \
	/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3
