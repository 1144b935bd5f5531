"""Screenshots of every page, per role, from a real headless Chromium, for docs/screenshots/.

    python -m tests.dashboard.screenshots DATA_DIR [--config CONFIG] [--out docs/screenshots]

DATA_DIR is a data folder with a published snapshot and `demo-logins.json` (as `crowdmeter demo
--no-serve` leaves it).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from dashboard.pages import PAGES
from etl.settings import load_settings
from tests.dashboard.browser import chromium, console_errors, log_in, open_page, served

WIDTH = 1440
SHOTS = {  # role -> pages shown for it (the admin sees every page)
    "admin": [page.path for page in PAGES],
    "manager": ["/", "/quality", "/project"],
    "freelancer": ["/earnings"],
    "auditor": ["/earnings", "/fairness"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    settings = load_settings(args.config, data_dir=args.data_dir)
    logins = json.loads((args.data_dir / "demo-logins.json").read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    titles = {page.path: page.title for page in PAGES}
    with served(settings) as url, chromium(Path(tempfile.mkdtemp())) as browser:
        browser.driver.set_window_size(WIDTH, 900)
        browser.driver.get(url + "/login")
        browser.driver.save_screenshot(str(args.out / "login.png"))
        for role, paths in SHOTS.items():
            log_in(browser, url, logins[role]["login"], logins[role]["password"])
            for path in paths:
                open_page(browser, url + path, titles[path])
                name = f"{titles[path].lower()}-{role}.png"
                _full_page(browser, args.out / name)
                errors = console_errors(browser)
                print(name, "console errors:" if errors else "ok", errors or "")


def _full_page(browser, target: Path) -> None:
    height = browser.driver.execute_script("return document.documentElement.scrollHeight")
    browser.driver.set_window_size(WIDTH, min(height + 20, 6000))
    browser.driver.save_screenshot(str(target))
    browser.driver.set_window_size(WIDTH, 900)


if __name__ == "__main__":
    main()
