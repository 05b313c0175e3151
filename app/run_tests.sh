#!/bin/sh
# The app's unit tests (npm run test:app), with the first python3 that has numpy, scikit-learn and
# pandas: a version manager's python3 may come first on PATH without them, while Debian's packages
# (python3-numpy, python3-sklearn, python3-pandas) are for /usr/bin/python3.
cd "$(dirname "$0")/.." || exit 1
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the work tree
for py in python3 /usr/bin/python3; do
  if "$py" -c 'import numpy, sklearn, pandas' 2>/dev/null; then
    exec "$py" -m unittest discover -s app -t app -p 'test_*.py' "$@"
  fi
done
echo "test:app: no python3 with numpy, scikit-learn and pandas (Debian: apt-get install python3-numpy python3-sklearn python3-pandas)" >&2
exit 1
