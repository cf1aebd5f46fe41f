"""The replay as one self-contained HTML page: data, script and style inline.

No network, no CDN: the page is a single file a teacher can email to a class, and its
Content-Security-Policy forbids it to fetch anything at all.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import Any


def _asset(name: str) -> str:
    return resources.files("netsim.animate").joinpath(name).read_text(encoding="utf-8")


def render_page(data: dict[str, Any]) -> str:
    """The HTML document that plays ``data`` (see :func:`netsim.animate.replay.replay_data`)."""
    # "</" would end the <script> element early; JSON allows it escaped.
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    title = html.escape(data.get("title") or f"netsim replay: {data.get('scenario', '')}")
    page = _asset("page.html")
    for key, value in (
        ("{{STYLE}}", _asset("replay.css")),
        ("{{SCRIPT}}", _asset("replay.js")),
        ("{{TITLE}}", title),
    ):
        page = page.replace(key, value)
    return page.replace("{{DATA}}", payload)
