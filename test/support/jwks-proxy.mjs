// Test-only auxiliary Worker standing between the example API Worker and the auth
// Worker's JWKS: it serves the auth Worker's keys plus any key a test publishes
// (POST /_test/keys), so a test can rotate a signing key in while every Worker
// keeps running.
const published = [];

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/_test/keys") {
      published.push(await request.json());
      return new Response(null, { status: 204 });
    }
    const upstream = await env.AUTH.fetch("https://auth.test/.well-known/jwks.json");
    const { keys } = await upstream.json();
    return Response.json({ keys: [...published, ...keys] }, { headers: { "Cache-Control": "public, max-age=300" } });
  },
};
