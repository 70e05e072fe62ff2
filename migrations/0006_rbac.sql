-- Roles and permissions (RBAC). The seed rows below are ordinary data: edit them
-- with SQL (wrangler d1 execute) like any other row; no code depends on them
-- beyond the names the routes ask for (users:read, users:write, audit:read).
-- Access tokens issued before this (ms) are void, but sessions live on: a role
-- change kills the tokens carrying the old roles, and the next refresh issues
-- tokens with the new ones. (tokens_not_before ends sessions as well.)
ALTER TABLE users ADD COLUMN access_not_before INTEGER NOT NULL DEFAULT 0;

CREATE TABLE roles (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE permissions (
  -- "<resource>:<action>", e.g. posts:write. "<resource>:*" in role_permissions grants every action on it.
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE role_permissions (
  role TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
  -- A grant: "posts:read", "posts:*", or with an attribute condition,
  -- "posts:write@owner" (only on resources the subject owns). See src/verify/policy.ts.
  permission TEXT NOT NULL,
  PRIMARY KEY (role, permission)
);

CREATE TABLE user_roles (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
  granted_at INTEGER NOT NULL,
  -- The admin who granted it; NULL for the bootstrap command.
  granted_by TEXT,
  PRIMARY KEY (user_id, role)
);

CREATE INDEX user_roles_role ON user_roles (role);

INSERT INTO roles (name, description) VALUES
  ('admin', 'Everything, including other users'),
  ('editor', 'Reads posts; writes and deletes their own'),
  ('viewer', 'Reads posts');

INSERT INTO permissions (name, description) VALUES
  ('users:read', 'List and read users'),
  ('users:write', 'Disable, enable users; assign and remove roles; revoke sessions'),
  ('audit:read', 'Read the audit log'),
  ('posts:read', 'Read posts'),
  ('posts:write', 'Create and edit posts'),
  ('posts:delete', 'Delete posts');

INSERT INTO role_permissions (role, permission) VALUES
  ('admin', 'users:*'),
  ('admin', 'audit:*'),
  ('admin', 'posts:*'),
  ('editor', 'posts:read'),
  ('editor', 'posts:write@owner'),
  ('editor', 'posts:delete@owner'),
  ('viewer', 'posts:read');
