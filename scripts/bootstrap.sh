#!/usr/bin/env bash
# Installs the Debian 12 packages lens needs to build and test, if missing.
# Usage: scripts/bootstrap.sh [--bench]   (--bench adds what benchmarks need)
set -euo pipefail

pkgs=(gcc make cmake pkg-config libopenblas-dev libutf8proc-dev libcurl4-openssl-dev
      libjansson-dev libzstd-dev zstd python3 python3-numpy xz-utils curl
      libsqlite3-dev libmicrohttpd-dev   # lens serve: job store, HTTP
      libsnappy-dev zlib1g-dev clang   # Parquet codecs; clang for libFuzzer
      chromium   # chromium + npm's playwright-core test report.html
      libavformat-dev libavcodec-dev libswscale-dev libswresample-dev libavutil-dev
      libebur128-dev ffmpeg)   # lens video: decoding, loudness; the CLI makes test videos
if [[ "${1:-}" == "--bench" ]]; then
    pkgs+=(python3-torch)
fi

missing=()
# node and npm may come from Debian or from NodeSource's nodejs package (which
# ships npm and conflicts with Debian's npm): any working pair will do
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    pkgs+=(nodejs npm)
fi
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "bootstrap: installing ${missing[*]}" >&2
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "bootstrap: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
