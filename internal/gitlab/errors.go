package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// explain turns an API error into what a person can act on: what was refused, which scope or role
// is missing, and what to do. what names the call ("creating a group runner in group x").
func explain(err error, what string) error {
	if err == nil {
		return nil
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return fmt.Errorf("%s: %w", what, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: no answer from GitLab before the deadline (--timeout)", what)
	}
	var redirect *RedirectError
	if errors.As(err, &redirect) {
		return fmt.Errorf("%s: %w", what, redirect)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		// url.Error prints the full URL; runner-migrate never puts a token in a URL, but print only
		// the host anyway.
		host := ""
		if u, perr := url.Parse(uerr.URL); perr == nil {
			host = u.Host
		}
		return fmt.Errorf("%s: cannot reach GitLab at %s: %v", what, host, uerr.Err)
	}
	if errors.Is(err, gl.ErrNotFound) {
		return fmt.Errorf("%s: GitLab answers 404 Not Found", what)
	}
	var er *gl.ErrorResponse
	if !errors.As(err, &er) {
		return fmt.Errorf("%s: %v", what, err)
	}
	body := struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		Scope            string `json:"scope"`
	}{}
	_ = json.Unmarshal(er.Body, &body)
	msg := strings.TrimSpace(er.Message)
	switch {
	case er.StatusCode == 401 && body.Error == "invalid_token":
		return fmt.Errorf("%s: GitLab refused the access token: %s. Fix: create a new token with the create_runner, manage_runner and read_api scopes (or api) and give it in GITLAB_TOKEN",
			what, strings.TrimSuffix(body.ErrorDescription, "."))
	case er.StatusCode == 401:
		return fmt.Errorf("%s: GitLab does not know the access token (401 Unauthorized). Fix: check GITLAB_TOKEN and --gitlab-url", what)
	case er.StatusCode == 403 && body.Error == "insufficient_scope":
		return fmt.Errorf("%s: the access token lacks the scope for this call (GitLab accepts: %s). Fix: give a token with that scope; runner-migrate needs create_runner, manage_runner and read_api, or api",
			what, strings.Join(strings.Fields(body.Scope), " or "))
	case er.StatusCode == 429:
		return fmt.Errorf("%s: GitLab kept answering 429 Too Many Requests; run again later", what)
	default:
		return fmt.Errorf("%s: GitLab answered %d: %s", what, er.StatusCode, msg)
	}
}

// statusOf returns the HTTP status of an API error, 0 for transport errors.
func statusOf(err error) int {
	if errors.Is(err, gl.ErrNotFound) {
		return 404
	}
	var er *gl.ErrorResponse
	if errors.As(err, &er) {
		return er.StatusCode
	}
	return 0
}

// unclear reports whether a failed request may still have been carried out by GitLab: a 5xx, a
// broken connection or a timeout. A 4xx is a clear refusal.
func unclear(err error) bool {
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return false // GitLab said it did nothing, and to wait
	}
	s := statusOf(err)
	return s == 0 || s >= 500
}
