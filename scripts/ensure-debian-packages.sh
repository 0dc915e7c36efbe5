#!/usr/bin/env bash
# The tests and the demo run real receivers on 127.0.0.1: rsyslog (with TLS, mmnormalize for CEF)
# and syslog-ng; certificates are made with openssl and zips checked with unzip.
# Installs whatever is missing. syslog-ng conflicts with rsyslog as a Debian package (both are the
# "system log daemon"), so its package is unpacked into a cache directory instead of installed;
# the tests start it from there by pid.
set -euo pipefail
pkgs=(rsyslog rsyslog-openssl rsyslog-gnutls rsyslog-relp openssl unzip iproute2 systemd
      libivykis0 libnet1 libjson-c5 libwrap0 libglib2.0-0 libcap2 libpcre3 libssl3)
# --wasm-toolchain (the tests): clang and lld rebuild src/native/kernel.c to check the committed
# WebAssembly matches its source; prometheus gives promtool and a server to scrape the worker's
# /metrics; podman and runc build the container image (deploy/container/Dockerfile) and start it.
# The demo and the function itself do not need them.
if [ "${1:-}" = "--wasm-toolchain" ]; then pkgs+=(clang lld prometheus podman runc); fi
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else sudo="none"; fi
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$sudo" = none ]; then
    echo "Missing Debian packages: ${missing[*]}. Install them as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing ${missing[*]} (needed by the tests and the demo)..." >&2
  $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { $sudo apt-get update -qq && $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
fi
# Nothing is started here (no systemd); the tests start their own daemons.

sng_root="${SYSLOG_NG_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/sls-syslog-forwarder/syslog-ng}"
if [ ! -x "$sng_root/usr/sbin/syslog-ng" ]; then
  echo "Unpacking syslog-ng-core into $sng_root (for the tests)..." >&2
  tmp=$(mktemp -d)
  chmod 755 "$tmp"
  (cd "$tmp" && { apt-get download syslog-ng-core >/dev/null 2>&1 || { $sudo apt-get update -qq && apt-get download syslog-ng-core >/dev/null; }; })
  mkdir -p "$sng_root"
  dpkg -x "$tmp"/syslog-ng-core_*.deb "$sng_root"
  rm -rf "$tmp"
fi
