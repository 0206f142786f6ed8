package upstream

import (
	"errors"
	"net/url"
	"strings"
)

// apiRoot is the part of Path that Waldur's own documentation and clients
// include in the API's base URL ("https://waldur.example.com/api/").
const apiRoot = "/api"

// CheckBaseURL reports whether baseURL is a Waldur base URL New accepts, so
// that a bad WALDUR_API_URL is refused with the other settings, before
// anything starts. The error never repeats the URL: it may hold credentials.
func CheckBaseURL(baseURL string) error {
	_, err := endpointURL(baseURL)
	return err
}

// endpointURL turns the configured base URL into the endpoint's absolute URL.
// Operators write Waldur's address in any of the spellings Waldur itself uses:
// the site (https://host), the API root (https://host/api/, as Waldur's docs
// and its Python client do) or the endpoint itself; each, with or without a
// path prefix and a trailing slash, means the same endpoint.
func endpointURL(baseURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", errors.New("waldur API URL must be an absolute http(s) URL such as https://waldur.example.com")
	}
	if u.User != nil {
		// Refuse rather than risk printing them: Waldur's credentials belong in the
		// Authorization header, which is the caller's or WALDUR_API_TOKEN.
		return "", errors.New("waldur API URL must not contain credentials; use WALDUR_API_TOKEN")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("waldur API URL must not have a query or fragment")
	}
	site := strings.TrimRight(u.Path, "/")
	site = strings.TrimSuffix(site, strings.TrimRight(Path, "/"))
	site = strings.TrimSuffix(site, apiRoot)
	u.Path = site + Path
	u.RawPath = ""
	return u.String(), nil
}
