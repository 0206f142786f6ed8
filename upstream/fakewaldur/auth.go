package fakewaldur

import (
	"net/http"
	"strings"
)

// Details of the authentication failures, word for word as Django REST Framework
// and Waldur send them.
const (
	detailNotProvided = "Authentication credentials were not provided."
	detailInvalid     = "Invalid token."
	detailInactive    = "User inactive or deleted."
	detailForbidden   = "You do not have permission to perform this action."
)

// authError is a refused request: its status and the JSON detail to send.
type authError struct {
	status int
	detail string
}

// authenticate finds the user behind the Authorization header.
//
// Like DRF, it splits the header on runs of whitespace, so "Token   abc" is fine and
// a header of only whitespace counts as no header at all; the scheme is compared
// case-insensitively. Unlike DRF (which has separate messages for them), every
// malformed header answers "Invalid token.", which is what a client can rely on.
// Both schemes accept the same keys: Waldur's "Token" API keys and its "Bearer"
// personal/OIDC tokens end up at the same user.
func authenticate(header string, users map[string]User) (User, *authError) {
	fields := strings.Fields(header)
	if len(fields) == 0 {
		return User{}, &authError{http.StatusUnauthorized, detailNotProvided}
	}
	scheme := fields[0]
	if len(fields) != 2 || !(strings.EqualFold(scheme, "Token") || strings.EqualFold(scheme, "Bearer")) {
		return User{}, &authError{http.StatusUnauthorized, detailInvalid}
	}
	u, ok := users[fields[1]]
	switch {
	case !ok:
		return User{}, &authError{http.StatusUnauthorized, detailInvalid}
	case u.Inactive:
		return User{}, &authError{http.StatusUnauthorized, detailInactive}
	case u.Forbidden:
		// Permission is checked after authentication, hence 403 rather than 401.
		return User{}, &authError{http.StatusForbidden, detailForbidden}
	}
	return u, nil
}
