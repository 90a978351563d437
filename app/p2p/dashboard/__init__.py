"""The dashboard: one page served by the node at ``/`` over the node's JSON API.

``loop`` holds the read models the page needs beyond the node's job API and views (the state of every config
key, gate decisions with their SPRT evidence, training curves, applied recommendations), ``actions`` the state
changes it offers (promote, roll back), ``schemas`` their shapes on the wire, and ``static/`` the page itself
(one HTML, one script, one stylesheet; charts are SVG drawn by the script, so nothing is fetched from outside).
"""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
