/**
 * @module authn/captcha
 * Cloudflare Turnstile server-side verification (siteverify). A token is
 * single-use and short-lived on Turnstile's side; we only ask whether it is valid.
 */
import { Unavailable } from "../app/errors/codes";

export const TURNSTILE_SITEVERIFY_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify";

export interface CaptchaVerifier {
  verify(token: string, ip: string | null): Promise<boolean>;
}

export class TurnstileVerifier implements CaptchaVerifier {
  readonly #secret: string;

  constructor(secret: string) {
    this.#secret = secret;
  }

  async verify(token: string, ip: string | null): Promise<boolean> {
    const form = new FormData();
    form.append("secret", this.#secret);
    form.append("response", token);
    if (ip) form.append("remoteip", ip);
    let response: Response;
    try {
      // A hung siteverify must not hold logins open: give up after 5 s (503).
      response = await fetch(TURNSTILE_SITEVERIFY_URL, {
        method: "POST",
        body: form,
        signal: AbortSignal.timeout(5000),
      });
    } catch (error) {
      // Cannot check the CAPTCHA: fail closed, as with the rate limiter.
      throw new Unavailable("CAPTCHA verification is unavailable; try again shortly", error);
    }
    if (!response.ok) {
      throw new Unavailable("CAPTCHA verification is unavailable; try again shortly");
    }
    const result = (await response.json()) as { success?: unknown };
    return result.success === true;
  }
}
