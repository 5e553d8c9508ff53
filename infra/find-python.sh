#!/usr/bin/env bash
# Print the path of a Python >= 3.12 that can create virtualenvs, or explain and fail.
# Chalice packages for the Python it runs under, and AWS no longer creates python3.11
# Lambdas, so 3.11 is not enough. Works with pyenv (whose python3.12 shim fails unless
# PYENV_VERSION names an installed 3.12) and with Debian's /usr/bin/python3.1x.
set -u

ok() {  # ok PYTHON: runs, is >= 3.12, has venv + ensurepip
  "$1" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 12) else 1)' \
    >/dev/null 2>&1
}

candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
for v in 3.12 3.13 3.14; do  # 3.12 first: what the Lambda package targets
  for p in "/usr/bin/python$v" "/usr/local/bin/python$v"; do [ -x "$p" ] && candidates+=("$p"); done
done
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
if [ -d "$pyenv_root/versions" ]; then
  while IFS= read -r p; do candidates+=("$p"); done < <(
    ls -d "$pyenv_root"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -V)
fi
for name in python3.12 python3.13 python3.14 python3; do
  p=$(command -v "$name" 2>/dev/null) && candidates+=("$p")
done

for p in "${candidates[@]}"; do
  if ok "$p"; then echo "$p"; exit 0; fi
done

# A Debian Python 3.12+ without its venv package: install it when we are root.
for p in "${candidates[@]}"; do
  if "$p" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1 \
     && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    ver=$("$p" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    echo "Installing python$ver-venv for $p" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python$ver-venv" >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 \
           && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python$ver-venv" >/dev/null; }
    if ok "$p"; then echo "$p"; exit 0; fi
  fi
done

cat >&2 <<'MSG'
No Python 3.12 or newer with the venv module was found.
The gateway needs Python >= 3.12 (AWS no longer creates python3.11 Lambdas).
Install one (Debian: apt-get install python3.13 python3.13-venv; pyenv: pyenv install 3.12)
or point PYTHON at it: make test PYTHON=/path/to/python3.12
MSG
exit 1
