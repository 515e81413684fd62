#!/usr/bin/env bash
# Installs the peers of bench/aws_bench.py, each in its own venv under .bench-peers/ (git-ignored):
#
#   .bench-peers/localstack   localstack-core[base-runtime] (LocalStack without Docker: SQS and SNS)
#   .bench-peers/moto         moto[server] (moto_server)
#
#   bash bench/aws_peers.sh [--python PYTHON] [--force]
#
# Idempotent: a venv whose .installed stamp matches the requested specs is left alone (a few ms);
# --force rebuilds both. LocalStack needs Python >= 3.12: --python PYTHON, else the newest
# 3.12+ under `pyenv root`/versions, else python3.13, python3.12 or python3 on PATH (the first that
# is >= 3.12 and has the venv module). moto uses the same interpreter.
#
# Pins LocalStack needs to start from PyPI (checked with localstack-core 2026.3.0 on Python 3.13: without
# each one `python -m localstack.runtime.main` dies before the gateway answers):
#   cbor2<6            cbor2 6 has no `cbor2._decoder`, which LocalStack's protocol parser imports; the
#                      import error hides the plugin ("No component plugins found in namespace
#                      localstack.runtime.components")
#   pyopenssl<25       pyOpenSSL 25 dropped X509.add_extensions, used to make the gateway's certificate
#                      ("'X509' object has no attribute 'add_extensions'")
#   cryptography<45    the range pyOpenSSL 24.x supports (pip would pick it anyway; kept explicit)
#   service_identity   twisted's TLS module imports it and base-runtime does not bring it
#                      ("No module named 'service_identity'")
# moto needs no pin.
# Override a spec with LOCALSTACK_SPEC / MOTO_SPEC (the venv is rebuilt when its spec changes).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
PEERS="$REPO/.bench-peers"

LOCALSTACK_SPEC="${LOCALSTACK_SPEC:-localstack-core[base-runtime] cbor2<6 pyopenssl<25 cryptography<45 service_identity}"
MOTO_SPEC="${MOTO_SPEC:-moto[server]}"

PYTHON=""
FORCE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --python) PYTHON="${2:?--python needs a path}"; shift 2 ;;
        --python=*) PYTHON="${1#--python=}"; shift ;;
        --force) FORCE=1; shift ;;
        -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "aws_peers.sh: unknown argument: $1 (try --help)" >&2; exit 64 ;;
    esac
done

# An interpreter that is >= 3.12 and can make venvs.
usable() {
    [ -n "$1" ] && "$1" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
    local c root
    if [ -n "$PYTHON" ]; then
        usable "$PYTHON" && { echo "$PYTHON"; return 0; }
        echo "aws_peers.sh: --python $PYTHON is not a Python >= 3.12 with the venv module" >&2
        return 1
    fi
    if command -v pyenv >/dev/null 2>&1 && root="$(pyenv root 2>/dev/null)" && [ -d "$root/versions" ]; then
        # newest first: 3.13.x before 3.12.x (plain CPython versions only, no -dev/-debug builds)
        for c in $(ls -1 "$root/versions" | grep -E '^3\.[0-9]+\.[0-9]+$' | sort -t. -k1,1nr -k2,2nr -k3,3nr); do
            usable "$root/versions/$c/bin/python3" && { echo "$root/versions/$c/bin/python3"; return 0; }
        done
    fi
    for c in python3.13 python3.12 python3; do
        c="$(command -v "$c" 2>/dev/null)" || continue
        usable "$c" && { echo "$c"; return 0; }
    done
    cat >&2 <<'EOF'
aws_peers.sh: no Python >= 3.12 found (LocalStack needs one).
  Looked at: `pyenv root`/versions/3.x.y, then python3.13, python3.12, python3 on PATH.
  Install one (e.g. `pyenv install 3.13`, or Debian's python3.13 with python3.13-venv) or pass --python PATH.
EOF
    return 1
}

# install NAME "SPEC" PYTHON: (re)build $PEERS/NAME unless its stamp matches SPEC and its interpreter still runs.
install() {
    local name="$1" spec="$2" py="$3" dir="$PEERS/$1" stamp
    stamp="spec: $spec"
    if [ "$FORCE" = 0 ] && [ -f "$dir/.installed" ] && [ "$(head -1 "$dir/.installed")" = "$stamp" ] \
        && "$dir/bin/python" -c '' >/dev/null 2>&1; then
        echo "$name: up to date ($(sed -n 2p "$dir/.installed"))"
        return 0
    fi
    echo "$name: installing into ${dir#$REPO/} with $("$py" -V 2>&1)..."
    local t0=$SECONDS
    rm -rf "$dir"
    "$py" -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check --upgrade pip
    # shellcheck disable=SC2086  # the spec is a list of requirements
    "$dir/bin/pip" install -q --disable-pip-version-check $spec
    local version
    version="$("$dir/bin/pip" show "$4" 2>/dev/null | awk '/^Version:/{print $2}')"
    printf '%s\n%s %s, %s\n' "$stamp" "$4" "$version" "$("$dir/bin/python" -V 2>&1)" >"$dir/.installed"
    echo "$name: $4 $version installed in $((SECONDS - t0)) s"
}

PY="$(find_python)"
mkdir -p "$PEERS"
install localstack "$LOCALSTACK_SPEC" "$PY" localstack-core
install moto "$MOTO_SPEC" "$PY" moto
