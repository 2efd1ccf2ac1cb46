"""Sphinx extension: every script once per page.

sphinx-thebe registers its configuration script (``const THEBE_JS_URL = …``)
each time Sphinx emits ``env-before-read-docs``, and a Jupyter Book 1 build
emits it twice, so every page declared the same ``const`` twice and the
browser reported a SyntaxError on every page. This extension drops a script
that is repeated, with the same source and attributes, from the page context
before the page is written.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _key(script: object) -> tuple[str, tuple[tuple[str, str], ...]]:
    # The two copies differ only in how they spell "no file": None and "".
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {}) or {}
    return str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items()))


def drop_repeated_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: object
) -> None:
    """Keep the first of each identical script in ``context["script_files"]``."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: handlers that run later add to this same list


def setup(app: Sphinx) -> dict[str, object]:
    # After the handlers that add scripts to the page.
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
