"""Helpers shared by the accounts tests: the set-password link out of a captured e-mail."""

import re
from urllib.parse import urlparse

from django.conf import settings

LINK = re.compile(r"(https?://[^\s\"'<>]+/accounts/dat-mat-khau/[^\s\"'<>]+/)")


def set_password_path(message) -> str:
    """The path of the one set-password link in an e-mail (text and HTML must carry the same one)."""
    links = set(LINK.findall(message.body))
    for content, _mimetype in getattr(message, "alternatives", []):
        links |= set(LINK.findall(content))
    assert len(links) == 1, links
    link = links.pop()
    assert link.startswith(settings.SITE_URL + "/"), link
    return urlparse(link).path


def choose_password(client, path: str, password: str):
    """Follow a set-password link the way a browser does and submit a password twice."""
    first = client.get(path)
    assert first.status_code == 302, first.status_code  # the token moves into the session
    form_url = first["Location"]
    assert client.get(form_url).status_code == 200
    return client.post(form_url, {"new_password1": password, "new_password2": password})
