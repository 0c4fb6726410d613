"""Run every benchmark under bench/. Scripts marked `# bench: database` run on the embedded SQLite
database and again on PostgreSQL (BENCH_POSTGRES_URL); the others run once."""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PG = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")

for script in sorted(HERE.glob("*.py")):
    if script.name == "run.py":
        continue
    databases = [("SQLite", {}), ("PostgreSQL", {"DATABASE_URL": PG})]
    if "# bench: database" not in script.read_text(encoding="utf-8"):
        databases = databases[:1]
    for label, extra in databases:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | extra
        print(f"== {script.name} on {label}", flush=True)
        subprocess.run([sys.executable, str(script)], env=env, check=False)
