"""Survey link tokens: shown once in clear, stored only as their SHA-256.

Its own module because both the sending side (distribution) and the answering side
(answers) need it, and the sending side also needs the answering side's wording.
"""

import hashlib

TOKEN_BYTES = 24  # 192 bits


def hash_token(token: str) -> str:
    """The stored form of a link token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
