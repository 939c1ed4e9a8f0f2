// A scripted Matrix member built on Element's own SDK (matrix-js-sdk with rust crypto), for the e2e tests.
//
// Protocol: JSON lines. Requests on stdin: {"id": 1, "cmd": "start", ...}. Each request gets exactly one answer
// on stdout with the same id: {"id": 1, "result": {...}} or {"id": 1, "error": "..."}. Unsolicited lines carry
// an "event" key and no id: {"event": "message", ...}, {"event": "withheld", ...}. Everything else (the
// SDK's logging included) goes to stderr, so stdout stays machine-readable.

// The SDK logs through `loglevel`, which binds console methods when its loggers are created, i.e. on import.
// Point console at stderr *before* importing the SDK (hence the dynamic imports below).
for (const name of ["log", "info", "debug", "trace", "warn", "error"]) {
    console[name] = (...args) => process.stderr.write(args.map(formatLogArg).join(" ") + "\n");
}

function formatLogArg(value) {
    if (typeof value === "string") return value;
    if (value instanceof Error) return value.stack ?? String(value);
    try {
        return JSON.stringify(value);
    } catch {
        return String(value);
    }
}

// matrix-js-sdk 43 declares Node >= 22; the only newer built-in it needs on Node 20 is Promise.withResolvers.
if (typeof Promise.withResolvers !== "function") {
    Promise.withResolvers = function withResolvers() {
        let resolve, reject;
        const promise = new this((res, rej) => {
            resolve = res;
            reject = rej;
        });
        return { promise, resolve, reject };
    };
}

const sdk = await import("matrix-js-sdk");
const cryptoApi = await import("matrix-js-sdk/lib/crypto-api/index.js");
const { createClient, ClientEvent, RoomEvent, MatrixEventEvent, SyncState, EventType } = sdk;
const { logger } = await import("matrix-js-sdk/lib/logger.js");
const { OnlySignedDevicesIsolationMode, AllDevicesIsolationMode, EventShieldColour, EventShieldReason } = cryptoApi;

logger.setLevel(process.env.ELEMENT_MEMBER_LOG_LEVEL ?? "info", false);

/** Event types reported to the driver. Failed decryptions show up as m.room.message / m.bad.encrypted. */
const REPORTED_TYPES = new Set([EventType.RoomMessage, EventType.Reaction, EventType.RoomRedaction]);

let client = null;
let ownUserId = null;
let autoJoin = true;
/** event id -> signature of the last report, so a late decryption (or failure) is reported once as an update. */
const reported = new Map();

function emit(line) {
    process.stdout.write(JSON.stringify(line) + "\n");
}

function isolationMode(mode) {
    if (mode === "strict") return new OnlySignedDevicesIsolationMode();
    if (mode === "all") return new AllDevicesIsolationMode(false);
    throw new Error(`unknown isolation mode ${mode} (strict or all)`);
}

function requireClient() {
    if (!client) throw new Error("not started");
    return client;
}

/** fetch for the SDK that also reports the m.room_key.withheld to-device messages this device sends. */
async function observingFetch(input, init) {
    // The SDK passes a URL object; a Request or a string are handled too.
    const url = input instanceof Request ? input.url : String(input);
    if (init?.method === "PUT" && url.includes("/sendToDevice/m.room_key.withheld/") && init.body) {
        try {
            const { messages } = JSON.parse(init.body);
            for (const [userId, devices] of Object.entries(messages ?? {})) {
                for (const [deviceId, content] of Object.entries(devices)) {
                    emit({ event: "withheld", direction: "sent", user_id: userId, device_id: deviceId, content });
                }
            }
        } catch (error) {
            console.warn("could not parse withheld body", error);
        }
    }
    return fetch(input, init);
}

async function start(args) {
    if (client) throw new Error("already started");
    const { homeserver, user_id: userId, password, device_name: deviceName } = args;
    autoJoin = args.auto_join ?? true;

    // Log in as Element does: password login with an initial device display name.
    const loginClient = createClient({ baseUrl: homeserver });
    const login = await loginClient.loginRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: userId },
        password,
        initial_device_display_name: deviceName,
    });
    loginClient.stopClient();
    ownUserId = login.user_id;

    client = createClient({
        baseUrl: homeserver,
        userId: login.user_id,
        deviceId: login.device_id,
        accessToken: login.access_token,
        fetchFn: observingFetch,
    });
    // In-memory crypto store: each test member is a fresh device; nothing is left on disk.
    await client.initRustCrypto({ useIndexedDB: false });
    const crypto = client.getCrypto();
    crypto.setDeviceIsolationMode(isolationMode(args.mode ?? "strict"));
    if (args.cross_sign ?? true) {
        // Creates master/self-signing/user-signing keys and signs this device with the self-signing key, like
        // Element's "set up encryption" on first login. Synapse asks for the password (user-interactive auth)
        // unless the account has no cross-signing keys yet.
        await crypto.bootstrapCrossSigning({
            authUploadDeviceSigningKeys: async (makeRequest) => {
                await makeRequest({
                    type: "m.login.password",
                    identifier: { type: "m.id.user", user: ownUserId },
                    password,
                });
            },
        });
    }

    client.on(RoomEvent.MyMembership, onMyMembership);
    client.on(RoomEvent.Timeline, onTimeline);
    client.on(MatrixEventEvent.Decrypted, (event) => {
        report(event, false).catch((error) => console.warn("report failed", error));
    });
    client.on(ClientEvent.ReceivedToDeviceMessage, onToDevice);

    const prepared = new Promise((resolve, reject) => {
        const onSync = (state, _previous, data) => {
            if (state === SyncState.Prepared || state === SyncState.Syncing) {
                client.off(ClientEvent.Sync, onSync);
                resolve();
            } else if (state === SyncState.Error) {
                console.warn("sync error", data?.error);
            }
        };
        client.on(ClientEvent.Sync, onSync);
        setTimeout(() => reject(new Error("initial sync did not finish in 30 s")), 30_000);
    });
    await client.startClient({ initialSyncLimit: 20 });
    await prepared;
    if (args.cross_sign ?? true) {
        // Our own view of the device's signature arrives with a /keys/query of our own user, which runs with the
        // sync loop; wait for it so that `start` answers with a device that is cross-signed as far as anyone
        // can tell.
        await waitFor(async () => {
            const status = await crypto.getDeviceVerificationStatus(ownUserId, login.device_id);
            return Boolean(status?.signedByOwner);
        }, "own device cross-signed", 15_000);
    }
    return { user_id: ownUserId, device_id: login.device_id, crypto_version: crypto.getVersion() };
}

function onMyMembership(room, membership) {
    // Element asks the person; this member accepts every invite unless told otherwise.
    if (autoJoin && membership === "invite") {
        client.joinRoom(room.roomId).catch((error) => console.warn(`joining ${room.roomId} failed`, error));
    }
}

function onTimeline(event, room, toStartOfTimeline) {
    if (toStartOfTimeline) return; // back-pagination: old history, not news
    report(event, true).catch((error) => console.warn("report failed", error));
}

async function report(event, fromTimeline) {
    const roomId = event.getRoomId();
    if (!roomId || event.getSender() === ownUserId) return;
    // Encrypted events decrypt asynchronously: wait, so the first report already carries the plaintext.
    if (event.shouldAttemptDecryption()) client.decryptEventIfNeeded(event);
    const pending = event.getDecryptionPromise();
    if (pending) await pending;
    if (!REPORTED_TYPES.has(event.getType())) return;
    // A Decrypted event for something never seen in a timeline (e.g. a thread root fetched on demand) is skipped.
    if (!fromTimeline && !reported.has(event.getId())) return;

    let shield = null;
    if (event.isEncrypted() && !event.isDecryptionFailure()) {
        shield = await client.getCrypto().getEncryptionInfoForEvent(event);
    }
    const content = event.getContent();
    const relates = content["m.relates_to"] ?? null;
    const line = {
        event: "message",
        room_id: roomId,
        event_id: event.getId(),
        sender: event.getSender(),
        type: event.getType(),
        msgtype: content.msgtype ?? null,
        body: content.body ?? null,
        formatted_body: content.formatted_body ?? null,
        content,
        relates_to: relates,
        in_reply_to: relates?.["m.in_reply_to"]?.event_id ?? null,
        redacts: event.getType() === EventType.RoomRedaction ? (event.getAssociatedId() ?? null) : null,
        origin_server_ts: event.getTs(),
        encrypted: event.isEncrypted(),
        decryption_failure: event.isDecryptionFailure() ? (event.decryptionFailureReason ?? "UNKNOWN_ERROR") : null,
        shield_colour: shield ? EventShieldColour[shield.shieldColour] : null,
        shield_reason: shield && shield.shieldReason !== null ? EventShieldReason[shield.shieldReason] : null,
    };
    const signature = JSON.stringify([line.type, line.content, line.decryption_failure, line.shield_colour, line.shield_reason]);
    const previous = reported.get(line.event_id);
    if (previous === signature) return;
    reported.set(line.event_id, signature);
    emit({ ...line, update: previous !== undefined });
}

function onToDevice({ message }) {
    if (message.type === "m.room_key.withheld") {
        emit({ event: "withheld", direction: "received", sender: message.sender, content: message.content });
    }
}

async function createRoom(args) {
    const c = requireClient();
    const invite = args.invite ?? [];
    const options = {
        invite,
        initial_state: args.encrypted
            ? [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }]
            : [],
    };
    if (args.direct) {
        // What Element does for a new DM: a trusted private chat flagged is_direct, no name, m.direct account data.
        Object.assign(options, { is_direct: true, preset: "trusted_private_chat" });
    } else {
        Object.assign(options, { name: args.name ?? "Community", preset: "private_chat" });
    }
    const { room_id: roomId } = await c.createRoom(options);
    await waitFor(() => c.getRoom(roomId)?.getMyMembership() === "join", `room ${roomId} in sync`);
    if (args.direct) {
        const direct = { ...(c.getAccountData(EventType.Direct)?.getContent() ?? {}) };
        for (const userId of invite) direct[userId] = [...new Set([...(direct[userId] ?? []), roomId])];
        await c.setAccountData(EventType.Direct, direct);
    }
    return { room_id: roomId };
}

async function waitFor(predicate, what, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await predicate())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
    }
}

function roomSummary(room, direct) {
    const members = (membership) => room.getMembersWithMembership(membership).map((m) => m.userId);
    // A DM as Element sees it: listed in our m.direct account data, or we were invited with is_direct.
    const dmWith = Object.keys(direct).filter((userId) => direct[userId]?.includes(room.roomId));
    const inviter = room.getDMInviter();
    if (inviter && !dmWith.includes(inviter)) dmWith.push(inviter);
    return {
        room_id: room.roomId,
        name: room.name,
        my_membership: room.getMyMembership(),
        joined: members("join"),
        invited: members("invite"),
        encrypted: room.hasEncryptionStateEvent(),
        dm_with: dmWith,
    };
}

function deviceStatus(status) {
    if (!status) return { known: false };
    return {
        known: true,
        signed_by_owner: status.signedByOwner,
        cross_signing_verified: status.crossSigningVerified,
        local_verified: status.localVerified,
        verified: status.isVerified(),
    };
}

const handlers = {
    start,
    async set_auto_join({ enabled }) {
        autoJoin = Boolean(enabled);
        return {};
    },
    async set_mode({ mode }) {
        requireClient().getCrypto().setDeviceIsolationMode(isolationMode(mode));
        return {};
    },
    create_room: createRoom,
    async join({ room_id: roomId }) {
        const c = requireClient();
        await c.joinRoom(roomId);
        await waitFor(() => c.getRoom(roomId)?.getMyMembership() === "join", `joined ${roomId}`);
        return {};
    },
    async invite({ room_id: roomId, user_id: userId }) {
        await requireClient().invite(roomId, userId);
        return {};
    },
    async send({ room_id: roomId, body, extra, msgtype }) {
        const content = { msgtype: msgtype ?? "m.text", body, ...(extra ?? {}) };
        const { event_id: eventId } = await requireClient().sendEvent(roomId, EventType.RoomMessage, content);
        return { event_id: eventId };
    },
    async react({ room_id: roomId, event_id: eventId, key }) {
        const content = { "m.relates_to": { rel_type: "m.annotation", event_id: eventId, key } };
        const response = await requireClient().sendEvent(roomId, EventType.Reaction, content);
        return { event_id: response.event_id };
    },
    async redact({ room_id: roomId, event_id: eventId, reason }) {
        const response = await requireClient().redactEvent(roomId, eventId, undefined, reason ? { reason } : {});
        return { event_id: response.event_id };
    },
    async rooms() {
        const c = requireClient();
        const direct = c.getAccountData(EventType.Direct)?.getContent() ?? {};
        return { rooms: c.getRooms().map((room) => roomSummary(room, direct)), direct };
    },
    async crypto_info() {
        const c = requireClient();
        const crypto = c.getCrypto();
        const own = await crypto.getDeviceVerificationStatus(ownUserId, c.getDeviceId());
        return {
            user_id: ownUserId,
            device_id: c.getDeviceId(),
            cross_signing_ready: await crypto.isCrossSigningReady(),
            device_cross_signed: Boolean(own?.signedByOwner),
            cross_signing_status: await crypto.getCrossSigningStatus(),
            keys: await crypto.getOwnDeviceKeys(),
        };
    },
    async device_trust({ user_id: userId, device_id: deviceId }) {
        const crypto = requireClient().getCrypto();
        // The crypto store only knows the devices of users it tracks, i.e. members of encrypted rooms we share
        // (getUserDeviceInfo without download answers for tracked users only). Say so instead of guessing.
        const tracked = (await crypto.getUserDeviceInfo([userId])).has(userId);
        return { ...deviceStatus(await crypto.getDeviceVerificationStatus(userId, deviceId)), tracked };
    },
    async user_identity({ user_id: userId }) {
        const crypto = requireClient().getCrypto();
        await crypto.getUserDeviceInfo([userId], true);
        const status = await crypto.getUserVerificationStatus(userId);
        const keys = await crypto.getUserCrossSigningKeys(userId);
        return {
            known: keys !== null,
            verified: status.isVerified(),
            cross_signing_verified: status.isCrossSigningVerified(),
            was_cross_signing_verified: status.wasCrossSigningVerified(),
            needs_user_approval: status.needsUserApproval,
            master_key: keys?.master_key ? Object.values(keys.master_key.keys)[0] : null,
        };
    },
    async user_devices({ user_id: userId }) {
        const crypto = requireClient().getCrypto();
        const devices = (await crypto.getUserDeviceInfo([userId], true)).get(userId) ?? new Map();
        return { devices: [...devices.keys()] };
    },
};

let stopping = null;

function stop() {
    // stopClient() ends the sync loop and frees the rust OlmMachine; exit explicitly because the SDK may still
    // hold timers that would keep Node alive.
    stopping ??= (async () => {
        try {
            client?.stopClient();
        } catch (error) {
            console.warn("stopClient failed", error);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
        process.exit(0);
    })();
    return stopping;
}

async function handle(line) {
    let request;
    try {
        request = JSON.parse(line);
    } catch {
        emit({ id: null, error: `not JSON: ${line.slice(0, 200)}` });
        return;
    }
    const { id, cmd, ...args } = request;
    if (cmd === "stop") {
        emit({ id, result: {} });
        await stop();
        return;
    }
    const handler = handlers[cmd];
    try {
        if (!handler) throw new Error(`unknown command ${cmd}`);
        emit({ id, result: await handler(args) });
    } catch (error) {
        console.warn(`${cmd} failed`, error);
        emit({ id, error: error?.message ?? String(error) });
    }
}

// Unhandled rejections inside the SDK are logged, never fatal: the driver must always get its answers.
process.on("unhandledRejection", (error) => console.warn("unhandled rejection", error));

const { createInterface } = await import("node:readline");
const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on("line", (line) => {
    if (line.trim()) handle(line); // concurrent: a slow request does not block the next one
});
input.on("close", () => stop());
