"""The dashboard's service functions, over the model registry, the evaluations and the job table.

``loop`` holds the read models the page needs beyond the node's job API and views (the state of every config
key, gate decisions with their SPRT evidence, training curves, applied recommendations), ``actions`` the state
changes it offers (promote, roll back) and ``schemas`` their shapes on the wire. The page itself is in
``app/web/static`` (one HTML, a stylesheet and ES modules; charts are SVG drawn by the script, so nothing is
fetched from outside).
"""
