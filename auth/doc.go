// Package auth owns who someone is and what they may do: accounts with
// argon2id password hashes and the one spelling of user names, server-side
// sessions and bearer tokens that end with the credentials they were issued
// under, sign-in throttling counted before any password is checked (with
// known browsers exempt from failures caused elsewhere), and the casbin
// enforcer (RBAC with domains: the domain is a city slug, "*" every city)
// whose policies live in PostgreSQL.
package auth
