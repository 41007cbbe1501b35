#!/usr/bin/env bash
# The GPU check on a machine with no Node.js and no network: run from the repository root with gpu-bundle/
# (npm run check:gpu:bundle) beside it. Unpacks Node, dist/ and node_modules/, and the headers, then hands over
# to scripts/gpu-check/check.js, which builds the addon against the machine's torch and writes
# gpu-check.json into $OUT (default ./gpu-check-out) after every check. Arguments go to check.js (e.g.
# --device cpu: build and run every check on the CPU, to prove the check where no GPU is).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bundle="${MOONLIGHT_GPU_BUNDLE:-$repo/gpu-bundle}"
unpacked="$repo/gpu-bundle-unpacked"
for file in node.xz runtime.tar.xz headers.tar.xz; do
  [[ -f "$bundle/$file" ]] || { echo "moonlight-torch: $bundle/$file is missing: run npm run check:gpu:bundle first" >&2; exit 1; }
done
rm -rf "$unpacked" && mkdir -p "$unpacked/bin"
xz -dc "$bundle/node.xz" > "$unpacked/bin/node" && chmod +x "$unpacked/bin/node"
# Files already there (a working checkout's own dist/ and node_modules/) are kept, never overwritten.
tar -xJf "$bundle/runtime.tar.xz" -C "$repo" --skip-old-files
tar -xJf "$bundle/headers.tar.xz" -C "$unpacked"
export PATH="$unpacked/bin:$PATH"
echo "moonlight-torch: Node $(node --version) from the bundle" >&2
exec node "$repo/scripts/gpu-check/check.js" --headers "$unpacked/headers" "$@"
