"""The client's side of the handshake (domain.md §2.6, §2.8): the client link (link.py), answering a request
(respond.py), and "Manage who can deal with your tax" (manage.py). The rules live in portal.domain.handshake and
portal.domain.trusted_helpers; these pages only ask them."""

from portal.areas.handshake.client import link, manage, respond

routes = [*link.routes, *respond.routes, *manage.routes]
