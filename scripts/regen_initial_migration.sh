#!/usr/bin/env bash
# Regenerates the initial migration from the models (only while the project has not
# shipped a release: after the first release, add new revisions instead).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f src/companion/migrations/versions/0001_initial.py
.venv/bin/python - "$tmp" <<'PY'
import sys
from alembic import command
from companion.kit.migrate import alembic_config
cfg = alembic_config(f"sqlite:///{sys.argv[1]}/gen.db")
command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
PY
f=$(ls src/companion/migrations/versions/0001_*.py)
mv "$f" src/companion/migrations/versions/0001_initial.py
sed -i -E 's/^Create Date: .*/Create Date: (generated)/' src/companion/migrations/versions/0001_initial.py
.venv/bin/ruff format -q src/companion/migrations/versions/0001_initial.py
.venv/bin/ruff check -q --fix src/companion/migrations/versions/0001_initial.py || true
rm -rf "$tmp"
echo "regenerated src/companion/migrations/versions/0001_initial.py"
