"""Sharing room keys like Element: only with devices cross-signed by their owner ("exclude insecure devices").

matrix-nio decides per device whether it gets a room key (blacklisted devices do not) and marks decrypted
events ``verified`` when they come from a device it trusts. The bot sets those trust states from the
cross-signing keys that /keys/query returns (nio drops them, so the query is re-done with a response class
that keeps them): cross-signed devices are marked verified; the others are blacklisted when
``exclude_insecure_devices`` is on, and left unset (nio shares with them) when it is off."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from nio import AsyncClient, KeysQueryError, KeysQueryResponse, LocalProtocolError
from nio.api import Api
from nio.crypto import OlmDevice
from nio.responses import ShareGroupSessionError, ShareGroupSessionResponse

from bot.crypto.trust import cross_signed_devices

log = logging.getLogger(__name__)


@dataclass
class CrossSigningKeysQueryResponse(KeysQueryResponse):  # type: ignore[misc]
    """nio's /keys/query response plus the cross-signing keys it would drop."""

    master_keys: dict[str, Any] = field(default_factory=dict)
    self_signing_keys: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, parsed_dict: dict[Any, Any]) -> Any:
        base = KeysQueryResponse.from_dict(parsed_dict)
        if not isinstance(base, KeysQueryResponse):
            return base
        return cls(
            base.device_keys,
            base.failures,
            master_keys=dict(parsed_dict.get("master_keys") or {}),
            self_signing_keys=dict(parsed_dict.get("self_signing_keys") or {}),
        )


class DeviceTrust:
    """The cross-signing state of the devices the bot shares rooms with, applied to nio's trust states."""

    def __init__(self, client: BotClient, *, exclude_insecure: bool) -> None:
        self.client = client
        self.exclude_insecure = exclude_insecure
        self._evaluated: set[str] = set()
        self._reported: set[tuple[str, str]] = set()
        # Per outbound Megolm session: the devices already told that its key is withheld from them.
        self.withheld_told: dict[str, set[tuple[str, str]]] = {}
        self._query_lock = asyncio.Lock()

    def on_store_loaded(self) -> None:
        """Trust states persist in nio's store; a run with the policy off must not keep old blacklists."""
        if self.exclude_insecure or self.client.olm is None:
            return
        for devices in self.client.device_store.values():
            for device in devices.values():
                if device.blacklisted:
                    self.client.unblacklist_device(device)

    def apply(self, response: CrossSigningKeysQueryResponse, queried: set[str]) -> None:
        for user_id, devices in response.device_keys.items():
            secure = cross_signed_devices(
                user_id,
                response.master_keys.get(user_id),
                response.self_signing_keys.get(user_id),
                devices if isinstance(devices, dict) else {},
            )
            self._evaluated.add(user_id)
            for device in self.client.device_store.active_user_devices(user_id):
                if device.id != self.client.device_id:
                    self._set_state(device, device.id in secure)
        # Users the homeserver could not answer for (remote server down) keep the states they had; they are
        # not asked again for every message.
        self._evaluated.update(queried)

    def _set_state(self, device: OlmDevice, secure: bool) -> None:
        # nio's client methods also end the room keys shared so far with this user, so that a device that
        # became secure gets the next key and one that became insecure does not.
        if secure:
            if not device.verified:
                self.client.verify_device(device)
        elif self.exclude_insecure:
            if not device.blacklisted:
                self.client.blacklist_device(device)
        else:
            if device.verified:
                self.client.unverify_device(device)
            if device.blacklisted:
                self.client.unblacklist_device(device)

    def knows(self, user_id: str) -> bool:
        return user_id in self._evaluated

    async def evaluate(self, user_ids: list[str]) -> None:
        """Query the keys of users not yet judged in this run (device lists may have changed offline)."""
        missing = [user for user in user_ids if user not in self._evaluated]
        if not missing or self.client.olm is None:
            return
        async with self._query_lock:
            self.client.olm.users_for_key_query.update(u for u in missing if u not in self._evaluated)
            try:
                await self.client.keys_query()
            except LocalProtocolError:
                pass  # nothing left to query: another task did it meanwhile

    def device_of(self, user_id: str, sender_key: str | None) -> OlmDevice | None:
        for device in self.client.device_store.active_user_devices(user_id):
            if device.curve25519 == sender_key:
                return device
        return None

    async def accepts(self, event: Any) -> bool:
        """Whether the bot acts on ``event``: plain events always, encrypted ones from secure devices only
        (with the policy on). Ignored events are logged once per device, without their content."""
        if (
            not self.exclude_insecure
            or not getattr(event, "decrypted", False)
            or getattr(event, "verified", False)
        ):
            return True
        sender, sender_key = event.sender, getattr(event, "sender_key", None)
        device = self.device_of(sender, sender_key)
        if device is None or not self.knows(sender):
            self._evaluated.discard(sender)
            await self.evaluate([sender])
            device = self.device_of(sender, sender_key)
        if device is not None and device.verified:
            return True
        device_id = device.id if device is not None else f"unknown ({sender_key})"
        if (sender, device_id) not in self._reported:
            self._reported.add((sender, device_id))
            log.info(
                "ignoring messages from %s's device %s: it is not cross-signed by its owner "
                "(exclude_insecure_devices)",
                sender,
                device_id,
            )
        return False


class BotClient(AsyncClient):  # type: ignore[misc]
    """nio's client with Element's key-sharing rule: room keys only for devices the policy allows."""

    device_trust: DeviceTrust

    async def keys_query(self) -> KeysQueryResponse | KeysQueryError:  # type: ignore[override]
        if not self.logged_in or self.olm is None:
            raise LocalProtocolError("not logged in or no encryption store loaded")
        user_list = self.users_for_key_query
        if not user_list:
            raise LocalProtocolError("No key query required.")
        queried = set(user_list)
        method, path, data = Api.keys_query(self.access_token, user_list)
        response = await self._send(CrossSigningKeysQueryResponse, method, path, data)
        if isinstance(response, CrossSigningKeysQueryResponse):
            self.device_trust.apply(response, queried)
        return response  # type: ignore[no-any-return]

    async def share_group_session(
        self, room_id: str, ignore_unverified_devices: bool = False
    ) -> ShareGroupSessionResponse | ShareGroupSessionError:
        room = self.rooms.get(room_id)
        if room is not None:
            # Judge every member's devices before the first key of this run leaves the bot.
            await self.device_trust.evaluate(list(room.users))
        response = await super().share_group_session(
            room_id, ignore_unverified_devices=ignore_unverified_devices
        )
        if self.device_trust.exclude_insecure:
            await self._tell_withheld(room_id)
        return response

    async def _tell_withheld(self, room_id: str) -> None:
        """Tell excluded devices that the key was withheld on purpose (``m.room_key.withheld``, code
        ``m.unverified``), as Element does: their client shows why it cannot read the bot's message instead of
        waiting for a key."""
        session = self.olm.outbound_group_sessions.get(room_id) if self.olm else None
        if session is None:
            return
        told = self.device_trust.withheld_told.setdefault(session.id, set())
        messages: dict[str, dict[str, Any]] = {}
        for user_id, device_id in session.users_ignored - told:
            device = self.device_store[user_id].get(device_id) if user_id in self.device_store.users else None
            if device is None or not device.blacklisted:
                continue
            told.add((user_id, device_id))
            messages.setdefault(user_id, {})[device_id] = {
                "algorithm": "m.megolm.v1.aes-sha2",
                "room_id": room_id,
                "session_id": session.id,
                "sender_key": self.olm.account.identity_keys["curve25519"],
                "from_device": self.device_id,
                "code": "m.unverified",
                "reason": "The sender shares keys only with devices verified by their owner.",
            }
        if not messages:
            return
        method, path, data = Api.to_device(
            self.access_token, "m.room_key.withheld", {"messages": messages}, uuid4()
        )
        try:
            await self.send(method, path, data)
        except Exception as exc:  # informational only; the key stays withheld either way
            log.info("could not send m.room_key.withheld: %s", exc)
