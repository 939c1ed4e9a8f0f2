"""Cross-signing signatures, device trust and secret storage, without a homeserver."""

from __future__ import annotations

import copy

import pytest

from bot.crypto.identity import CrossSigningKeys
from bot.crypto.keys import SigningKey, decode_base64, encode_base64, verify_signature
from bot.crypto.secret_storage import (
    RecoveryKeyError,
    decode_recovery_key,
    decrypt_secret,
    encode_recovery_key,
    encrypt_secret,
    key_description,
    key_matches,
    new_storage_key,
)
from bot.crypto.trust import cross_signed_devices, self_signing_public_key

USER = "@anna:example.org"


def device(device_id: str, user_id: str = USER) -> dict[str, object]:
    device_key = SigningKey.generate()
    return {
        "user_id": user_id,
        "device_id": device_id,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
        "keys": {f"curve25519:{device_id}": "c" * 43, f"ed25519:{device_id}": device_key.public_key},
        "unsigned": {"device_display_name": "Element Web"},
    }


def identity() -> tuple[CrossSigningKeys, dict[str, object], dict[str, object]]:
    keys = CrossSigningKeys.generate()
    body = keys.upload_body(USER)
    return keys, body["master_key"], body["self_signing_key"]


def test_signature_survives_unsigned_and_other_signatures() -> None:
    key = SigningKey.generate()
    obj = device("DEV")
    signed = key.sign_json(obj, USER)
    assert "unsigned" not in signed
    assert verify_signature(signed, USER, key.public_key)
    signed["unsigned"] = {"anything": 1}
    signed["signatures"][USER]["ed25519:other"] = "x"
    assert verify_signature(signed, USER, key.public_key)


def test_tampered_or_foreign_signatures_do_not_verify() -> None:
    key, other = SigningKey.generate(), SigningKey.generate()
    signed = key.sign_json(device("DEV"), USER)
    tampered = copy.deepcopy(signed)
    tampered["device_id"] = "EVIL"
    assert not verify_signature(tampered, USER, key.public_key)
    assert not verify_signature(signed, USER, other.public_key)
    assert not verify_signature(signed, "@mallory:example.org", key.public_key)
    garbage = copy.deepcopy(signed)
    garbage["signatures"][USER][key.key_id] = "not base64!"
    assert not verify_signature(garbage, USER, key.public_key)


def test_base64_round_trip_accepts_padding_and_url_safe() -> None:
    data = bytes(range(32))
    text = encode_base64(data)
    assert "=" not in text
    assert decode_base64(text) == decode_base64(text + "=") == data
    assert decode_base64(text.replace("+", "-").replace("/", "_")) == data


def test_devices_signed_by_the_self_signing_key_are_secure() -> None:
    keys, master, ssk = identity()
    signed = keys.self_signing.sign_json(device("GOOD"), USER)
    unsigned = device("BAD")
    by_master_only = keys.master.sign_json(device("MASTERONLY"), USER)
    devices = {"GOOD": signed, "BAD": unsigned, "MASTERONLY": by_master_only}
    assert cross_signed_devices(USER, master, ssk, devices) == {"GOOD"}


def test_no_identity_or_a_broken_chain_means_no_secure_device() -> None:
    keys, master, ssk = identity()
    devices = {"GOOD": keys.self_signing.sign_json(device("GOOD"), USER)}
    assert cross_signed_devices(USER, None, None, devices) == set()
    # A self-signing key that the master key did not sign (e.g. injected by the homeserver).
    forged_ssk = SigningKey.generate()
    forged = forged_ssk.cross_signing_key(USER, "self_signing")
    forged_devices = {"GOOD": forged_ssk.sign_json(device("GOOD"), USER)}
    assert self_signing_public_key(USER, master, forged) is None
    assert cross_signed_devices(USER, master, forged, forged_devices) == set()
    # Keys of another user, or a device object claiming another id.
    assert cross_signed_devices("@bert:example.org", master, ssk, devices) == set()
    mismatched = {"OTHER": devices["GOOD"]}
    assert cross_signed_devices(USER, master, ssk, mismatched) == set()


def test_cross_signing_keys_round_trip() -> None:
    keys = CrossSigningKeys.generate()
    assert CrossSigningKeys.from_json(keys.to_json(USER)) == keys


def test_recovery_key_round_trip_and_format() -> None:
    key = new_storage_key()
    text = encode_recovery_key(key)
    assert text.startswith("Es")
    groups = text.split(" ")
    assert all(len(group) == 4 for group in groups[:-1])
    assert decode_recovery_key(text) == key
    assert decode_recovery_key(text.replace(" ", "")) == key
    assert decode_recovery_key(f"  {text}\n") == key


@pytest.mark.parametrize(
    "broken",
    [
        lambda text: text[:-1] + ("a" if text[-1] != "a" else "b"),  # typo in the last group
        lambda text: text[:8],  # cut short
        lambda text: text.replace(text[5], "0"),  # 0 is not in base58's alphabet
        lambda text: "",
    ],
)
def test_recovery_key_typos_are_refused(broken) -> None:  # type: ignore[no-untyped-def]
    text = encode_recovery_key(new_storage_key())
    with pytest.raises(RecoveryKeyError):
        decode_recovery_key(broken(text))


def test_secret_storage_encrypts_per_secret_name() -> None:
    key = new_storage_key()
    secret = encrypt_secret(key, "m.cross_signing.master", "seed")
    assert decrypt_secret(key, "m.cross_signing.master", secret) == "seed"
    assert "seed" not in str(secret)
    with pytest.raises(RecoveryKeyError):
        decrypt_secret(key, "m.cross_signing.self_signing", secret)
    with pytest.raises(RecoveryKeyError):
        decrypt_secret(new_storage_key(), "m.cross_signing.master", secret)
    iv = bytearray(decode_base64(secret["iv"]))
    assert iv[8] & 0x80 == 0, "bit 63 of the IV is cleared as the spec asks"


def test_key_description_checks_the_key() -> None:
    key = new_storage_key()
    description = key_description(key, name="bot")
    assert description["algorithm"] == "m.secret_storage.v1.aes-hmac-sha2"
    assert key_matches(key, description)
    assert not key_matches(new_storage_key(), description)
    assert not key_matches(key, {**description, "algorithm": "m.secret_storage.v2"})
