"""A stand-in for Microsoft Entra ID: OpenID configuration, JWKS, token and authorize endpoints over HTTPS.

One tenant, a small directory of service principals and users, RS256 access tokens shaped like Entra's
v2 tokens. ``python -m sandbox entra`` runs it alone; ``python -m sandbox up`` starts it with the rest;
``python -m sandbox token`` mints a token offline from the signing key it keeps in ``$SANDBOX_DIR``.
See docs/sandbox.md ("The Entra stand-in").
"""
