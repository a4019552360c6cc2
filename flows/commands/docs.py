"""`outbound docs`: dbt's documentation site for the marts, with the catalog, and a local server.

`dbt docs generate` opens its database to read the catalog (tables, columns, types, comments),
so it runs against a private copy of the published warehouse: the published file is never
opened for writing, and a run publishing meanwhile is not blocked. The site is index.html with
manifest.json and catalog.json beside it (served over HTTP), plus static_index.html, the same
site in one file that a browser opens from disk.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from flows import settings
from flows.build.runner import close_dbt_connection, environment
from flows.errors import OutboundError
from flows.settings import DBT_PROJECT_DIR, PROFILES_DIR
from flows.warehouse.files import WarehouseFiles
from flows.warehouse.published import open_read_only

SITE_FILES = ("index.html", "manifest.json", "catalog.json", "static_index.html")
HOST = "127.0.0.1"


def default_output(warehouse: Path) -> Path:
    return WarehouseFiles(warehouse).docs


def docs(warehouse: Path, output: Path | None = None, serve_site: bool = False, port: int = 8080) -> Path:
    """Generate the site into `output` (default: docs/ beside the warehouse); then serve it if asked."""
    folder = generate(warehouse, output or default_output(warehouse))
    print(f"documentation site: {folder / 'index.html'} (or open {folder / 'static_index.html'} from disk)", flush=True)
    if serve_site:
        serve(folder, port)
    return folder


def generate(warehouse: Path, output: Path) -> Path:
    """Run `dbt docs generate` in-process on a copy of the warehouse; copy the site to `output`."""
    open_read_only(warehouse).close()  # a clear error for a missing, held or damaged file
    from dbt.cli.main import dbtRunner  # dbt is slow to import: only when docs are generated.

    with tempfile.TemporaryDirectory(prefix="outbound-docs-") as scratch:
        copy = Path(scratch) / warehouse.name  # same name: views that name their catalog resolve
        shutil.copyfile(warehouse, copy)
        target = Path(scratch) / "target"
        args = ["docs", "generate", "--static", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(PROFILES_DIR)]
        args += ["--target-path", str(target), "--quiet", "--no-use-colors"]
        with environment({settings.DBT_DATABASE: str(copy)}):
            try:
                result = dbtRunner().invoke(args)
            finally:
                close_dbt_connection()  # dbt-duckdb keeps it open for the invocation, on a copy about to be deleted
        if result.exception is not None or not result.success:
            log = settings.dbt_folder(settings.DBT_LOG_PATH) / "dbt.log"
            raise OutboundError(f"dbt docs generate failed: {result.exception or f'see {log}'}")
        output.mkdir(parents=True, exist_ok=True)
        for name in SITE_FILES:
            # Each file replaced in one rename: a browser reloading meanwhile reads whole files.
            staged = output / f".{name}.tmp"
            shutil.copyfile(target / name, staged)
            os.replace(staged, output / name)
    return output


class _Handler(SimpleHTTPRequestHandler):
    """Static files from the site folder; requests logged to stderr, as http.server does."""

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")  # a regenerated site shows on reload
        super().end_headers()


def serve(folder: Path, port: int = 8080) -> None:
    """Serve `folder` on 127.0.0.1 (never on other interfaces) until interrupted."""
    handler = functools.partial(_Handler, directory=str(folder))
    try:
        server = ThreadingHTTPServer((HOST, port), handler)
    except OSError as error:
        raise OutboundError(f"cannot serve on {HOST}:{port}: {error.strerror}; choose another --port") from None
    with server:
        print(f"serving {folder} on http://{HOST}:{server.server_port}/ (Ctrl-C to stop)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
