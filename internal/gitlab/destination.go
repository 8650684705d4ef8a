package gitlab

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Destination says where the GitLab access token may be sent. The manifests name the GitLab each
// runner registers with (CI_SERVER_URL), but anyone who can edit a values file writes them: the
// token goes only to the GitLab the operator named, and a runner that names another host is an
// error rather than a reason to send the token there.
type Destination struct {
	// URL is the GitLab API address the operator gave (--gitlab-url).
	URL string
	// AllowedHosts are other names of the same GitLab that runners may register with (its external
	// name when --gitlab-url is an internal address), given by the operator. With no URL, a runner's
	// own URL is used as the API address when its host is one of these.
	AllowedHosts []string
	// AllowHTTP permits a plain-http API address, which sends the token in clear text.
	AllowHTTP bool
}

// base returns the API address for a runner spec's URL, or why the token may not go there.
func (d Destination) base(runnerURL, who string) (string, error) {
	if runnerURL != "" {
		host, err := hostPort(runnerURL)
		if err != nil {
			return "", fmt.Errorf("%s registers with %q, which is not a URL runner-migrate can read: %v", who, runnerURL, err)
		}
		if !d.allows(host) {
			return "", fmt.Errorf("%s registers with a GitLab at %s, which is not the GitLab runner-migrate was told to use (%s); "+
				"the access token is sent only to a GitLab the operator names, never to one only the manifests name. "+
				"Fix: if %s is the same GitLab, allow it with --allowed-host %s; otherwise correct gitlabUrl in the values",
				who, host, d.named(), host, host)
		}
	}
	base := d.URL
	if base == "" {
		base = runnerURL
	}
	if base == "" {
		return "", fmt.Errorf("%s names no GitLab (CI_SERVER_URL) and none was given: set --gitlab-url (RUNNER_MIGRATE_GITLAB_URL)", who)
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("the GitLab address %q is not a URL", base)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !d.AllowHTTP {
			return "", fmt.Errorf("the GitLab address %s is plain http, which would send the access token in clear text. "+
				"Fix: use https, or allow it explicitly with --allow-http (RUNNER_MIGRATE_ALLOW_HTTP=true) on a trusted network", hostOf(u))
		}
	default:
		return "", fmt.Errorf("the GitLab address %q is not http(s)", base)
	}
	return strings.TrimRight(base, "/"), nil
}

// allows reports whether a runner may register with host (host[:port]) under this destination.
func (d Destination) allows(host string) bool {
	if d.URL != "" {
		if h, err := hostPort(d.URL); err == nil && sameHost(h, host) {
			return true
		}
	}
	return slices.ContainsFunc(d.AllowedHosts, func(a string) bool { return sameHost(normalizeHost(a), host) })
}

func (d Destination) named() string {
	var names []string
	if d.URL != "" {
		names = append(names, "--gitlab-url "+d.URL)
	}
	for _, h := range d.AllowedHosts {
		names = append(names, "--allowed-host "+h)
	}
	if len(names) == 0 {
		return "none was named: set --gitlab-url"
	}
	return strings.Join(names, ", ")
}

// hostPort returns a URL's host with its port, lower-cased, the default port made explicit.
func hostPort(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", err
	}
	if u.Host == "" {
		return "", fmt.Errorf("no host")
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return net.JoinHostPort(host, port), nil
}

// normalizeHost reads an allowed host given as host, host:port or a URL.
func normalizeHost(h string) string {
	if strings.Contains(h, "://") {
		if hp, err := hostPort(h); err == nil {
			return hp
		}
	}
	return strings.ToLower(strings.TrimSpace(h))
}

// sameHost compares host:port forms; an allowed host given without a port matches any port.
func sameHost(allowed, host string) bool {
	if allowed == host {
		return true
	}
	if _, _, err := net.SplitHostPort(allowed); err != nil {
		h, _, _ := net.SplitHostPort(host)
		return h == allowed
	}
	return false
}
