package auth

import "context"

// Roles a user can hold in a city domain.
const (
	RoleAuthor   = "author"
	RoleReviewer = "reviewer"
	RoleAdmin    = "admin"
)

// Roles lists the roles in the order the UI shows them.
var Roles = []string{RoleAuthor, RoleReviewer, RoleAdmin}

// AllCities is the domain that stands for every city.
const AllCities = "*"

// Grant is one role of a user in a city ("*": every city).
type Grant struct {
	City string `json:"city"`
	Role string `json:"role"`
}

// Identity is an authenticated user as a request sees it.
type Identity struct {
	UserID      int64
	Username    string
	DisplayName string
	Email       string
	Grants      []Grant
	// CredentialsVersion counts the account's password changes; sessions
	// and login tokens of another version have ended.
	CredentialsVersion int64
}

// Name is what the UI calls the user.
func (id *Identity) Name() string {
	if id.DisplayName != "" {
		return id.DisplayName
	}
	return id.Username
}

type identityKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the request's identity, or nil for anonymous visitors.
func FromContext(ctx context.Context) *Identity {
	id, _ := ctx.Value(identityKey{}).(*Identity)
	return id
}
