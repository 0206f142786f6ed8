package httpapi

import (
	"net/http"
	"time"

	"github.com/rs/cors"
)

// withCORS lets the listed browser origins call next with the caller's
// Authorization header. rs/cors is used rather than hand-written headers: the
// preflight rules (Vary, header and method matching) are easy to get subtly
// wrong. Credentials mode stays off: the API reads no cookies, and a token in
// Authorization needs only that the header be allowed.
func withCORS(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Accept"},
		MaxAge:         int((10 * time.Minute).Seconds()),
	}).Handler(next)
}
