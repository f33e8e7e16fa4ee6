// Package auth owns who someone is and what they may do: accounts with
// argon2id password hashes, server-side sessions, personal access tokens,
// login throttling, and the casbin enforcer (RBAC with domains: the domain is
// a city slug, "*" every city) whose policies live in PostgreSQL.
package auth
