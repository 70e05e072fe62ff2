-- The OAuth 2.1 / OpenID Connect provider: registered clients, the consents
-- users gave them, and the OAuth facts of a refresh family.

CREATE TABLE oauth_clients (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  -- SHA-256 (hex) of the client secret (256 random bits, so a fast hash loses
  -- nothing); NULL for public clients (token_endpoint_auth_method = 'none').
  secret_hash TEXT,
  token_endpoint_auth_method TEXT NOT NULL
    CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none')),
  -- JSON arrays of strings.
  redirect_uris TEXT NOT NULL DEFAULT '[]',
  post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
  grant_types TEXT NOT NULL,
  -- The scopes the client may ask for at all.
  scopes TEXT NOT NULL,
  -- The resources (RFC 8707) its tokens may be for; the first is the default audience.
  audiences TEXT NOT NULL,
  -- The resources this client serves (a resource server): it may introspect tokens issued for them.
  served_audiences TEXT NOT NULL DEFAULT '[]',
  id_token_signed_response_alg TEXT NOT NULL DEFAULT 'RS256' CHECK (id_token_signed_response_alg IN ('RS256', 'ES256')),
  logo_uri TEXT,
  client_uri TEXT,
  policy_uri TEXT,
  tos_uri TEXT,
  -- 1: the deployment's own app; its users are not asked for consent.
  first_party INTEGER NOT NULL DEFAULT 0,
  -- The admin who created it, or 'registration' for dynamic client registration.
  created_by TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- What a user allowed a client: one row per user and client, the scopes as a
-- sorted JSON array. A request within these scopes needs no consent page.
CREATE TABLE oauth_consents (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_id TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
  scopes TEXT NOT NULL,
  granted_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, client_id)
);

-- A refresh family issued to an OAuth client: bound to that client, its scope
-- and audience (a JSON array). NULL client_id: a first-party login (/auth/login).
-- Deleting a client deletes its families, and with them its refresh tokens.
ALTER TABLE sessions ADD COLUMN client_id TEXT REFERENCES oauth_clients (id) ON DELETE CASCADE;
ALTER TABLE sessions ADD COLUMN scope TEXT;
ALTER TABLE sessions ADD COLUMN audience TEXT;

INSERT INTO permissions (name, description) VALUES
  ('clients:read', 'List and read OAuth clients'),
  ('clients:write', 'Create, update, delete OAuth clients and rotate their secrets');

INSERT INTO role_permissions (role, permission) VALUES ('admin', 'clients:*');
