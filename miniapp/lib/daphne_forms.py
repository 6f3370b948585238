"""Daphne: leave form bodies to Django.

Daphne hands each request's raw body to Django, but the Twisted request it builds on
first parses every multipart and URL-encoded POST body into `request.args`, which
nothing reads. That costs twice: the parse runs on the reactor thread (Twisted's
email-based parser took seconds for an upload at the size limit, every socket of the
worker waiting), and a body it cannot read (a multipart body of the closing boundary alone)
gets Twisted's own bare 400, no content type, before Django sees it, where our APIs
answer JSON. Twisted 25.5 lets a request skip that parse (`parsePOSTFormSubmission`);
Daphne does not ask for it yet, so this does, until it does upstream.
"""

from daphne import http_protocol


class FormsLeftToDjango(http_protocol.WebRequest):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, parsePOSTFormSubmission=False, **kwargs)


def leave_form_bodies_to_django() -> None:
    """Make Daphne's HTTP factory build requests that skip Twisted's parse of the body.
    (`HTTPFactory.buildProtocol` reads the module's `WebRequest` each time.)"""
    http_protocol.WebRequest = FormsLeftToDjango
