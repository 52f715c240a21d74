#!/usr/bin/env bash
# Installs every Debian package quire needs to build, test and run.
# Safe to run twice: packages already present are skipped without touching apt.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang-format clang-tidy
  libboost-context-dev protobuf-compiler libprotobuf-dev librocksdb-dev
  libxxhash-dev librapidcheck-dev liburing-dev libzstd-dev liblz4-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libtomlplusplus-dev
  curl jq
)
# Only for the test suite (./test.sh calls `setup.sh --test`): promtool, which real.http_status
# uses to check quired's /metrics, ships in Debian's prometheus package (19 MB, about 15 s to
# install). That package also enables a prometheus.service where systemd runs, so ./run.sh does
# not install it.
if [ "${1:-}" = "--test" ]; then packages+=(prometheus); fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_prefix=()
if [ "$(id -u)" -ne 0 ]; then sudo_prefix=(sudo); fi
"${sudo_prefix[@]}" apt-get -o DPkg::Lock::Timeout=300 update -q
DEBIAN_FRONTEND=noninteractive "${sudo_prefix[@]}" apt-get -o DPkg::Lock::Timeout=300 \
  install -y -q --no-install-recommends "${missing[@]}"
