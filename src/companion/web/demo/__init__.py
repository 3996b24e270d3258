"""The demo ERP host at ``/demo/`` (demo mode only): a few ERP-looking pages with the widget.

Server-rendered from the ERP's own repositories and the assistant's queries, so every figure
on a page is the one the API and the chat give. Sign-in is a demo user's password exchanged
for the same bearer token the API issues, kept in an HttpOnly cookie; the page hands it to
the widget the way an ERP integrator would (docs/embedding.md).
"""

from companion.web.demo.pages import install

__all__ = ["install"]
