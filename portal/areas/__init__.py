"""Pages: each area wires portal.domain's rules to HTTP through portal.web's plumbing."""

from portal.web import convertors

# Before any area module builds its routes: they use `{...:id}` (portal/web/convertors.py).
convertors.register()
