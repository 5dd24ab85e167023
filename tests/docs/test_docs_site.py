"""The documentation site: its build-time checks, and the built site in Chromium.

``test_site_builds_and_browses`` builds the whole site as ``make docs`` does
(warnings as errors, tutorials run with ``--fast``), checks every internal
link of the output, then opens the index page, the GAIL page and a search for
``GAIL`` in headless Chromium. Set ``IMITATION_UPDATE_SCREENSHOT=1`` to refresh
the screenshots under ``docs/img/`` that the README shows.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import types
import urllib.parse
from collections.abc import Iterator

import pytest

REPO = pathlib.Path(__file__).parents[2]
DOCS = REPO / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import cli_reference  # noqa: E402
import imitation_site  # noqa: E402
import public_names  # noqa: E402

UPSTREAM_NAMES = REPO / "tests" / "data" / "upstream-public-names.txt"
SCREENSHOTS = {
    "index": DOCS / "img" / "site-index.png",
    "gail": DOCS / "img" / "site-gail.png",
    "search": DOCS / "img" / "site-search.png",
}
CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1200,900",
]
BUILD_TIMEOUT = 900  # seconds; about 4 minutes on a loaded 2-core machine

SPEC_SAMPLE = """\
# CLI reference

## train_rl

- commands: print_config, train_rl
- named configs: fast, pendulum
- named configs of ingredient rl: fast, sac

```
  total_timesteps = 1000000
  rl:
    batch_size = 2048
    rl_kwargs:
      learning_rate = 0.0003
  logging:
    log_dir = None
```

## parallel (Ray Tune)

- commands: parallel (main), print_config
- config keys (defaults): run_name = 'x'; search_space = {'a': [], 'b': {}}; repeat = 1

## tuning (Ray Tune + Optuna)

- named configs: rl, bc (each sets a=dict(cpu=1), plus b = 5)
"""


def test_parse_spec_reads_names_and_nested_keys():
    spec = cli_reference.parse_spec(SPEC_SAMPLE)
    assert spec["train_rl"].commands == {"print_config", "train_rl"}
    assert spec["train_rl"].named_configs == {"fast", "pendulum", "rl.fast", "rl.sac"}
    assert spec["train_rl"].keys == {
        "total_timesteps",
        "rl.batch_size",
        "rl.rl_kwargs.learning_rate",
        "logging.log_dir",
    }
    assert spec["parallel"].commands == {"parallel", "print_config"}
    assert spec["parallel"].keys == {"run_name", "search_space", "repeat"}
    assert spec["tuning"].named_configs == {"rl", "bc"}


def test_missing_cli_names_need_a_documented_difference():
    differences = {"algorithm_specific", "sqil.train_kwargs"}
    assert cli_reference._explained("algorithm_specific", differences)
    assert cli_reference._explained("reward.algorithm_specific", differences)
    assert cli_reference._explained("sqil.train_kwargs", differences)
    assert cli_reference._explained("demonstrations.__annotations__.x", differences)
    assert not cli_reference._explained("rl.batch_size", differences)


def test_cli_reference_matches_the_experiments():
    infos = {info.name: info for info in cli_reference.experiment_infos()}
    train_rl = infos["train_rl"]
    assert "train_rl" in train_rl.commands
    assert "rl.fast" in train_rl.named_configs
    assert train_rl.config["total_timesteps"] == 1_000_000
    assert train_rl.docs["total_timesteps"]
    page = cli_reference._page(train_rl)
    assert "| `total_timesteps` | `1000000` |" in page
    assert "| `rl.fast` |" in page


def test_gallery_copy_has_a_title_and_runs_as_its_file():
    source = (
        '"""Tutorial: do a thing.\n\nMore.\n"""\n\n'
        "from __future__ import annotations\n\nimport os\n"
    )
    copy = imitation_site._gallery_copy(source, "thing.py")
    lines = copy.split("\n")
    assert lines[:2] == ['"""Do a thing', "=" * len("Do a thing")]
    future = lines.index("from __future__ import annotations")
    assert lines[future + 2] == "# sphinx_gallery_start_ignore"
    assert (
        lines[future + 3]
        == f"__file__ = {str(imitation_site.GALLERY_SRC / 'thing.py')!r}"
    )
    assert lines[-2] == "import os"
    compile(copy, "thing.py", "exec", flags=0, dont_inherit=True)


def _fake_env(objects: dict[str, object]) -> types.SimpleNamespace:
    """Just what ``public_names.problems`` reads of a build environment."""
    domain = types.SimpleNamespace(objects=objects)
    return types.SimpleNamespace(domains=types.SimpleNamespace(python_domain=domain))


def test_public_name_check_flags_every_name_without_an_entry():
    names = public_names.all_public_names(UPSTREAM_NAMES)
    assert {"imitation.algorithms.bc.BC", "imitation.data.types.Trajectory"} <= {
        public.name for public in names
    }
    all_targets = {target: None for public in names for target in public.targets}
    assert public_names.problems(_fake_env(all_targets), UPSTREAM_NAMES) == []
    without_gail = {
        t: None
        for t in all_targets
        if t != "imitation.algorithms.adversarial.gail.GAIL"
    }
    assert public_names.problems(_fake_env(without_gail), UPSTREAM_NAMES) == [
        "public name imitation.algorithms.adversarial.gail.GAIL has no API "
        "reference entry"
    ]


def test_public_name_check_needs_a_docstring_of_its_own():
    def undocumented() -> None:
        pass

    class Undocumented:
        pass

    for obj, kind in ((undocumented, "function"), (Undocumented, "class")):
        public = public_names.PublicName("m.x", ("m.x",), obj, kind, "m")
        assert public_names._own_docstring(public) == ""
    documented = public_names.PublicName(
        "m.f", ("m.f",), test_parse_spec_reads_names_and_nested_keys, "function", "m"
    )
    assert public_names._own_docstring(documented) == ""  # tests have none
    bc = public_names.PublicName(
        "imitation.algorithms.bc.BC",
        (),
        _import("imitation.algorithms.bc").BC,
        "class",
        "",
    )
    assert public_names._own_docstring(bc)


def _import(name: str) -> types.ModuleType:
    import importlib

    return importlib.import_module(name)


class _Links(html.parser.HTMLParser):
    """The ``href`` and ``src`` values of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("href", "src") and value:
                self.links.append(value)


def _broken_internal_links(site: pathlib.Path) -> list[str]:
    """Links between the site's pages (and to its files) whose target is missing."""
    broken = []
    for page in site.rglob("*.html"):
        parser = _Links()
        parser.feed(page.read_text(errors="replace"))
        for link in parser.links:
            parsed = urllib.parse.urlsplit(link)
            if parsed.scheme or parsed.netloc or not parsed.path:
                continue
            target = (page.parent / urllib.parse.unquote(parsed.path)).resolve()
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {link}")
    return broken


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> pathlib.Path:
    """The site, built as ``make docs`` builds it (fast tutorials, -W)."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    env.pop("IMITATION_DOCS_FULL", None)
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-b",
            "html",
            "-d",
            str(out / "doctrees"),
            str(DOCS),
            str(out / "html"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    print(f"docs build: {elapsed:.0f} s")
    return out / "html"


@pytest.fixture(scope="module")
def server(site: pathlib.Path) -> Iterator[str]:
    """The built site over HTTP on 127.0.0.1 (search needs a real origin)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=site)
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture
def driver() -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options.add_argument(f"--user-data-dir={profile}")
    chrome = webdriver.Chrome(
        service=Service(executable_path="/usr/bin/chromedriver"), options=options
    )
    chrome.set_page_load_timeout(30)
    try:
        yield chrome
    finally:
        chrome.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _screenshot(driver, name: str, tmp_path: pathlib.Path) -> None:
    """Save a screenshot; refresh the README's copy when asked to."""
    path = tmp_path / f"{name}.png"
    assert driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000  # a rendered page, not a blank one
    if os.environ.get("IMITATION_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(path, SCREENSHOTS[name])


@pytest.mark.browser
def test_site_builds_and_browses(site, server, driver, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    assert _broken_internal_links(site) == []
    for page in ("api/imitation.algorithms.bc.html", "cli/train_rl.html"):
        assert (site / page).exists(), page
    tutorial = (site / "tutorials" / "bc_tutorial.html").read_text()
    assert "sphx-glr-script-out" in tutorial  # the run's printed output
    assert "Expert reward" in tutorial
    mce = (site / "tutorials" / "mce_irl_tutorial.html").read_text()
    assert "sphx_glr_mce_irl_tutorial_001.png" in mce  # a figure of the run

    wait = WebDriverWait(driver, 30)
    driver.get(f"{server}/index.html")
    assert "imitation" in driver.title
    gail_link = driver.find_element(By.PARTIAL_LINK_TEXT, "(GAIL)")
    _screenshot(driver, "index", tmp_path)

    gail_link.click()
    wait.until(expected_conditions.url_contains("algorithms/gail.html"))
    heading = driver.find_element(By.TAG_NAME, "h1").text
    assert "Generative Adversarial Imitation Learning" in heading
    api = driver.find_element(By.CSS_SELECTOR, "table.api-summary a")
    assert "api/imitation.algorithms.adversarial.gail.html" in api.get_attribute("href")
    _screenshot(driver, "gail", tmp_path)

    driver.get(f"{server}/search.html?q=GAIL")

    def gail_page_found(driver) -> bool:
        results = driver.find_elements(By.CSS_SELECTOR, "#search-results ul.search a")
        hrefs = [result.get_attribute("href") or "" for result in results]
        return any(h.split("#")[0].endswith("algorithms/gail.html") for h in hrefs)

    wait.until(gail_page_found)
    _screenshot(driver, "search", tmp_path)
