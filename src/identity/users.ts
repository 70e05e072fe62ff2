/**
 * @module services/users
 * The public view of a user: what API responses may show. Never the hash.
 */
import type { UserRecord } from "./user-store";

export interface PublicUser {
  id: string;
  email: string;
  email_verified: boolean;
  created_at: string;
}

export function publicUser(user: UserRecord): PublicUser {
  return {
    id: user.id,
    email: user.email,
    email_verified: user.email_verified_at !== null,
    created_at: new Date(user.created_at).toISOString(),
  };
}
