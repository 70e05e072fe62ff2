// A software WebAuthn authenticator for the passkey tests, written here so a
// bug in the library cannot hide itself: P-256 keys from Web Crypto, "none"
// attestation and assertions built by hand, and the few CBOR shapes they need
// (maps, byte and text strings, integers) from a minimal encoder.

const encoder = new TextEncoder();

export function b64u(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromB64u(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

async function sha256(data: Uint8Array | string): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = typeof data === "string" ? encoder.encode(data) : new Uint8Array(data);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

// --- CBOR (RFC 8949), the subset WebAuthn uses ---

export type Cbor = number | string | Uint8Array | Cbor[] | Map<Cbor, Cbor> | { [key: string]: Cbor };

function head(major: number, length: number): Uint8Array {
  const type = major << 5;
  if (length < 24) return Uint8Array.of(type | length);
  if (length < 0x100) return Uint8Array.of(type | 24, length);
  if (length < 0x10000) return Uint8Array.of(type | 25, length >> 8, length & 0xff);
  return Uint8Array.of(type | 26, length >>> 24, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff);
}

export function cbor(value: Cbor): Uint8Array<ArrayBuffer> {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error("integers only");
    return concat(value >= 0 ? head(0, value) : head(1, -1 - value));
  }
  if (typeof value === "string") {
    const bytes = encoder.encode(value);
    return concat(head(3, bytes.length), bytes);
  }
  if (value instanceof Uint8Array) return concat(head(2, value.length), value);
  if (Array.isArray(value)) return concat(head(4, value.length), ...value.map(cbor));
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return concat(head(5, entries.length), ...entries.flatMap(([key, item]) => [cbor(key), cbor(item)]));
}

// --- ECDSA: Web Crypto signs r || s, WebAuthn wants DER ---

function derInteger(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  let body = bytes.slice(start);
  if ((body[0] ?? 0) & 0x80) body = concat(Uint8Array.of(0), body);
  return concat(Uint8Array.of(0x02, body.length), body);
}

function derSignature(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  const r = derInteger(raw.slice(0, 32));
  const s = derInteger(raw.slice(32));
  return concat(Uint8Array.of(0x30, r.length + s.length), r, s);
}

// --- The authenticator ---

const UP = 0x01;
const UV = 0x04;
const BE = 0x08;
const BS = 0x10;
const AT = 0x40;

export interface Credential {
  id: Uint8Array;
  keys: CryptoKeyPair;
  userHandle: string;
  counter: number;
}

export interface CeremonyOverrides {
  origin?: string;
  rpId?: string;
  /** User verification performed (default true). */
  uv?: boolean;
  /** The clientData type (default the ceremony's). */
  type?: string;
  /** The challenge to sign instead of the options'. */
  challenge?: string;
  /** Sign with this credential instead of the newest. */
  credential?: Credential;
  /** The user handle to report instead of the credential's. */
  userHandle?: string;
  /** Register under this credential id instead of a random one. */
  credentialId?: Uint8Array;
}

export interface AuthenticatorOptions {
  origin?: string;
  /** A synced passkey: backup-eligible and backed up (BE, BS). */
  synced?: boolean;
  /** Whether the signature counter counts (default true); synced passkeys report 0. */
  counting?: boolean;
}

interface CreationOptions {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string };
}

interface RequestOptions {
  challenge: string;
  rpId?: string;
}

export class SoftAuthenticator {
  readonly origin: string;
  readonly synced: boolean;
  readonly counting: boolean;
  readonly credentials: Credential[] = [];
  readonly aaguid = new Uint8Array(16).fill(7);

  constructor(options: AuthenticatorOptions = {}) {
    this.origin = options.origin ?? "https://auth.test";
    this.synced = options.synced ?? false;
    this.counting = options.counting ?? !this.synced;
  }

  get newest(): Credential {
    const credential = this.credentials.at(-1);
    if (!credential) throw new Error("no credential registered");
    return credential;
  }

  #flags(uv: boolean, extra = 0): number {
    return UP | (uv ? UV : 0) | (this.synced ? BE | BS : 0) | extra;
  }

  #clientData(type: string, challenge: string, origin: string): Uint8Array<ArrayBuffer> {
    return new Uint8Array(encoder.encode(JSON.stringify({ type, challenge, origin, crossOrigin: false })));
  }

  /** navigator.credentials.create(), as JSON (RegistrationResponseJSON). */
  async register(options: CreationOptions, overrides: CeremonyOverrides = {}) {
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const jwk = (await crypto.subtle.exportKey("jwk", keys.publicKey)) as JsonWebKey;
    const cose = cbor(
      new Map<Cbor, Cbor>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, fromB64u(jwk.x ?? "")],
        [-3, fromB64u(jwk.y ?? "")],
      ]),
    );
    const id = new Uint8Array(overrides.credentialId ?? crypto.getRandomValues(new Uint8Array(32)));
    const credential: Credential = { id, keys, userHandle: options.user.id, counter: 0 };
    const rpId = overrides.rpId ?? options.rp.id ?? new URL(this.origin).hostname;
    const counter = this.counting ? 1 : 0;
    const authData = concat(
      await sha256(rpId),
      Uint8Array.of(this.#flags(overrides.uv ?? true, AT)),
      Uint8Array.of(0, 0, 0, counter),
      this.aaguid,
      Uint8Array.of(id.length >> 8, id.length & 0xff),
      id,
      cose,
    );
    credential.counter = counter;
    const attestationObject = cbor({ fmt: "none", attStmt: {}, authData });
    const clientDataJSON = this.#clientData(
      overrides.type ?? "webauthn.create",
      overrides.challenge ?? options.challenge,
      overrides.origin ?? this.origin,
    );
    this.credentials.push(credential);
    return {
      id: b64u(id),
      rawId: b64u(id),
      type: "public-key",
      response: {
        clientDataJSON: b64u(clientDataJSON),
        attestationObject: b64u(attestationObject),
        transports: ["internal"],
      },
      authenticatorAttachment: "platform",
      clientExtensionResults: {},
    };
  }

  /** navigator.credentials.get() with a discoverable credential, as JSON (AuthenticationResponseJSON). */
  async assert(options: RequestOptions, overrides: CeremonyOverrides = {}) {
    const credential = overrides.credential ?? this.newest;
    if (this.counting) credential.counter += 1;
    const rpId = overrides.rpId ?? options.rpId ?? new URL(this.origin).hostname;
    const c = credential.counter;
    const authenticatorData = concat(
      await sha256(rpId),
      Uint8Array.of(this.#flags(overrides.uv ?? true)),
      Uint8Array.of((c >>> 24) & 0xff, (c >> 16) & 0xff, (c >> 8) & 0xff, c & 0xff),
    );
    const clientDataJSON = this.#clientData(
      overrides.type ?? "webauthn.get",
      overrides.challenge ?? options.challenge,
      overrides.origin ?? this.origin,
    );
    const signed = concat(authenticatorData, await sha256(clientDataJSON));
    const raw = new Uint8Array(
      await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, credential.keys.privateKey, signed),
    );
    return {
      id: b64u(credential.id),
      rawId: b64u(credential.id),
      type: "public-key",
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authenticatorData),
        signature: b64u(derSignature(raw)),
        userHandle: overrides.userHandle ?? credential.userHandle,
      },
      authenticatorAttachment: "platform",
      clientExtensionResults: {},
    };
  }
}
