"""The API's contract, checked against a live server: the OpenAPI schema it serves is valid, a
client generated from it works, and a schema fuzzer finds no answer the schema does not allow.

    .venv/bin/python -m contract.live [--max-examples N] [--seed N] [--port PORT] [--out DIR]

What it does, in order:

1. A throwaway database with the demo: with a PostgreSQL `DATABASE_URL`, the sibling database
   `<name>_contract` on the same server (dropped and created again; the role needs CREATEDB);
   otherwise a SQLite file in a temporary folder. `migrate`, then `load_demo` (with the official
   region list when `../shared/data/regions.csv` is there).
2. `collectstatic` into a temporary folder and gunicorn (production settings, 2 workers,
   127.0.0.1) on it; rate limits raised out of the fuzzer's way, lists counted and exports
   bounded at 2,000 workers.
3. The schema (`/api/schema/?format=json`) checked by openapi-spec-validator.
4. A client generated from it by openapi-python-client (any generator warning fails the check),
   and `contract/client_journey.py` run with nothing but that client.
5. schemathesis on every operation, seeded and bounded, with an admin token and then without one.

The server is stopped and the database dropped whatever happens. Exit status 1 on any failure.
Reports (schemathesis's output and JUnit XML, the schema, the generator's output, the server's
log) are kept in `--out`
(default `contract/results/`, not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server import Client, Gunicorn, Req  # noqa: E402

BIN = Path(sys.executable).parent
REGIONS_CSV = ROOT.parent / "shared" / "data" / "regions.csv"
ADMIN = ("admin", "ucj-demo-admin")
UNLIMITED = "1000000000/min"

# What schemathesis checks. On every answer: no server error, and a status, content type, headers
# and body the schema documents. Beyond the answer: a required header left out is refused, a
# method the schema does not list is a 405 with its Allow header, an operation that needs a token
# refuses a request without one, a created resource can be read and a deleted one cannot.
# `negative_data_rejection`: a request the schema does not allow (a wrong type, an unknown enum
# value, a repeated or unreadable parameter) is refused with a 4xx, never read leniently.
# `positive_data_acceptance` is off: it counts every rule a schema cannot state (a NIK's birth
# date, start before end, a version sent as If-Match or in the body) as a contract failure.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
    "ensure_resource_availability",
    "use_after_free",
    "negative_data_rejection",
)
# The admin run keeps its token: logging out would revoke it and turn the rest of the run into
# 401s. Logout is exercised by the anonymous run (401) and by the client journey (204).
ADMIN_EXCLUDED_PATHS = ("/api/v1/auth/logout/",)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="The API's contract against a live server (see the docstring).")
    parser.add_argument("--max-examples", type=int, default=20, help="schemathesis test cases per operation")
    parser.add_argument("--seed", type=int, default=15, help="schemathesis random seed")
    parser.add_argument(
        "--checks", default=",".join(CHECKS), help="schemathesis checks, comma-separated (default: %(default)s)"
    )
    parser.add_argument("--port", type=int, default=None, help="the server's port (default: a free one)")
    parser.add_argument("--out", type=Path, default=ROOT / "contract" / "results", help="reports folder")
    return parser.parse_args(argv)


def step(title: str) -> None:
    print(f"\n== contract: {title}", flush=True)


def run(command: list[str], env: dict[str, str], *, capture: bool = False) -> subprocess.CompletedProcess:
    """Run a command in the project folder; its output goes through unless captured."""
    return subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        check=False,
        text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None,
    )


def manage(env: dict[str, str], *args: str) -> None:
    result = run([sys.executable, "manage.py", *args], env)
    if result.returncode:
        raise SystemExit(f"manage.py {args[0]} failed ({result.returncode})")


# --- The throwaway database ------------------------------------------------------------------


class ContractDatabase:
    """A database of its own for the run: `<name>_contract` beside a PostgreSQL DATABASE_URL, or a
    SQLite file in `folder`. `url` is its DATABASE_URL; `drop()` removes it."""

    def __init__(self, database_url: str, folder: Path):
        import environ

        config = environ.Env.db_url_config(database_url) if database_url else {}
        self.postgres = config.get("ENGINE") == "django.db.backends.postgresql"
        if not self.postgres:
            self.url = f"sqlite:///{folder / 'contract.sqlite3'}"
            self.name = str(folder / "contract.sqlite3")
            return
        self.server: dict[str, Any] = {
            "host": config.get("HOST") or None,
            "port": config.get("PORT") or None,
            "user": config.get("USER") or None,
            "password": config.get("PASSWORD") or None,
        }
        self.name = f"{config['NAME']}_contract"
        parts = urlsplit(database_url)
        self.url = urlunsplit(parts._replace(path=f"/{self.name}"))

    def _admin(self, statement: str) -> None:
        import psycopg
        from psycopg import sql

        # CREATE and DROP DATABASE cannot run in a transaction: autocommit, on the server's own
        # `postgres` database.
        with psycopg.connect(dbname="postgres", autocommit=True, **self.server) as conn:
            conn.execute(sql.SQL(statement).format(sql.Identifier(self.name)))

    def create(self) -> None:
        if self.postgres:
            self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            self._admin("CREATE DATABASE {}")

    def drop(self) -> None:
        if self.postgres:
            self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")


# --- The checks ------------------------------------------------------------------------------


def validate_schema(schema_path: Path, env: dict[str, str]) -> bool:
    step("openapi-spec-validator")
    result = run([str(BIN / "openapi-spec-validator"), str(schema_path)], env, capture=True)
    print(result.stdout.strip())
    return result.returncode == 0


def generate_client(schema_path: Path, folder: Path, out: Path, env: dict[str, str]) -> Path | None:
    """The generated package's parent folder (to put on the path), None when generation failed
    or warned."""
    step("openapi-python-client generate")
    target = folder / "client" / "ucj_desa_client"
    result = run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(schema_path),
            "--config",
            str(ROOT / "contract" / "client.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(target),
            "--overwrite",
            # A warning means an operation or a model was skipped or mangled: the client an
            # integrator would get is incomplete.
            "--fail-on-warning",
        ],
        env,
        capture=True,
    )
    print(result.stdout.strip())
    (out / "generator.txt").write_text(result.stdout)
    if result.returncode or not (target / "__init__.py").exists():
        print(f"FAILED: the generator exited with {result.returncode}")
        return None
    return target.parent


def client_journey(client_path: Path, base_url: str, env: dict[str, str]) -> bool:
    step("client journey (the generated client only)")
    journey_env = {**env, "PYTHONPATH": str(client_path)}
    result = run([sys.executable, str(ROOT / "contract" / "client_journey.py"), base_url], journey_env)
    return result.returncode == 0


def cpu_seconds() -> float:
    """CPU time of the finished child processes (schemathesis's own, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def admin_token(client: Client) -> str:
    username, password = ADMIN
    body = json.dumps({"username": username, "password": password}).encode()
    resp = client.fetch(Req("POST", "/api/v1/auth/login/", body))
    if resp.status != 200:
        raise SystemExit(f"admin login failed: {resp.status} {resp.body[:300]!r}")
    return json.loads(resp.body)["token"]


def fuzz_summary(output: str) -> list[str]:
    """What a schemathesis run tested and found, from its closing summary: operations, test cases,
    failures by kind, and its verdict line."""
    summary = output[output.rfind("SUMMARY") :].splitlines()
    lines = []
    for i, line in enumerate(summary):
        text = line.strip()
        if text.startswith(("Selected:", "Tested:", "❌ ST")):
            lines.append(text)
        elif text == "Test cases:" and i + 1 < len(summary):
            lines.append(f"Test cases: {summary[i + 1].strip()}")
        elif text.startswith("===") and text.endswith("==="):
            lines.append(text.strip("= "))
    return lines


def fuzz(name: str, schema_path: Path, base_url: str, args, out: Path, env: dict[str, str], extra: list[str]) -> dict:
    step(f"schemathesis, {name}")
    started = time.monotonic()
    cpu_before = cpu_seconds()
    report_dir = out / f"schemathesis-{name}"
    shutil.rmtree(report_dir, ignore_errors=True)
    command = [
        str(BIN / "st"),
        "--config-file",
        str(ROOT / "contract" / "schemathesis.toml"),
        "run",
        str(schema_path),
        "--url",
        base_url,
        "--checks",
        args.checks,
        "--seed",
        str(args.seed),
        "--max-examples",
        str(args.max_examples),
        # One request at a time: the same test cases in the same order on every run, and no
        # concurrent writers on SQLite.
        "--workers",
        "1",
        "--request-timeout",
        "60",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(report_dir),
        *extra,
    ]
    result = run(command, {**env, "COLUMNS": "120"}, capture=True)
    (out / f"schemathesis-{name}.txt").write_text(result.stdout)
    print(result.stdout.rstrip())
    return {
        "name": name,
        "ok": result.returncode == 0,
        "seconds": round(time.monotonic() - started, 1),
        "summary": fuzz_summary(result.stdout),
        "cpu_seconds": round(cpu_seconds() - cpu_before, 1),
    }


# --- The run ---------------------------------------------------------------------------------


def server_environment(database_url: str, static_root: Path) -> dict[str, str]:
    environment = dict(os.environ)
    replica_url = environment.pop("DATABASE_REPLICA_URL", "")
    if replica_url and database_url.startswith("postgres"):
        # The replica receives the throwaway database too: read there, by the same name.
        environment["DATABASE_REPLICA_URL"] = urlunsplit(
            urlsplit(replica_url)._replace(path=urlsplit(database_url).path)
        )
    return {
        **environment,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "ucj_project.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "DEBUG": "false",
        "STATIC_ROOT": str(static_root),
        # Counts and exports bounded at 2,000 workers: an unfiltered export of the demo's 99,000
        # takes 12 s as CSV and 44 s as XLSX, and the fuzzer would spend its time budget there.
        # Lists then also answer their `"count": null` beyond the limit, a shape to check too.
        "UCJ_LIST_COUNT_LIMIT": "2000",
        # The fuzzer sends thousands of requests a minute, logs in and looks NIKs up.
        "UCJ_RATE_TOKEN": UNLIMITED,
        "UCJ_RATE_ANON": UNLIMITED,
        "UCJ_RATE_LOGIN": UNLIMITED,
        "UCJ_RATE_NIK_LOOKUP": UNLIMITED,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, bool] = {}
    fuzz_runs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="ucj-contract-") as tmp:
        folder = Path(tmp)
        database = ContractDatabase(os.environ.get("DATABASE_URL", ""), folder)
        env = server_environment(database.url, folder / "static")
        server = None
        try:
            step(f"database {database.name} ({'PostgreSQL' if database.postgres else 'SQLite'}) with the demo")
            database.create()
            manage(env, "migrate", "--no-input", "-v", "0")
            manage(env, "load_demo", *(["--regions", str(REGIONS_CSV)] if REGIONS_CSV.exists() else []))
            manage(env, "collectstatic", "--no-input", "-v", "0")

            step("gunicorn")
            # No limit on the request line: gunicorn would answer the fuzzer's longest query strings
            # with its own HTML 414 before the app sees them (the app refuses more than 1,000
            # parameters itself, with a JSON 400).
            server = Gunicorn(env, ["--limit-request-line", "0"], port=args.port)
            server.wait_ready()
            client = Client(server.port)
            print(f"serving on {server.url} (production settings, 2 workers)")

            resp = client.fetch(Req("GET", "/api/schema/?format=json"))
            if resp.status != 200:
                raise SystemExit(f"GET /api/schema/?format=json answered {resp.status}")
            schema_path = args.out / "schema.json"
            schema_path.write_bytes(resp.body)
            schema = json.loads(resp.body)
            methods = {"get", "put", "post", "patch", "delete"}
            operations = sum(1 for item in schema["paths"].values() for method in item if method in methods)
            print(f"schema: OpenAPI {schema.get('openapi')}, {len(schema['paths'])} paths, {operations} operations")

            results["openapi-spec-validator"] = validate_schema(schema_path, env)

            client_path = generate_client(schema_path, folder, args.out, env)
            results["openapi-python-client generate"] = client_path is not None
            if client_path is not None:
                results["client journey"] = client_journey(client_path, server.url, env)

            token = admin_token(client)
            admin_extra = ["--header", f"Authorization: Token {token}"]
            for path in ADMIN_EXCLUDED_PATHS:
                admin_extra += ["--exclude-path", path]
            fuzz_runs.append(fuzz("admin", schema_path, server.url, args, args.out, env, admin_extra))
            fuzz_runs.append(fuzz("anonymous", schema_path, server.url, args, args.out, env, []))
            for fuzz_run in fuzz_runs:
                results[f"schemathesis {fuzz_run['name']}"] = fuzz_run["ok"]
        finally:
            if server is not None:
                (args.out / "gunicorn-stderr.txt").write_text(server.errors())
                server.stop()
            database.drop()

    step(f"summary ({time.monotonic() - started:.0f} s)")
    for fuzz_run in fuzz_runs:
        print(f"schemathesis {fuzz_run['name']} ({fuzz_run['seconds']:.0f} s, {fuzz_run['cpu_seconds']:.0f} s of CPU):")
        for line in fuzz_run["summary"]:
            print(f"    {line}")
    for name, ok in results.items():
        print(f"{'ok    ' if ok else 'FAILED'} {name}")
    print(f"Reports: {args.out}")
    return 0 if results and all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
