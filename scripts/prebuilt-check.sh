#!/usr/bin/env bash
# Prove that a user without a Rust toolchain can install mmnpy from npm tarballs and use it.
#
# What a user gets from the registry is two packages: the root `mmnpy` (JS, types, the napi
# loader `binding.js`, compiled `dist/`) and one per-platform package such as
# `mmnpy-linux-x64-gnu` that holds only the prebuilt `.node` addon. This script packs both
# exactly as `npm publish` would, installs them into an empty project with `cargo`, `rustc`
# and `rustup` unreachable and lifecycle scripts enabled, then loads the library through
# both `require` and `import` and round-trips a memory-mapped .npy file.
#
# Usage: bash scripts/prebuilt-check.sh
#   MMNPY_PREBUILT_ABI=linux-x64-gnu  platform package to check (default: this machine's)
#   KEEP_TMP=1                        keep the temporary folder for inspection
set -euo pipefail

log() { printf 'prebuilt-check: %s\n' "$*" >&2; }
fail() { printf 'prebuilt-check: FAIL: %s\n' "$*" >&2; exit 1; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

command -v node >/dev/null || fail "node is not on PATH"
command -v npm >/dev/null || fail "npm is not on PATH"

# The platform/arch/abi suffix napi-rs uses for this machine, e.g. linux-x64-gnu.
# shellcheck disable=SC2016 # the JS template literal is meant for node, not bash
detect_abi() {
  node -e '
    const { platform, arch } = process;
    let abi = "";
    if (platform === "linux") {
      abi = process.report.getReport().header.glibcVersionRuntime ? "-gnu" : "-musl";
    } else if (platform === "win32") {
      abi = "-msvc";
    }
    console.log(`${platform}-${arch}${abi}`);
  '
}
ABI="${MMNPY_PREBUILT_ABI:-$(detect_abi)}"
BINARY_NAME="$(node -p 'require("./package.json").napi.binaryName')"
PKG_NAME="$(node -p 'require("./package.json").name')"
ADDON="$BINARY_NAME.$ABI.node"
PLATFORM_DIR="packages/$ABI"

[[ -f "$PLATFORM_DIR/package.json" ]] ||
  fail "$PLATFORM_DIR/package.json is missing (run: npm run create-npm-dirs)"

if [[ ! -f "$ADDON" || ! -f binding.js || ! -f dist/index.js ]]; then
  log "$ADDON, binding.js or dist/index.js missing: running npm run build"
  npm run build
fi
[[ -f "$ADDON" ]] || fail "$ADDON was not produced by the build"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/mmnpy-prebuilt.XXXXXX")"
cleanup() {
  if [[ -n "${KEEP_TMP:-}" ]]; then
    log "kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

TARBALLS="$WORK/tarballs"
mkdir -p "$TARBALLS"

# --- 1. pack the root package -------------------------------------------------------------
# --ignore-scripts: the tarball must be made from what is already built; `prepare` would
# rebuild the addon with cargo.
log "packing $PKG_NAME"
npm pack --ignore-scripts --json --pack-destination "$TARBALLS" >"$WORK/root-pack.json"

ROOT_TGZ="$(node - "$WORK/root-pack.json" "$TARBALLS" <<'EOF'
const fs = require('node:fs');
const path = require('node:path');
const [jsonPath, dir] = process.argv.slice(2);
const [info] = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
const files = info.files.map((f) => f.path);
const problems = [];
for (const required of ['package.json', 'binding.js', 'index.js', 'index.mjs', 'index.d.ts']) {
  if (!files.includes(required)) problems.push(`missing ${required}`);
}
if (!files.some((f) => f.startsWith('dist/'))) problems.push('no dist/ files');
const forbidden = files.filter((f) =>
  f.endsWith('.node') || f.endsWith('.rs') || /(^|\/)Cargo\.(toml|lock)$/.test(f) ||
  /^(crates|target|packages|lib|__test__|node_modules)\//.test(f));
if (forbidden.length) problems.push(`must not contain: ${forbidden.join(', ')}`);
if (problems.length) {
  console.error(`root tarball ${info.filename}:\n  ${problems.join('\n  ')}`);
  console.error(`contents:\n  ${files.join('\n  ')}`);
  process.exit(1);
}
console.log(path.join(dir, info.filename));
EOF
)" || fail "root tarball contents are wrong"
log "root tarball ok: $(basename "$ROOT_TGZ")"

# --- 2. pack the platform package ---------------------------------------------------------
# Staged in the temp folder (as `napi artifacts` would fill packages/$ABI) so the working
# tree is left untouched.
STAGE="$WORK/stage/$ABI"
mkdir -p "$STAGE"
cp "$PLATFORM_DIR"/package.json "$STAGE"/
if [[ -f "$PLATFORM_DIR/README.md" ]]; then cp "$PLATFORM_DIR/README.md" "$STAGE"/; fi
cp "$ADDON" "$STAGE"/

PLATFORM_PKG="$(node -p "require('$STAGE/package.json').name")"
ROOT_VERSION="$(node -p 'require("./package.json").version')"
PLATFORM_VERSION="$(node -p "require('$STAGE/package.json').version")"
[[ "$PLATFORM_PKG" == "$PKG_NAME-$ABI" ]] ||
  fail "$PLATFORM_DIR is named $PLATFORM_PKG, the loader expects $PKG_NAME-$ABI"
[[ "$ROOT_VERSION" == "$PLATFORM_VERSION" ]] ||
  fail "version mismatch: $PKG_NAME@$ROOT_VERSION vs $PLATFORM_PKG@$PLATFORM_VERSION"
[[ "$(node -p "require('$STAGE/package.json').main")" == "$ADDON" ]] ||
  fail "$PLATFORM_DIR/package.json main is not $ADDON"

log "packing $PLATFORM_PKG"
(cd "$STAGE" && npm pack --ignore-scripts --json --pack-destination "$TARBALLS") >"$WORK/platform-pack.json"
PLATFORM_TGZ="$(node - "$WORK/platform-pack.json" "$TARBALLS" "$ADDON" <<'EOF'
const fs = require('node:fs');
const path = require('node:path');
const [jsonPath, dir, addon] = process.argv.slice(2);
const [info] = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
const files = info.files.map((f) => f.path);
const unexpected = files.filter((f) => ![addon, 'package.json', 'README.md'].includes(f));
if (!files.includes(addon) || unexpected.length) {
  console.error(`platform tarball ${info.filename} has: ${files.join(', ')}`);
  process.exit(1);
}
console.log(path.join(dir, info.filename));
EOF
)" || fail "platform tarball contents are wrong"
log "platform tarball ok: $(basename "$PLATFORM_TGZ")"

# --- 3. an environment without Rust -------------------------------------------------------
# A bin folder with only the tools npm needs, plus every PATH entry that holds none of
# cargo, rustc, rustup. CARGO_HOME and RUSTUP_HOME point nowhere.
SHIMS="$WORK/bin"
mkdir -p "$SHIMS"
for tool in node npm npx sh bash env; do
  src="$(command -v "$tool" || true)"
  if [[ -n "$src" ]]; then ln -s "$src" "$SHIMS/$tool"; fi
done
SAFE_PATH="$SHIMS"
IFS=':' read -r -a path_dirs <<<"$PATH"
for dir in "${path_dirs[@]}"; do
  [[ -n "$dir" && -d "$dir" ]] || continue
  if [[ -e "$dir/cargo" || -e "$dir/rustc" || -e "$dir/rustup" ]]; then
    continue
  fi
  SAFE_PATH="$SAFE_PATH:$dir"
done

# A clean environment: no npm_config_* inherited from an enclosing `npm run`
# (npm_config_ignore_scripts among them), nothing pointing at a Rust install.
clean_env=(env -i
  "HOME=$HOME"
  "PATH=$SAFE_PATH"
  "TMPDIR=${TMPDIR:-/tmp}"
  "LANG=${LANG:-C.UTF-8}"
  "CARGO_HOME=$WORK/no-cargo"
  "RUSTUP_HOME=$WORK/no-rustup"
  "NO_COLOR=1")
for var in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
  if [[ -n "${!var:-}" ]]; then clean_env+=("$var=${!var}"); fi
done

for tool in cargo rustc rustup; do
  if "${clean_env[@]}" sh -c "command -v $tool" >/dev/null 2>&1; then
    fail "$tool is still reachable in the Rust-free environment"
  fi
done

# --- 4. install as a user would -----------------------------------------------------------
APP="$WORK/app"
mkdir -p "$APP"
log "installing into an empty project without cargo/rustc/rustup"
(
  cd "$APP"
  "${clean_env[@]}" npm init -y >/dev/null
  "${clean_env[@]}" npm install --prefer-offline --no-audit --no-fund \
    "$ROOT_TGZ" "$PLATFORM_TGZ"
) || fail "npm install of the tarballs failed"

# --- 5. use it through require and import -------------------------------------------------
cat >"$APP/check.cjs" <<'EOF'
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const [pkgName, platformPkg, addon] = process.argv.slice(2);
const modules = path.join(__dirname, 'node_modules');

const entry = require.resolve(pkgName);
assert.ok(entry.startsWith(modules + path.sep), `${pkgName} resolved outside the project: ${entry}`);

const mm = require(pkgName);
const expectedAddon = path.join(modules, platformPkg, addon);
const loaded = Object.keys(require.cache).filter((f) => f.endsWith('.node'));
assert.deepEqual(loaded, [expectedAddon], `addon loaded from ${loaded.join(', ') || 'nowhere'}`);

const file = path.join(__dirname, 'cjs.npy');
const values = [1.5, -2, 3.25, 1e300, -0.5];
mm.saveNpy(file, new Float64Array(values));
const bytes = fs.readFileSync(file);
assert.equal(bytes.subarray(0, 6).toString('latin1'), '\x93NUMPY');
assert.equal(bytes.length, 128 + 8 * values.length);

const a = mm.loadNpy(file, { mmapMode: 'r' });
try {
  assert.equal(a.dtype, 'float64');
  assert.deepEqual([...a.shape], [values.length]);
  assert.deepEqual(Array.from(a.data), values);
  assert.equal(a.get(-1), values[values.length - 1]);
} finally {
  a.close();
}
console.log('require: ok');
EOF

cat >"$APP/check.mjs" <<'EOF'
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as mm from 'mmnpy';

const [pkgName] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));

const entry = fileURLToPath(import.meta.resolve(pkgName));
assert.ok(entry.startsWith(path.join(here, 'node_modules') + path.sep), `resolved to ${entry}`);
assert.equal(path.extname(entry), '.mjs', `import should use the ESM entry, got ${entry}`);

const dynamic = await import(pkgName);
assert.equal(typeof dynamic.saveNpy, 'function');
assert.equal(typeof dynamic.loadNpy, 'function');

const file = path.join(here, 'esm.npy');
const values = [7, -3, 2 ** 31, -(2 ** 40)];
mm.saveNpy(file, new Float64Array(values));
const a = dynamic.loadNpy(file, { mmapMode: 'r' });
try {
  assert.deepEqual([...a.shape], [values.length]);
  assert.deepEqual(Array.from(a.data), values);
} finally {
  a.close();
}
console.log('import: ok');
EOF

(
  cd "$APP"
  "${clean_env[@]}" node check.cjs "$PKG_NAME" "$PLATFORM_PKG" "$ADDON"
  "${clean_env[@]}" node check.mjs "$PKG_NAME"
) || fail "loading or using the installed package failed"

echo 'prebuilt-check: ok'
