package oauth

import (
	"net/http"

	"github.com/rs/cors"
)

// corsOptions is the CORS policy of the protocol endpoints (/oauth/* and
// /.well-known/*). zitadel's default reflects every origin and allows
// credentials, so any web page could call them with this origin's cookies and
// read the answers. Ours allows no origin unless configured (nil: no CORS
// headers at all), and never credentials: a browser-based client
// authenticates with its own secret or token, never with our cookies.
func corsOptions(origins []string) *cors.Options {
	if len(origins) == 0 {
		return nil
	}
	return &cors.Options{
		AllowedOrigins:   origins,
		AllowedMethods:   []string{http.MethodGet, http.MethodHead, http.MethodPost},
		AllowedHeaders:   []string{"Accept", "Accept-Language", "Authorization", "Content-Type"},
		ExposedHeaders:   []string{"Retry-After", "WWW-Authenticate"},
		AllowCredentials: false,
	}
}
