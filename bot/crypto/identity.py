"""The bot's cross-signing identity: created once, kept across restarts, recovered with the recovery key.

matrix-nio has no cross-signing, and Element clients share room keys only with devices that are
cross-signed by their owner (MSC4153). This module gives the bot's account a master, self-signing and
user-signing key, signs the bot's device with the self-signing key, keeps the private keys in the E2EE store
(file mode 0600) and in secret storage (SSSS) under a recovery key, so that a lost store does not mean a new
identity — members' clients would warn about a changed identity."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from nio import AsyncClient

from bot.crypto.keys import JsonDict, SigningKey, single_ed25519_key, verify_signature
from bot.crypto.secret_storage import (
    DEFAULT_KEY_TYPE,
    KEY_TYPE_PREFIX,
    RecoveryKeyError,
    StorageKey,
    decode_recovery_key,
    decrypt_secret,
    encrypt_secret,
    key_description,
    key_matches,
    new_key_id,
    new_storage_key,
)

log = logging.getLogger(__name__)

KEY_FILE = "cross_signing.json"
PENDING_KEY_FILE = "cross_signing.pending.json"
SECRET_NAMES = {
    "master": "m.cross_signing.master",
    "self_signing": "m.cross_signing.self_signing",
    "user_signing": "m.cross_signing.user_signing",
}
STORAGE_KEY_NAME = "community-bot recovery key"


class CrossSigningError(Exception):
    """Something the operator must act on; the message says what to do. The bot does not start."""


@dataclass(frozen=True)
class CrossSigningKeys:
    master: SigningKey
    self_signing: SigningKey
    user_signing: SigningKey

    @classmethod
    def generate(cls) -> CrossSigningKeys:
        return cls(SigningKey.generate(), SigningKey.generate(), SigningKey.generate())

    def to_json(self, user_id: str) -> JsonDict:
        return {"user_id": user_id, **{usage: getattr(self, usage).to_base64() for usage in SECRET_NAMES}}

    @classmethod
    def from_json(cls, data: JsonDict) -> CrossSigningKeys:
        return cls(*(SigningKey.from_base64(data[usage]) for usage in SECRET_NAMES))

    def upload_body(self, user_id: str) -> JsonDict:
        master = self.master.cross_signing_key(user_id, "master")
        return {
            "master_key": master,
            "self_signing_key": self.master.sign_json(
                self.self_signing.cross_signing_key(user_id, "self_signing"), user_id
            ),
            "user_signing_key": self.master.sign_json(
                self.user_signing.cross_signing_key(user_id, "user_signing"), user_id
            ),
        }


@dataclass(frozen=True)
class ServerIdentity:
    """What the homeserver holds about the bot's account and current device."""

    master_key: str | None
    self_signing_key: str | None
    device_keys: JsonDict | None

    def device_signed(self, user_id: str) -> bool:
        return bool(
            self.self_signing_key
            and self.device_keys
            and verify_signature(self.device_keys, user_id, self.self_signing_key)
        )


@dataclass(frozen=True)
class IdentityStatus:
    user_id: str
    device_id: str
    master_key: str | None
    local_keys: bool
    device_signed: bool
    secret_storage: bool

    def lines(self) -> list[str]:
        yes_no = {True: "yes", False: "no"}
        return [
            f"account:            {self.user_id}",
            f"device:             {self.device_id}",
            f"identity (master):  {self.master_key or 'none'}",
            f"private keys here:  {yes_no[self.local_keys]}",
            f"device cross-signed: {yes_no[self.device_signed]}",
            f"secret storage:     {yes_no[self.secret_storage]} (cross-signing keys under the default key)",
        ]


class CrossSigning:
    """Sets up, checks and recovers the identity over the client-server API of ``client``'s homeserver."""

    def __init__(
        self,
        client: AsyncClient,
        store_path: Path,
        *,
        password: str | None,
        recovery_key: str | None,
        announce_recovery_key: Callable[[str], None],
    ) -> None:
        self.client = client
        self.store_path = store_path
        self.password = password
        self.recovery_key = recovery_key
        self.announce_recovery_key = announce_recovery_key

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    @property
    def device_id(self) -> str:
        return str(self.client.device_id)

    # --- the start-up check ----

    async def ensure(self) -> IdentityStatus:
        """At every start: the identity exists, is the one the homeserver knows, and signs this device.

        Never creates a second identity on its own: a lost store needs the recovery key (or, on purpose,
        :meth:`reset_identity`)."""
        server = await self.query_server()
        keys = self._load_keys()
        if keys is not None and server.master_key is None:
            log.info("finishing the cross-signing setup: uploading the stored identity")
            await self._upload_keys(keys)
        elif keys is not None and keys.master.public_key != server.master_key:
            pending = self._load_keys(PENDING_KEY_FILE)
            if pending is not None and pending.master.public_key == server.master_key:
                keys = pending  # a reset was interrupted after its upload
                self._save_keys(keys)
            elif self.recovery_key:
                keys = await self._restore(server)
            else:
                raise CrossSigningError(
                    "The bot's cross-signing identity on the homeserver is not the one in "
                    f"{self.store_path / KEY_FILE} (it was replaced elsewhere). Set [matrix] recovery_key "
                    "(COMMUNITY_BOT_MATRIX__RECOVERY_KEY) to take the homeserver's identity, or run "
                    "`community-bot crypto reset-identity` to replace it with a new one."
                )
        elif keys is None and server.master_key is None:
            keys = CrossSigningKeys.generate()
            self._save_keys(keys)  # before the upload: a crash in between is finished at the next start
            await self._upload_keys(keys)
            log.info("created the bot's cross-signing identity %s", keys.master.public_key)
        elif keys is None:
            if not self.recovery_key:
                raise CrossSigningError(
                    "This bot account already has a cross-signing identity, but its private keys are not in "
                    f"{self.store_path} (a new or lost store). Set [matrix] recovery_key "
                    "(COMMUNITY_BOT_MATRIX__RECOVERY_KEY) to the recovery key shown at the first start, so "
                    "the bot keeps its identity and members see no warning. If the recovery key is lost, "
                    "`community-bot crypto reset-identity` creates a new identity (members' clients will "
                    "show that the bot's identity changed)."
                )
            keys = await self._restore(server)
        assert keys is not None
        if not await self._secret_storage_holds():
            await self._set_up_secret_storage(keys)
        if not server.device_signed(self.user_id) or server.self_signing_key != keys.self_signing.public_key:
            await self._sign_device(keys, server.device_keys)
        # Everything is in place now: no second round of requests to say so.
        return IdentityStatus(
            user_id=self.user_id,
            device_id=self.device_id,
            master_key=keys.master.public_key,
            local_keys=True,
            device_signed=True,
            secret_storage=True,
        )

    async def reset_identity(self) -> str:
        """A new identity on purpose (lost recovery key, compromised keys); returns the new recovery key."""
        keys = CrossSigningKeys.generate()
        self._save_keys(keys, PENDING_KEY_FILE)
        await self._upload_keys(keys)
        self._save_keys(keys)
        (self.store_path / PENDING_KEY_FILE).unlink(missing_ok=True)
        storage_key = await self._set_up_secret_storage(keys, announce=False)
        await self._sign_device(keys, (await self.query_server()).device_keys)
        log.warning("replaced the bot's cross-signing identity with %s", keys.master.public_key)
        return storage_key.recovery_key

    async def status(self) -> IdentityStatus:
        server = await self.query_server()
        keys = self._load_keys()
        storage = await self._secret_storage_holds()
        return IdentityStatus(
            user_id=self.user_id,
            device_id=self.device_id,
            master_key=server.master_key,
            local_keys=keys is not None and keys.master.public_key == server.master_key,
            device_signed=server.device_signed(self.user_id),
            secret_storage=storage,
        )

    # --- homeserver ----------------------------------------------------------------------------------------

    async def _request(self, method: str, path: str, body: JsonDict | None = None) -> tuple[int, JsonDict]:
        """One API call; a homeserver that is down, overloaded or rate-limiting is waited for (the bot's
        start waits with it, and a stop request cancels the wait)."""
        headers = {"Authorization": f"Bearer {self.client.access_token}"}
        data = json.dumps(body) if body is not None else None
        backoff = 1.0
        while True:
            try:
                response = await self.client.send(method, path, data, headers=headers)
                try:
                    payload = await response.json(content_type=None)
                except (ValueError, TypeError, aiohttp.ContentTypeError):
                    payload = {}
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.warning("homeserver not reachable (%s); retrying in %.0f s", exc, backoff)
            else:
                if response.status != 429 and response.status < 500:
                    return response.status, payload if isinstance(payload, dict) else {}
                log.warning("homeserver answered %s; retrying in %.0f s", response.status, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)

    async def query_server(self) -> ServerIdentity:
        status, body = await self._request(
            "POST", "/_matrix/client/v3/keys/query", {"device_keys": {self.user_id: [self.device_id]}}
        )
        if status != 200:
            raise CrossSigningError(f"querying the bot's own keys failed: {status} {body.get('error', '')}")
        master = single_ed25519_key(body.get("master_keys", {}).get(self.user_id), self.user_id, "master")
        ssk_object = body.get("self_signing_keys", {}).get(self.user_id)
        ssk = single_ed25519_key(ssk_object, self.user_id, "self_signing")
        if ssk is not None and master is not None and not verify_signature(ssk_object, self.user_id, master):
            ssk = None
        device = body.get("device_keys", {}).get(self.user_id, {}).get(self.device_id)
        return ServerIdentity(master, ssk, device if isinstance(device, dict) else None)

    async def _upload_keys(self, keys: CrossSigningKeys) -> None:
        path = "/_matrix/client/v3/keys/device_signing/upload"
        body = keys.upload_body(self.user_id)
        status, answer = await self._request("POST", path, body)
        if status == 401 and "flows" in answer:
            # User-interactive auth: Synapse skips it for an account's very first keys (MSC3967) and asks
            # for the password when keys exist (reset).
            if self.password is None:
                raise CrossSigningError(
                    "The homeserver asks for the bot account's password to upload cross-signing keys. Set "
                    "[matrix] password (COMMUNITY_BOT_MATRIX__PASSWORD) for this start; the access token "
                    "alone is not enough for this step."
                )
            if not any(flow.get("stages") == ["m.login.password"] for flow in answer.get("flows", [])):
                raise CrossSigningError(
                    f"The homeserver offers no password login for this step (flows: {answer.get('flows')})."
                )
            body["auth"] = {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": self.user_id},
                "password": self.password,
                "session": answer.get("session"),
            }
            status, answer = await self._request("POST", path, body)
        if status != 200:
            raise CrossSigningError(
                f"uploading the cross-signing keys failed: {status} {answer.get('errcode', '')} "
                f"{answer.get('error', '')}"
            )

    async def _sign_device(self, keys: CrossSigningKeys, device_keys: JsonDict | None) -> None:
        if device_keys is None:
            raise CrossSigningError(f"the homeserver has no keys of the bot's device {self.device_id}")
        signed = keys.self_signing.sign_json(device_keys, self.user_id)
        status, answer = await self._request(
            "POST", "/_matrix/client/v3/keys/signatures/upload", {self.user_id: {self.device_id: signed}}
        )
        if status != 200 or answer.get("failures"):
            raise CrossSigningError(f"signing the bot's device failed: {status} {answer}")
        log.info("cross-signed the bot's device %s", self.device_id)

    def _account_data_path(self, event_type: str) -> str:
        return f"/_matrix/client/v3/user/{quote(self.user_id, safe='')}/account_data/{quote(event_type)}"

    async def _get_account_data(self, event_type: str) -> JsonDict | None:
        status, body = await self._request("GET", self._account_data_path(event_type))
        return body if status == 200 else None

    async def _put_account_data(self, event_type: str, content: JsonDict) -> None:
        status, body = await self._request("PUT", self._account_data_path(event_type), content)
        if status != 200:
            raise CrossSigningError(f"storing {event_type} failed: {status} {body.get('error', '')}")

    # --- secret storage ------------------------------------------------------------------------------------

    async def _default_key_id(self) -> str | None:
        default = await self._get_account_data(DEFAULT_KEY_TYPE)
        key_id = (default or {}).get("key")
        return key_id if isinstance(key_id, str) else None

    async def _secret_storage_holds(self) -> bool:
        """Whether the default storage key holds the bot's cross-signing keys (it can only check presence)."""
        key_id = await self._default_key_id()
        if key_id is None:
            return False
        # Asked together: this runs at every start.
        description, *secrets = await asyncio.gather(
            self._get_account_data(KEY_TYPE_PREFIX + key_id),
            *(self._get_account_data(name) for name in SECRET_NAMES.values()),
        )
        return description is not None and all(
            secret and key_id in (secret.get("encrypted") or {}) for secret in secrets
        )

    async def _set_up_secret_storage(self, keys: CrossSigningKeys, *, announce: bool = True) -> StorageKey:
        storage = StorageKey(new_key_id(), new_storage_key())
        await self._put_account_data(
            KEY_TYPE_PREFIX + storage.key_id, key_description(storage.key, name=STORAGE_KEY_NAME)
        )
        for usage, name in SECRET_NAMES.items():
            secret = encrypt_secret(storage.key, name, getattr(keys, usage).to_base64())
            await self._put_account_data(name, {"encrypted": {storage.key_id: secret}})
        await self._put_account_data(DEFAULT_KEY_TYPE, {"key": storage.key_id})
        log.info("secret storage set up with a new recovery key (key id %s)", storage.key_id)
        if announce:
            self.announce_recovery_key(storage.recovery_key)
        return storage

    async def _restore(self, server: ServerIdentity) -> CrossSigningKeys:
        """The identity from secret storage, opened with the configured recovery key."""
        assert self.recovery_key is not None
        try:
            storage_key = decode_recovery_key(self.recovery_key)
        except RecoveryKeyError as exc:
            raise CrossSigningError(f"[matrix] recovery_key is not usable: {exc}") from exc
        key_id = await self._default_key_id()
        description = await self._get_account_data(KEY_TYPE_PREFIX + key_id) if key_id else None
        if key_id is None or description is None:
            raise CrossSigningError(
                "The bot account has no secret storage to recover from; run "
                "`community-bot crypto reset-identity` to create a new identity."
            )
        if not key_matches(storage_key, description):
            raise CrossSigningError("[matrix] recovery_key does not open this account's secret storage.")
        values: dict[str, SigningKey] = {}
        for usage, name in SECRET_NAMES.items():
            secret = await self._get_account_data(name)
            encrypted = ((secret or {}).get("encrypted") or {}).get(key_id)
            if not isinstance(encrypted, dict):
                raise CrossSigningError(f"secret storage holds no {name}")
            try:
                values[usage] = SigningKey.from_base64(decrypt_secret(storage_key, name, encrypted))
            except (RecoveryKeyError, ValueError) as exc:
                raise CrossSigningError(f"could not open {name}: {exc}") from exc
        keys = CrossSigningKeys(**values)
        if keys.master.public_key != server.master_key:
            raise CrossSigningError(
                "The keys in secret storage are not the identity the homeserver publishes; run "
                "`community-bot crypto reset-identity` to start over."
            )
        self._save_keys(keys)
        log.info("recovered the bot's cross-signing identity %s from secret storage", keys.master.public_key)
        return keys

    # --- the key file --------------------------------------------------------------------------------------

    def _load_keys(self, name: str = KEY_FILE) -> CrossSigningKeys | None:
        path = self.store_path / name
        try:
            data: Any = json.loads(path.read_text())
            if data.get("user_id") != self.user_id:
                return None
            return CrossSigningKeys.from_json(data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CrossSigningError(
                f"{path} is unreadable ({exc}); restore it or use the recovery key"
            ) from exc

    def _save_keys(self, keys: CrossSigningKeys, name: str = KEY_FILE) -> None:
        path = self.store_path / name
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(keys.to_json(self.user_id), handle)
        os.chmod(tmp, 0o600)
        tmp.replace(path)
