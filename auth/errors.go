package auth

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrBadCredentials answers a wrong password, an unknown user and a
	// disabled account alike, so a login reveals nothing about accounts.
	ErrBadCredentials  = errors.New("unknown user name or wrong password")
	ErrNotFound        = errors.New("not found")
	ErrInvalid         = errors.New("invalid")
	ErrConflict        = errors.New("conflict")
	ErrUnauthenticated = errors.New("not authenticated")
)

// ThrottledError says that too many logins failed recently.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	if e.RetryAfter < time.Minute {
		return fmt.Sprintf("too many failed logins; try again in %d seconds", e.Seconds())
	}
	return fmt.Sprintf("too many failed logins; try again in %d minutes", e.Minutes())
}

// Seconds is the wait in whole seconds, rounded up (for Retry-After).
func (e *ThrottledError) Seconds() int { return int((e.RetryAfter + time.Second - 1) / time.Second) }

// Minutes is the wait in whole minutes, rounded up.
func (e *ThrottledError) Minutes() int { return int((e.RetryAfter + time.Minute - 1) / time.Minute) }

// InvalidError says which input is wrong; Key names a translatable message.
type InvalidError struct {
	Field, Key, Message string
}

func (e *InvalidError) Error() string        { return e.Field + ": " + e.Message }
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, key, msg string) error {
	return &InvalidError{Field: field, Key: key, Message: msg}
}
