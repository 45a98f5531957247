"""Email: rendering an outbox row in its language (render), handing it to a relay or a file (transport), and the
sender that claims and delivers rows (sender). The rules of who gets what live in portal.domain.notifications."""
