-- The `member` role: what every user holds (DEFAULT_ROLES, default "member",
-- gives it to each new account in the transaction that creates it). It grants
-- nothing until a deployment says so: an application defines its own scopes
-- as member's permissions, and then any user can hold them and mint API keys
-- carrying them, e.g.
--   INSERT INTO role_permissions (role, permission) VALUES ('member', 'orders:read');
-- (docs/authorization.md, "Scopes every user holds").
INSERT INTO roles (name, description) VALUES ('member', 'Every user: the scopes an application lets anyone hold')
  ON CONFLICT DO NOTHING;

-- Backfill: every existing user gets `member` too. With the default
-- DEFAULT_ROLES every account created from now on has it, so without this the
-- users who signed up before this migration would be the only ones lacking it,
-- and a permission granted to member would reach everyone but them. The role
-- grants nothing yet, so nobody can do more than before; tokens issued before
-- simply do not list it (no not-before marker needs raising). The time is now
-- in epoch ms, like granted_at everywhere; granted_by NULL, like the bootstrap.
-- (WHERE true: SQLite needs a WHERE before ON CONFLICT in an INSERT ... SELECT.)
-- To undo (a deployment that does not want it set DEFAULT_ROLES="" first, or
-- signups keep giving it): drop the role, which takes it from every user
-- (ON DELETE CASCADE),
--   DELETE FROM roles WHERE name = 'member';
-- and, if member granted permissions by then, void the access tokens that
-- carry them (their sessions live on and refresh without it):
--   UPDATE users SET access_not_before = <now, epoch ms>;
INSERT INTO user_roles (user_id, role, granted_at, granted_by)
  SELECT id, 'member', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), NULL FROM users WHERE true
  ON CONFLICT DO NOTHING;
