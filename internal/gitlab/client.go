// Package gitlab provisions GitLab runners for runner specs through the REST API: it resolves each
// runner's scope, reuses runners it already made (found through stores or a marker in the
// description), reconciles their settings, and creates one only when nothing usable exists.
package gitlab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/runner-migrate/runner-migrate/internal/token"
)

// ClientConfig says how to reach one GitLab.
type ClientConfig struct {
	BaseURL  string      // e.g. https://gitlab.example.com (the API path is added)
	Token    token.Token // personal, group or project access token
	CAFile   string      // extra CA certificates (PEM) for a private CA
	Insecure bool        // skip TLS verification; only when the user asks
	// RetryMax bounds retries of one request (429, and 5xx or transport errors of idempotent calls).
	RetryMax int
}

// NewClient builds a client-go client that never repeats a POST on its own (a repeated create makes
// a second runner), honours 429 Retry-After, follows no redirect (the access token goes to the
// GitLab the operator named, nowhere else), and sends nothing to logs.
func NewClient(cfg ClientConfig) (*gl.Client, error) {
	if cfg.Token.IsZero() {
		return nil, errors.New("no GitLab access token: set GITLAB_TOKEN or --gitlab-token-file to a token with the create_runner scope (or api)")
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.Insecure} //nolint:gosec // only on the user's explicit flag
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading --ca-file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-file %s holds no PEM certificate", cfg.CAFile)
		}
		tlsConfig.RootCAs = pool
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig
	retryMax := cfg.RetryMax
	if retryMax == 0 {
		retryMax = 5
	}
	return gl.NewClient(cfg.Token.Reveal(),
		gl.WithBaseURL(strings.TrimRight(cfg.BaseURL, "/")+"/"),
		gl.WithHTTPClient(&http.Client{Transport: transport, CheckRedirect: refuseRedirect}),
		gl.WithCustomRetry(checkRetry),
		gl.WithCustomBackoff(backoff),
		gl.WithCustomRetryMax(retryMax),
		gl.WithCustomRetryWaitMinMax(200*time.Millisecond, 5*time.Second),
		gl.WithUserAgent("runner-migrate"),
	)
}

// checkRetry decides whether a request may be sent again. 429 means GitLab did not act, so any
// method may retry once the wait fits in the deadline. 5xx and broken connections leave a POST's
// effect unknown: only idempotent methods retry; the provisioner settles an unclear create itself.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	method := ""
	if resp != nil && resp.Request != nil {
		method = resp.Request.Method
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		method = strings.ToUpper(uerr.Op)
	}
	if err != nil {
		var redirect *RedirectError
		if errors.As(err, &redirect) {
			return false, nil // asking again gets the same redirect
		}
		var certErr *tls.CertificateVerificationError
		var unknownCA x509.UnknownAuthorityError
		var hostErr x509.HostnameError
		if errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) {
			return false, nil // a certificate does not get better by asking again
		}
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return true, nil // never reached the server
		}
		return idempotent(method), nil
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		wait := retryAfter(resp)
		if deadline, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(deadline) {
			return false, &RateLimitError{Wait: wait}
		}
		return true, nil
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		return idempotent(method), nil
	}
	return false, nil
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// backoff waits as long as GitLab asks (Retry-After, or RateLimit-Reset), else exponentially.
func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
		if wait := retryAfter(resp); wait > 0 {
			return wait
		}
	}
	wait := time.Duration(float64(minWait) * math.Pow(2, float64(attempt)))
	if wait > maxWait || wait <= 0 {
		wait = maxWait
	}
	return wait
}

// retryAfter reads how long a 429 asks to wait: Retry-After seconds, or the RateLimit-Reset epoch.
func retryAfter(resp *http.Response) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if when, err := http.ParseTime(resp.Header.Get("Retry-After")); err == nil {
		return time.Until(when)
	}
	if epoch, err := strconv.ParseInt(strings.TrimSpace(resp.Header.Get("RateLimit-Reset")), 10, 64); err == nil {
		if d := time.Until(time.Unix(epoch, 0)); d > 0 {
			return d
		}
	}
	return 0
}

// RateLimitError: GitLab asked to wait longer than the deadline allows.
type RateLimitError struct{ Wait time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("GitLab rate-limits this access token (429 Too Many Requests) and asks to retry in %s, which is past the deadline; "+
		"run again later or raise --timeout", e.Wait.Round(time.Second))
}

// RedirectError: GitLab answered with a redirect. Go's client would follow it and keep the
// PRIVATE-TOKEN header even to another host, so runner-migrate follows none.
type RedirectError struct {
	From, To *url.URL
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("GitLab at %s answered with a redirect to %s; runner-migrate never follows a redirect with the access token. "+
		"Fix: set --gitlab-url to the address GitLab serves its API on", hostOf(e.From), redactedURL(e.To))
}

func refuseRedirect(req *http.Request, via []*http.Request) error {
	return &RedirectError{From: via[0].URL, To: req.URL}
}

func hostOf(u *url.URL) string { return u.Scheme + "://" + u.Host }

// redactedURL prints where a redirect pointed without its query or user info, which could carry
// secrets of the server's choosing.
func redactedURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment = nil, "", ""
	return c.String()
}
