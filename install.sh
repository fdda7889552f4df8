#!/bin/sh
# Installs the lynkr binary for this machine from a GitHub release, verified against the release's
# SHA256SUMS.
#
#   curl -fsSL https://github.com/lynkr-gateway/lynkr/releases/latest/download/install.sh | sh
#
# Environment:
#   LYNKR_VERSION        version to install, e.g. 0.1.0 (default: the latest release)
#   LYNKR_INSTALL_DIR    where to put `lynkr` (default: /usr/local/bin when writable, else ~/.local/bin)
#   LYNKR_DOWNLOAD_BASE  releases URL or a mirror with the same layout
#                        ({base}/download/v{version}/{asset}, {base}/latest/download/{asset})
#   LYNKR_OS, LYNKR_ARCH override what uname reports (linux|darwin, x64|arm64)
#   LYNKR_LIBC           overrides the detected C library on Linux (glibc|musl)
set -eu

LYNKR_DOWNLOAD_BASE=${LYNKR_DOWNLOAD_BASE:-https://github.com/lynkr-gateway/lynkr/releases}

say() { printf 'lynkr install: %s\n' "$*"; }
die() { printf 'lynkr install: error: %s\n' "$*" >&2; exit 1; }

detect_os() {
  os=${LYNKR_OS:-$(uname -s)}
  case $os in
    Linux | linux) echo linux ;;
    Darwin | darwin) echo darwin ;;
    MINGW* | MSYS* | CYGWIN* | Windows*)
      die "Windows is not supported by this installer; run lynkr under WSL, or build it from source (see the README)" ;;
    *) die "unsupported operating system: $os (prebuilt binaries exist for Linux and macOS; see the README to build from source)" ;;
  esac
}

detect_arch() {
  arch=${LYNKR_ARCH:-$(uname -m)}
  case $arch in
    x86_64 | amd64 | x64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "unsupported architecture: $arch (prebuilt binaries exist for x64 and arm64; see the README to build from source)" ;;
  esac
  # A shell under Rosetta 2 reports x86_64 on Apple silicon: the native binary is the right one.
  if [ -z "${LYNKR_ARCH:-}" ] && [ "$1" = darwin ] && [ "$arch" = x64 ] \
    && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)" = 1 ]; then
    arch=arm64
  fi
  echo "$arch"
}

# Downloads go over https only, redirects included; plain http only when LYNKR_DOWNLOAD_BASE names
# an http:// mirror on purpose. (wget has no portable equivalent: BusyBox's lacks --https-only.)
case $LYNKR_DOWNLOAD_BASE in
  http://*) protocols='=http,https' ;;
  *) protocols='=https' ;;
esac

# fetch URL FILE: fails on HTTP errors, follows redirects (GitHub redirects release downloads).
fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl --proto "$protocols" --proto-redir "$protocols" --fail --silent --show-error --location --retry 3 --output "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget --quiet --tries=3 --output-document="$2" "$1"
  else
    die "neither curl nor wget was found; install one of them and run this again"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 "$1" | sed 's/^.*= //'
  else
    die "no SHA-256 tool found (sha256sum, shasum or openssl): cannot verify the download"
  fi
}

choose_dir() {
  if [ -n "${LYNKR_INSTALL_DIR:-}" ]; then
    echo "$LYNKR_INSTALL_DIR"
  elif [ -d /usr/local/bin ] && [ -w /usr/local/bin ]; then
    echo /usr/local/bin
  else
    [ -n "${HOME:-}" ] || die "HOME is not set: set LYNKR_INSTALL_DIR to the folder to install into"
    echo "$HOME/.local/bin"
  fi
}

# The Linux binaries link against glibc; on musl (Alpine) they cannot start.
check_libc() {
  libc=${LYNKR_LIBC:-}
  if [ -z "$libc" ]; then
    libc=glibc
    for loader in /lib/ld-musl-*; do
      [ -e "$loader" ] && libc=musl
    done
  fi
  if [ "$libc" = musl ]; then
    die "musl libc (e.g. Alpine) is not supported by the prebuilt Linux binaries, which need glibc; use a glibc-based image (Debian, Ubuntu) or build from source (see the README)"
  fi
}

main() {
  os=$(detect_os)
  arch=$(detect_arch "$os")
  [ "$os" = linux ] && check_libc
  asset="lynkr-$os-$arch"

  version=${LYNKR_VERSION:-}
  version=${version#v}
  if [ -n "$version" ]; then
    base="${LYNKR_DOWNLOAD_BASE%/}/download/v$version"
  else
    base="${LYNKR_DOWNLOAD_BASE%/}/latest/download"
  fi

  dir=$(choose_dir)
  mkdir -p "$dir" 2>/dev/null || die "cannot create $dir: set LYNKR_INSTALL_DIR to a folder you can write, or run with sudo"
  [ -w "$dir" ] || die "no permission to write to $dir: set LYNKR_INSTALL_DIR to a folder you can write (e.g. \$HOME/.local/bin), or run with sudo"

  tmp=$(mktemp -d 2>/dev/null || mktemp -d -t lynkr)
  trap 'rm -rf "$tmp"' EXIT
  trap 'exit 130' INT TERM

  say "downloading $asset ${version:-(latest)} from $base"
  fetch "$base/$asset" "$tmp/$asset" || die "download of $base/$asset failed${version:+ (is $version a released version?)}"
  fetch "$base/SHA256SUMS" "$tmp/SHA256SUMS" || die "download of $base/SHA256SUMS failed"

  expected=$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1 }' "$tmp/SHA256SUMS")
  [ -n "$expected" ] || die "SHA256SUMS has no entry for $asset"
  actual=$(sha256_of "$tmp/$asset")
  if [ "$actual" != "$expected" ]; then
    rm -f "$tmp/$asset"
    die "checksum mismatch for $asset (expected $expected, got $actual): the download was deleted and nothing was installed"
  fi

  # Copy next to the target, then rename: a running lynkr keeps its old file, and an interrupted
  # install never leaves half a binary at $dir/lynkr.
  # mktemp: an unpredictable name, created by this process alone (no file planted in advance is reused).
  new=$(mktemp "$dir/.lynkr.new.XXXXXX") || die "cannot write to $dir"
  cp "$tmp/$asset" "$new" || { rm -f "$new"; die "cannot write to $dir"; }
  chmod 755 "$new"
  mv -f "$new" "$dir/lynkr" || { rm -f "$new"; die "cannot replace $dir/lynkr"; }

  installed=$("$dir/lynkr" --version 2>/dev/null || echo "${version:-latest}")
  say "installed lynkr $installed to $dir/lynkr"
  case ":${PATH:-}:" in
    *":$dir:"*) ;;
    *) say "$dir is not on your PATH; add it, e.g.: export PATH=\"$dir:\$PATH\"" ;;
  esac
  say "next: lynkr init   (writes ~/.lynkr/.env), then: lynkr start"
}

main "$@"
