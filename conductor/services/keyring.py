"""Authentication: API keys exchanged for short-lived signed tokens, and tokens turned back into
principals.

Tokens are HS256 JWTs signed with a key kept in the database, so every server accepts every
server's tokens. Each token names its key and the key's generation; a revoked or rotated key's
tokens stop working as soon as the ring reloads (at once on the server that made the change,
within `refresh_s` elsewhere). Authentication is on once any key has been made.

Verifying a JWT costs about 50 µs; a worker's token is verified once and then found in a cache.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

import asyncpg
import jwt

from conductor.clock import Clock
from conductor.errors import Unauthenticated
from conductor.roles import Principal
from conductor.services.api_keys import secret_matches
from conductor.store import api_keys as store
from conductor.store.values import ApiKey

_ALGORITHM = "HS256"
_CACHE_LIMIT = 10_000


class TokenKind(StrEnum):
    API = "api"  # from POST /api/token, sent in X-Authorization
    SESSION = "session"  # the web UI's cookie, which also carries a CSRF token


@dataclass(frozen=True)
class Verified:
    principal: Principal
    csrf: str | None


@dataclass(frozen=True)
class _Claims:
    key_id: str
    generation: int
    kind: TokenKind
    expires_ms: int
    csrf: str | None


class KeyRing:
    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        *,
        token_ttl_s: float = 900,
        session_ttl_s: float = 8 * 3600,
    ) -> None:
        self.pool = pool
        self.clock = clock
        self.token_ttl_s = token_ttl_s
        self.session_ttl_s = session_ttl_s
        self._keys: dict[str, ApiKey] = {}
        self._signing_secret = b""
        self._tokens: dict[str, _Claims] = {}
        self._last_used: dict[str, int] = {}
        # (key id, generation) -> digest of the secret last verified: argon2 once per secret.
        self._verified: dict[tuple[str, int], bytes] = {}

    @property
    def enabled(self) -> bool:
        """Whether requests must authenticate: true once any key exists, even a revoked one."""
        return bool(self._keys)

    async def load(self) -> None:
        async with self.pool.acquire() as conn:
            if not self._signing_secret:
                self._signing_secret = await store.signing_secret(conn)
            keys = await store.all_keys(conn)
        self._keys = {key.key_id: key for key in keys}

    async def refresh(self) -> None:
        """Write down when keys were last used, then reload them (a background step)."""
        used, self._last_used = self._last_used, {}
        if used:
            async with self.pool.acquire() as conn:
                await store.record_use(conn, used)
        await self.load()

    async def exchange(self, key_id: str, secret: str, kind: TokenKind = TokenKind.API) -> str:
        """A token for a key id and secret; 401 when they do not match an active key."""
        key = self._keys.get(key_id)
        if key is None or not key.active or not await self._secret_ok(key, secret):
            raise Unauthenticated("Invalid key id or secret", "INVALID_CREDENTIALS")
        self._last_used[key.key_id] = self.clock.now_ms()
        return self.issue(key, kind)

    def issue(self, key: ApiKey, kind: TokenKind = TokenKind.API) -> str:
        now_s = self.clock.now_ms() // 1000
        ttl = self.session_ttl_s if kind is TokenKind.SESSION else self.token_ttl_s
        claims: dict[str, object] = {
            "sub": key.key_id,
            "gen": key.generation,
            "typ": kind.value,
            "iat": now_s,
            "exp": now_s + int(ttl),
            "jti": secrets.token_urlsafe(8),
        }
        if kind is TokenKind.SESSION:
            claims["csrf"] = secrets.token_urlsafe(24)
        return jwt.encode(claims, self._signing_secret, algorithm=_ALGORITHM)

    def verify(self, token: str, kind: TokenKind) -> Verified:
        """The principal a token stands for, or Unauthenticated (EXPIRED_TOKEN/INVALID_TOKEN)."""
        claims = self._tokens.get(token)
        if claims is None:
            claims = self._decode(token)
            if len(self._tokens) >= _CACHE_LIMIT:
                self._tokens.clear()
            self._tokens[token] = claims
        if claims.kind is not kind:
            raise Unauthenticated("Token not valid here")
        if claims.expires_ms <= self.clock.now_ms():
            raise Unauthenticated("Token expired", "EXPIRED_TOKEN")
        key = self._keys.get(claims.key_id)
        if key is None or not key.active or key.generation != claims.generation:
            raise Unauthenticated("Token of a revoked or rotated key")
        self._last_used[key.key_id] = self.clock.now_ms()
        principal = Principal(key.key_id, key.role, key.task_types, key.domains)
        return Verified(principal, claims.csrf)

    def _decode(self, token: str) -> _Claims:
        try:
            # Expiry is checked against the injectable clock below, not PyJWT's.
            claims = jwt.decode(
                token,
                self._signing_secret,
                algorithms=[_ALGORITHM],
                options={
                    "require": ["sub", "gen", "typ", "exp"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
            return _Claims(
                key_id=str(claims["sub"]),
                generation=int(claims["gen"]),
                kind=TokenKind(claims["typ"]),
                expires_ms=int(claims["exp"]) * 1000,
                csrf=str(claims["csrf"]) if "csrf" in claims else None,
            )
        except (jwt.InvalidTokenError, ValueError, TypeError, KeyError):
            raise Unauthenticated("Invalid token") from None

    async def _secret_ok(self, key: ApiKey, secret: str) -> bool:
        digest = hashlib.sha256(secret.encode()).digest()
        remembered = self._verified.get((key.key_id, key.generation))
        if remembered is not None and secrets.compare_digest(remembered, digest):
            return True
        if not await secret_matches(key.secret_hash, secret):
            return False
        self._verified[(key.key_id, key.generation)] = digest
        return True
