"""`make demo`'s wait, measured to the moment that matters: figures on screen after a login.

    python -m bench.bench_demo [--scale S] [--clone]

Runs `crowdmeter demo` on a fresh data folder as `make demo` does (the console script,
simulate, ingest, publish, logins, then gunicorn on a free port), and times four moments from
the start: the demo printing "ready" (its own figure), `GET /login` answering 200, and, in
headless Chromium, the admin's Overview showing KPI figures, then each other role's. The
reference in the same run is the simulator alone (`crowdmeter simulate` at the same scale),
the floor under any demo. With `--clone`, also `make demo` from a fresh `git clone` of this
checkout (its own virtual environment) until figures show.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.dashboard.browser import chromium, log_in, open_page

ROLES = ("admin", "manager", "freelancer", "auditor")
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_login(url: str, process: subprocess.Popen) -> None:
    while process.poll() is None:
        try:
            with urllib.request.urlopen(url + "/login", timeout=10) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit(f"the demo exited with {process.returncode}")


def figures_shown(browser, url: str, login: dict) -> None:
    log_in(browser, url, login["login"], login["password"])
    open_page(browser, url + "/", "Overview")
    figures = [card.text for card in browser.find_elements(".kpi-card")]
    assert any(any(c.isdigit() for c in text) for text in figures), figures


def run_demo(command: list[str], data: Path, port: int, cwd: Path, log: Path) -> dict[str, float]:
    env = {**os.environ, "CROWDMETER_PSEUDONYM_KEY": "bench-demo"}
    url = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    with log.open("w") as out:
        demo = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    moments: dict[str, float] = {}
    try:
        wait_for_login(url, demo)
        moments["GET /login answers 200"] = time.perf_counter() - start
        logins = json.loads((data / "demo-logins.json").read_text())
        with chromium(data / "downloads") as browser:
            for role in ROLES:
                figures_shown(browser, url, logins[role])
                moments[f"{role}'s Overview shows figures"] = time.perf_counter() - start
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=120)
    ready = [line for line in log.read_text().splitlines() if "demo ready in" in line]
    if ready:
        moments["the demo says ready (its own figure)"] = float(
            ready[0].split("ready in ")[1].split("s")[0]
        )
    return moments


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--clone", action="store_true", help="also make demo from a git clone")
    args = parser.parse_args()
    crowdmeter = str(Path(sys.executable).with_name("crowdmeter"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        simulate = [crowdmeter, "simulate", str(folder / "sim"), "--scale", str(args.scale)]
        subprocess.run(simulate, check=True, capture_output=True)
        print(f"reference: crowdmeter simulate at scale {args.scale}: "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        port = free_port()
        data = folder / "demo"
        command = [crowdmeter, "--data-dir", str(data), "demo", "--scale", str(args.scale)]
        command += ["--port", str(port)]
        for name, seconds in run_demo(command, data, port, ROOT, folder / "demo.log").items():
            print(f"crowdmeter demo: {name:<40} {seconds:6.1f} s")
        if args.clone:
            clone = folder / "clone"
            start = time.perf_counter()
            subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
            port = free_port()
            make = ["make", "demo"]
            env_port = {"CROWDMETER_SERVER__PORT": str(port)}
            os.environ.update(env_port)
            moments = run_demo(make, clone / "data" / "demo", port, clone, folder / "make.log")
            for name, seconds in moments.items():
                print(f"make demo (fresh clone): {name:<40} {seconds:6.1f} s")
            print(f"(including git clone: {time.perf_counter() - start:.1f} s in all)")
            shutil.rmtree(clone, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
