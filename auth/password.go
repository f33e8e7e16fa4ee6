package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters as OWASP recommends (m=19 MiB, t=2, p=1).
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// Password limits: long passphrases welcome, unbounded input is not.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 256
)

// Hasher hashes and verifies passwords with argon2id. Every hash takes 19 MiB
// of memory, so a semaphore bounds how many run at once: a burst of logins
// queues instead of exhausting memory.
type Hasher struct {
	slots    chan struct{}
	verified atomic.Int64
}

// Verifications counts the passwords checked so far: what a burst of
// guesses really got tried (tests and metrics).
func (h *Hasher) Verifications() int64 { return h.verified.Load() }

// NewHasher allows concurrent hashes at once (at least 1).
func NewHasher(concurrent int) *Hasher {
	return &Hasher{slots: make(chan struct{}, max(concurrent, 1))}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC string of password with a fresh salt.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	h.release()
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify reports whether password matches the PHC string encoded.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("unsupported password hash")
	}
	var version int
	var mem uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &p); err != nil || mem > 256*1024 || t > 10 || p == 0 {
		return false, errors.New("bad argon2 parameters")
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err := errors.Join(err1, err2); err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, t, mem, p, uint32(len(want)))
	h.release()
	h.verified.Add(1)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// checkPassword enforces the length limits.
func checkPassword(pw string) error {
	switch n := len([]rune(pw)); {
	case n < MinPasswordLen:
		return invalid("password", "password.short", fmt.Sprintf("the password needs at least %d characters", MinPasswordLen))
	case len(pw) > MaxPasswordLen:
		return invalid("password", "password.long", fmt.Sprintf("the password may have at most %d bytes", MaxPasswordLen))
	}
	return nil
}
