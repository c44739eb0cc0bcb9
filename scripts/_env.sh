# Shared by scripts/test and scripts/demo: locate the Odoo trees, PostgreSQL and the virtualenvs.
# shellcheck shell=bash
# Supported Odoo series, each with its own source tree and virtualenv (Odoo's requirements differ):
#   18.0: ODOO_SRC   (default /opt/odoo18), QBO_VENV   (default .venv)
#   19.0: ODOO19_SRC (default /opt/odoo19), QBO_VENV19 (default: QBO_VENV's path + "19", else .venv19)
# QBO_SERIES narrows the series a command uses (e.g. QBO_SERIES=18.0); `use_series` selects one.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SUPPORTED_SERIES="18.0 19.0"
ODOO_SRC=${ODOO_SRC:-/opt/odoo18}
ODOO18_SRC=$ODOO_SRC
ODOO19_SRC=${ODOO19_SRC:-/opt/odoo19}
VENV18=${QBO_VENV:-$ROOT/.venv}
VENV19=${QBO_VENV19:-${QBO_VENV:+${QBO_VENV%/}19}}
VENV19=${VENV19:-$ROOT/.venv19}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432}
export PGUSER=${PGUSER:-$(id -un)}
BUILD="$ROOT/.build"
# The emulator is its own distribution (emulator/pyproject.toml, package qbo_emulator). It is imported from the
# checkout, not installed into the venv, which several checkouts may share.
export PYTHONPATH="$ROOT/emulator${PYTHONPATH:+:$PYTHONPATH}"

# Select a series: sets SERIES, ODOO_SRC (its tree), SRC_VAR (the variable naming it), VENV and PY.
use_series() {
    case "$1" in
        18|18.0) SERIES=18.0; ODOO_SRC=$ODOO18_SRC; SRC_VAR=ODOO_SRC; VENV=$VENV18 ;;
        19|19.0) SERIES=19.0; ODOO_SRC=$ODOO19_SRC; SRC_VAR=ODOO19_SRC; VENV=$VENV19 ;;
        *) echo "unsupported Odoo series '$1' (supported: $SUPPORTED_SERIES)" >&2; return 1 ;;
    esac
    PY="$VENV/bin/python"
}

# The series to use: QBO_SERIES if set (normalised, e.g. "19" -> "19.0"), else all supported ones.
wanted_series() {
    local s out=""
    for s in ${QBO_SERIES:-$SUPPORTED_SERIES}; do
        case "$s" in *.*) ;; *) s="$s.0" ;; esac
        out="$out $s"
    done
    echo $out
}

use_series 18.0

# Why Odoo cannot be used, or nothing when it can.
odoo_problem() {
    if [ ! -f "$ODOO_SRC/odoo/release.py" ]; then
        echo "no Odoo tree at $SRC_VAR=$ODOO_SRC; set $SRC_VAR to an Odoo $SERIES source checkout"
    elif ! grep -q "version_info = (${SERIES%.0}, 0" "$ODOO_SRC/odoo/release.py"; then
        echo "$SRC_VAR=$ODOO_SRC is not Odoo $SERIES; set $SRC_VAR to an Odoo $SERIES source checkout"
    elif ! pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null && ! "$PY" -c "import psycopg2,os;psycopg2.connect(dbname='postgres')" 2>/dev/null; then
        echo "PostgreSQL does not answer at $PGHOST:$PGPORT as $PGUSER; set PGHOST/PGPORT/PGUSER/PGPASSWORD"
    fi
}

# Create or reuse the git-ignored virtualenv of the selected series with its Odoo's requirements and ours.
# A lock inside the virtualenv keeps two commands (or two helpers sharing it) from building it at once.
ensure_venv() {
    local stamp="$VENV/.qbo-stamp" want
    want=$(cat "$ROOT/requirements-dev.txt" "$ODOO_SRC/requirements.txt" 2>/dev/null | sha1sum | cut -c1-12)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
    mkdir -p "$VENV" || return 1
    (
        flock 9
        _ensure_venv_locked "$want"
    ) 9>"$VENV/.qbo-lock"
}

_ensure_venv_locked() {
    local stamp="$VENV/.qbo-stamp" want=$1
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
    [ -x "$PY" ] || python3 -m venv "$VENV" || return 1
    local cons="$VENV/build-constraints.txt" log="$VENV/pip.log"
    # Old sdists in Odoo's requirements still import pkg_resources at build time.
    echo 'setuptools<81' > "$cons"
    echo "preparing the virtualenv $VENV (pip output: $log)..." >&2
    : > "$log"
    pip_or_show() { "$PY" -m pip "$@" >>"$log" 2>&1 || { tail -40 "$log" >&2; return 1; }; }
    pip_or_show install -q --upgrade 'pip>=25.3' wheel 'setuptools<81' || return 1
    if [ -f "$ODOO_SRC/requirements.txt" ]; then
        # python-ldap only serves auth_ldap and needs system headers: left out.
        grep -v '^python-ldap' "$ODOO_SRC/requirements.txt" > "$VENV/odoo-requirements.txt"
        pip_or_show install -q --build-constraint "$cons" -c "$cons" -r "$VENV/odoo-requirements.txt" || return 1
    fi
    pip_or_show install -q --build-constraint "$cons" -r "$ROOT/requirements-dev.txt" || return 1
    echo "$want" > "$stamp"
}

# The linters' virtualenv (scripts/lint-requirements.txt): sets LINT_PY. Built once, rebuilt when the pins change.
LINT_VENV=${QBO_LINT_VENV:-$BUILD/lint-venv}
ensure_lint_venv() {
    local stamp="$LINT_VENV/.qbo-stamp" want log="$LINT_VENV/pip.log"
    LINT_PY="$LINT_VENV/bin/python"
    want=$(sha1sum < "$ROOT/scripts/lint-requirements.txt" | cut -c1-12)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
    mkdir -p "$LINT_VENV" || return 1
    (
        flock 9
        if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
        echo "preparing the linters' virtualenv $LINT_VENV (pip output: $log)..." >&2
        { [ -x "$LINT_PY" ] || python3 -m venv "$LINT_VENV"; } > "$log" 2>&1 \
            && "$LINT_PY" -m pip install -q -r "$ROOT/scripts/lint-requirements.txt" >> "$log" 2>&1 \
            || { tail -20 "$log" >&2; exit 1; }
        echo "$want" > "$stamp"
    ) 9>"$LINT_VENV/.qbo-lock"
}

# An addons folder whose quickbooks_online entry is this checkout (whatever its folder name), with the bridge
# addons of bridges/ (quickbooks_online_hr_timesheet, ...) beside it.
prepare_addons_path() {
    local bridge
    mkdir -p "$BUILD/addons"
    ln -sfn "$ROOT" "$BUILD/addons/quickbooks_online"
    for bridge in "$ROOT"/bridges/*/__manifest__.py; do
        [ -f "$bridge" ] || continue
        bridge=$(dirname "$bridge")
        ln -sfn "$bridge" "$BUILD/addons/$(basename "$bridge")"
    done
    echo "$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$BUILD/addons"
}

free_port() {
    "$PY" -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1]);s.close()"
}

# Odoo's browser tests need Chromium; install Debian's package when missing and we may (root).
# Without it those tests are reported as skipped.
ensure_browser() {
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
        || command -v google-chrome >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing Debian's chromium for the browser tests..." >&2
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
            || echo "could not install chromium: browser tests will be skipped" >&2
    else
        echo "no chromium: browser tests will be skipped" >&2
    fi
}
