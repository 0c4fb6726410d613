"""Run every benchmark under bench/ on the embedded database, then (when reachable) on PostgreSQL."""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PG = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")

for script in sorted(HERE.glob("*.py")):
    if script.name == "run.py":
        continue
    for label, extra in (("SQLite", {}), ("PostgreSQL", {"DATABASE_URL": PG})):
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | extra
        print(f"== {script.name} on {label}", flush=True)
        subprocess.run([sys.executable, str(script)], env=env, check=False)
