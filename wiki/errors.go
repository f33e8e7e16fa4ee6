package wiki

import (
	"errors"
	"fmt"
)

// Domain errors; views map them to HTTP statuses in one table.
var (
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("conflict")
	ErrForbidden = errors.New("forbidden")
	ErrInvalid   = errors.New("invalid")
	ErrTooLarge  = errors.New("too large")
)

// InvalidError says which field is wrong. Key names a translatable message
// ("title.length"); Message is the English text with the details filled in.
type InvalidError struct {
	Field   string
	Key     string
	Message string
	// Args fill the translated message's placeholders.
	Args []any
	// TooLarge marks size limits, answered as 413 rather than 422.
	TooLarge bool
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Message }

// Is lets errors.Is(err, ErrInvalid) and, for size limits, ErrTooLarge match.
func (e *InvalidError) Is(target error) bool {
	return target == ErrInvalid || (e.TooLarge && target == ErrTooLarge)
}

func invalid(field, key, format string, args ...any) *InvalidError {
	return &InvalidError{Field: field, Key: key, Message: fmt.Sprintf(format, args...), Args: args}
}
