"""Login and device reuse: stored credentials, a new login when the token is refused, E2EE set-up."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from nio import LoginResponse, WhoamiResponse

from bot.crypto import CrossSigning
from bot.matrix.base import MatrixCore, MatrixError, announce_recovery_key

# One logger for the whole Matrix wire, named as before the split.
log = logging.getLogger(__package__)


class Login(MatrixCore):
    """Logging in (or reusing the stored device), again when the token is refused; E2EE set-up."""

    # --- login ---------------------------------------------------------------------------------------------
    @property
    def credentials_file(self) -> Path:
        return self.store_path / "credentials.json"

    async def login(self) -> None:
        cfg = self.app.settings.matrix
        saved = self._load_credentials()
        if saved and saved.get("user_id") == cfg.user_id and saved.get("homeserver") == cfg.homeserver:
            self.client.restore_login(saved["user_id"], saved["device_id"], saved["access_token"])
            log.info("restored login for %s (device %s)", cfg.user_id, saved["device_id"])
            self.device_trust.on_store_loaded()
            return
        if cfg.access_token is not None:
            self.client.access_token = cfg.access_token.get_secret_value()
            whoami = await self.client.whoami()
            if not isinstance(whoami, WhoamiResponse) or not whoami.device_id:
                raise MatrixError(f"the access token was not accepted: {whoami}")
            self.client.restore_login(whoami.user_id, whoami.device_id, self.client.access_token)
        else:
            assert cfg.password is not None
            response = await self.client.login(cfg.password.get_secret_value(), device_name=cfg.device_name)
            if not isinstance(response, LoginResponse):
                raise MatrixError(f"login failed: {getattr(response, 'message', response)}")
            log.info("logged in as %s, new device %s", response.user_id, response.device_id)
        self._save_credentials()
        self.device_trust.on_store_loaded()

    def cross_signing(self) -> CrossSigning:
        cfg = self.app.settings.matrix
        return CrossSigning(
            self.client,
            self.store_path,
            password=cfg.password.get_secret_value() if cfg.password else None,
            recovery_key=cfg.recovery_key.get_secret_value() if cfg.recovery_key else None,
            announce_recovery_key=announce_recovery_key,
        )

    async def _renew_login(self, *, soft_logout: bool) -> bool:
        """The homeserver no longer accepts the access token (revoked, expired, device logged out): log in
        again with the password — as the same device, which the homeserver keeps after a soft logout and
        re-creates (without its keys) after a hard one. Without a password the bot stops with a message."""
        cfg = self.app.settings.matrix
        if cfg.password is None:
            self.fatal_error = (
                "The homeserver no longer accepts the bot's access token (M_UNKNOWN_TOKEN). Configure a new "
                "[matrix] access_token and delete credentials.json in store_path, or set [matrix] password "
                "(COMMUNITY_BOT_MATRIX__PASSWORD) so the bot can log in again by itself."
            )
            log.error("%s", self.fatal_error)
            self._stopping = True
            self.app.request_stop()
            return False
        kind = "soft logout" if soft_logout else "access token no longer valid"
        log.warning("%s: logging in again as device %s", kind, self.client.device_id)
        response = await self.client.login(cfg.password.get_secret_value(), device_name=cfg.device_name)
        if not isinstance(response, LoginResponse):
            log.error("logging in again failed: %s", getattr(response, "message", response))
            return False
        self._save_credentials()
        await self.prepare_encryption(check_device_keys=True)
        log.info("logged in again as %s, device %s", response.user_id, response.device_id)
        return True

    async def prepare_encryption(self, *, check_device_keys: bool = False) -> None:
        """Before the first sync: the device's keys are on the homeserver and cross-signed by the bot's
        identity (created at the first start), so Element clients share room keys with it.

        ``check_device_keys``: after a new login the device may have been re-created without its keys."""
        if not self.client.olm:
            return
        if check_device_keys and (await self.cross_signing().query_server()).device_keys is None:
            self.client.olm.account.shared = False  # nio then uploads the device keys again
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        status = await self.cross_signing().ensure()
        log.info("cross-signing identity %s, device %s signed", status.master_key, status.device_id)

    def _load_credentials(self) -> dict[str, str] | None:
        try:
            data = json.loads(self.credentials_file.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _save_credentials(self) -> None:
        data = {
            "homeserver": self.app.settings.matrix.homeserver,
            "user_id": self.client.user_id,
            "device_id": self.client.device_id,
            "access_token": self.client.access_token,
        }
        tmp = self.credentials_file.with_suffix(".tmp")
        # Created with mode 0600, never readable by others, not even between writing and renaming.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(data))
        os.chmod(tmp, 0o600)  # an older file of that name may have had other bits
        tmp.replace(self.credentials_file)
