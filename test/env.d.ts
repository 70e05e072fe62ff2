declare namespace Cloudflare {
  interface Env {
    // Test-only binding defined in vitest.config.ts.
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    JWT_PRIVATE_KEYS: string;
    PASSWORD_PEPPER: string;
    // Service binding to the example API Worker (vitest.config.ts).
    EXAMPLE_API: Fetcher;
    // Test-only JWKS proxy in front of the example's JWKS fetches (vitest.config.ts).
    JWKS_PROXY: Fetcher;
    // The auth Worker's AuthService entrypoint (vitest.config.ts).
    AUTH_SERVICE: Service<import("../src/app/auth-service").AuthService>;
  }
}
