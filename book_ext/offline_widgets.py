"""Sphinx extension: serve the widget and math JavaScript from the book itself, so
widgets and formulas work in the built HTML with no kernel and no internet.

Embedded widgets need require.js, the widget manager ``@jupyter-widgets/html-manager``
(``embed-amd.js``) and anywidget's front end. myst-nb loads the first two from
CDNs by default. This extension, at every build:

1. finds require.js and ``embed-amd.js`` in ``node_modules`` (the versions pinned
   in ``package.json``; it runs ``npm ci`` when they are missing and npm exists),
   and anywidget's AMD bundle in the installed ``anywidget`` Python package;
2. copies them to ``_build/.widget_assets/cnnlib-offline/`` with a small
   ``config.js`` that points require.js at the local anywidget bundle, and
   MathJax 3 (also pinned in ``package.json``) beside them;
3. serves that folder through ``html_static_path`` (a folder not named
   ``_static``: Jupyter Book adds every ``_static/**/*.js`` to every page, which
   would load require.js too early), sets myst-nb's ``nb_ipywidgets_js`` and
   Sphinx's ``mathjax_path``;
4. after the build, puts the widget manager's icon fonts where its style sheet
   looks for them (``@jupyter-widgets/html-manager/dist/`` beside each page).

If the npm packages cannot be had, it falls back to the CDN defaults (anywidget
still comes from the Python package) and says so with a warning. No
third-party JavaScript is committed to the repository.
"""

from __future__ import annotations

import shutil
import subprocess
from importlib import resources
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
FOLDER = "cnnlib-offline"
STAGING = ROOT / "_build" / ".widget_assets"
REQUIRE_JS = ROOT / "node_modules" / "requirejs" / "require.js"
HTML_MANAGER = ROOT / "node_modules" / "@jupyter-widgets" / "html-manager" / "dist"
MATHJAX = ROOT / "node_modules" / "mathjax" / "es5"
FONTS = (".woff2", ".woff", ".ttf", ".eot", ".svg")
CDN = "https://cdn.jsdelivr.net/npm/"

# Runs after require.js and before the widget manager: anywidget's AMD module is
# looked up beside this file, wherever the page that loads it lives.
CONFIG_JS = """\
(function () {
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  window.requirejs.config({ paths: { anywidget: here + "anywidget" } });
})();
"""


def _npm_ci() -> bool:
    npm = shutil.which("npm")
    if npm is None:
        return False
    logger.info("offline_widgets: running npm ci for the widget JavaScript")
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        logger.info("offline_widgets: npm ci failed:\n%s", result.stderr[-2000:])
    return result.returncode == 0


def _anywidget_bundle() -> Path:
    return Path(str(resources.files("anywidget") / "nbextension" / "index.js"))


def stage_assets() -> dict[str, dict[str, str]] | None:
    """Copy the widget JavaScript into the staging folder; None if npm's part is missing."""
    if not (REQUIRE_JS.is_file() and (HTML_MANAGER / "embed-amd.js").is_file()) and not _npm_ci():
        return None
    if not (REQUIRE_JS.is_file() and (HTML_MANAGER / "embed-amd.js").is_file()):
        return None
    target = STAGING / FOLDER
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copy2(REQUIRE_JS, target / "require.js")
    shutil.copy2(HTML_MANAGER / "embed-amd.js", target / "embed-amd.js")
    shutil.copy2(_anywidget_bundle(), target / "anywidget.js")
    (target / "config.js").write_text(CONFIG_JS)
    if (MATHJAX / "tex-mml-chtml.js").is_file():
        shutil.copytree(MATHJAX, target / "mathjax")
    return {
        f"{FOLDER}/require.js": {},
        f"{FOLDER}/config.js": {},
        f"{FOLDER}/embed-amd.js": {"data-jupyter-widgets-cdn": CDN},
    }


def configure(app: Sphinx, config: Config) -> None:
    scripts = stage_assets()
    if scripts is None:
        logger.warning(
            "offline_widgets: require.js and @jupyter-widgets/html-manager were not found "
            "and npm could not install them; widgets in this build load them from CDNs "
            "and need an internet connection (install Node.js/npm and rebuild to fix)."
        )
        target = STAGING / FOLDER
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(_anywidget_bundle(), target / "anywidget.js")
        (target / "config.js").write_text(CONFIG_JS)
        scripts = {
            "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.4/require.min.js": {
                "crossorigin": "anonymous"
            },
            f"{FOLDER}/config.js": {},
            f"{CDN}@jupyter-widgets/html-manager@1.0.15/dist/embed-amd.js": {
                "data-jupyter-widgets-cdn": CDN,
                "crossorigin": "anonymous",
            },
        }
    config.nb_ipywidgets_js = scripts
    config.html_static_path = [*config.html_static_path, str(STAGING)]
    if (STAGING / FOLDER / "mathjax" / "tex-mml-chtml.js").is_file():
        config.mathjax_path = f"{FOLDER}/mathjax/tex-mml-chtml.js"


def place_fonts(app: Sphinx, exception: Exception | None) -> None:
    """Copy the widget manager's fonts to where its CSS asks for them: relative to each page."""
    if exception is not None or app.builder.format != "html" or not HTML_MANAGER.is_dir():
        return
    outdir = Path(app.outdir)
    fonts = [f for f in HTML_MANAGER.iterdir() if f.suffix in FONTS]
    pages = {page.parent for page in outdir.rglob("*.html") if "_static" not in page.parts}
    for folder in pages:
        target = folder / "@jupyter-widgets" / "html-manager" / "dist"
        target.mkdir(parents=True, exist_ok=True)
        for font in fonts:
            shutil.copy2(font, target / font.name)


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", configure)
    app.connect("build-finished", place_fonts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
