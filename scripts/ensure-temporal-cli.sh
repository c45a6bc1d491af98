#!/usr/bin/env bash
# Builds the official Temporal CLI (which carries `temporal server start-dev`) from the Go module
# proxy into a cache outside the clone, once. This machine cannot download the prebuilt binary the
# Temporal SDK would normally fetch, so the project builds it from source with the local Go toolchain.
# Prints the binary's path on stdout; everything else goes to stderr.
set -euo pipefail

version="${TEMPORAL_CLI_VERSION:-v1.5.1}"
if [[ -n "${TEMPORAL_CLI_PATH:-}" ]]; then
  if [[ -x "$TEMPORAL_CLI_PATH" ]]; then echo "$TEMPORAL_CLI_PATH"; exit 0; fi
  echo "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file" >&2
  exit 1
fi

cache_root="${VAO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/voice-agent-orchestrator}"
bin_dir="$cache_root/temporal-cli/$version"
bin="$bin_dir/temporal"
if [[ -x "$bin" ]]; then echo "$bin"; exit 0; fi

if ! command -v go >/dev/null 2>&1; then
  for candidate in /usr/local/go/bin/go /usr/lib/go/bin/go; do
    [[ -x "$candidate" ]] && PATH="$(dirname "$candidate"):$PATH" && break
  done
fi
if ! command -v go >/dev/null 2>&1; then
  echo "Go (>= 1.25) is needed to build the Temporal CLI once; install Go or set TEMPORAL_CLI_PATH" >&2
  exit 1
fi

mkdir -p "$bin_dir"
lock="$bin_dir/.build.lock"
exec 9>"$lock"
flock 9
if [[ -x "$bin" ]]; then echo "$bin"; exit 0; fi

echo "Building Temporal CLI $version from the Go module proxy into $bin_dir (first run only; several minutes)..." >&2
start=$(date +%s)
tmp_bin="$(mktemp -d "$bin_dir/.gobin.XXXXXX")"
CGO_ENABLED=0 GOFLAGS=-trimpath GOBIN="$tmp_bin" \
  go install "github.com/temporalio/cli/cmd/temporal@$version" >&2
mv "$tmp_bin/temporal" "$bin"
rmdir "$tmp_bin"
echo "Temporal CLI built in $(( $(date +%s) - start ))s: $bin" >&2
echo "$bin"
