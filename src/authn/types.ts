/**
 * @module authn/types
 * What every way of proving who you are has in common. A login method checks
 * one credential and, on success, returns an AuthenticationResult: the user,
 * how they proved it (`amr`, RFC 8176 values such as "pwd") and when
 * (`authTime`). Sessions and tokens record both, so checks such as step-up
 * or `max_age` can ask how fresh and how strong a login was.
 */
import type { RequestContext } from "../app/request-context";
import type { UserRecord } from "../identity/user-store";
import type { Settled } from "../lib/settled";

export interface AuthenticationResult {
  user: UserRecord;
  /** RFC 8176 authentication method references, e.g. ["pwd"] or ["pwd", "otp", "mfa"]. */
  amr: string[];
  /** Epoch ms of the authentication. */
  authTime: number;
}

export type MethodOutcome =
  | { ok: true; result: AuthenticationResult }
  /** `reason` is for the audit log only; the client always gets the generic answer. */
  | { ok: false; reason: string; userId: string | null };

export interface LoginMethod<Input, Prepared> {
  /**
   * Starts the reads the check needs (no effect, so safe to start before the
   * attempt is reserved); it must not reject (see lib/settled).
   */
  prepare(input: Input): Promise<Settled<Prepared>>;
  /** Checks the credential. The same work for every kind of failure, so timing tells nothing. */
  authenticate(input: Input, prepared: Promise<Settled<Prepared>>, ctx: RequestContext): Promise<MethodOutcome>;
}

/** Decides, after a first factor, whether the login needs another one (MFA). */
export type SecondFactorPolicy = (result: AuthenticationResult) => Promise<SecondFactorRequired | null>;

/** The login is not done: the user must also pass one of `methods`. */
export interface SecondFactorRequired {
  kind: "second_factor_required";
  /** The first factor's result, for the step that completes the login. */
  firstFactor: AuthenticationResult;
  methods: string[];
}
