"""The agent's side of the digital handshake (domain.md §2.7): ask a client for authorisation, track and cancel
the requests, and stop acting for a client. Every rule is portal.domain.handshake's; these are only its pages."""

from portal.areas.handshake.agent import ask, stop, track

routes = [*track.routes, *ask.routes, *stop.routes]
