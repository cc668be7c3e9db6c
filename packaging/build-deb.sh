#!/usr/bin/env bash
# Builds Picket's Debian package: target/debian/picket_VERSION-1_amd64.deb (stripped) and
# its -dbgsym .ddeb (the debug symbols). Needs cargo-deb (`cargo install cargo-deb`).
#
#   packaging/build-deb.sh            # the release build (about 9 minutes on 2 cores)
#   PROFILE=dev packaging/build-deb.sh  # the debug build (the tests package it this way)
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${PROFILE:-release}"
case "$profile" in
    release) dir=release ;;
    dev) dir=debug ;;
    *) echo "build-deb.sh: PROFILE is release or dev" >&2; exit 2 ;;
esac
cargo build --locked --profile "$profile" --bin picket
bin="target/$dir/picket"

# Man pages and completions, generated from the command definition.
rm -rf target/assets
mkdir -p target/assets/man target/assets/completions
"$bin" manpages target/assets/man
gzip -9n target/assets/man/*.1
"$bin" completions bash > target/assets/completions/picket.bash
"$bin" completions zsh > target/assets/completions/_picket
"$bin" completions fish > target/assets/completions/picket.fish

cargo deb --locked --no-build --profile "$profile" --output target/debian/
