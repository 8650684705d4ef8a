package gitlabfake

import (
	"net/http"
	"slices"
	"strings"
)

// What a client can learn about the instance and about its own access token.

// GET /personal_access_tokens/self: the token the request authenticated with, as
// Entities::PersonalAccessTokenWithLastUsedIps. Any scope may call it (a token may always
// inspect itself); expired and revoked tokens are refused by authentication first, so a
// token that gets an answer is active. expires_at is a date (GitLab keeps a PAT's expiry as one).
func (c *call) personalAccessTokenSelf() *response {
	t := c.actor.token
	var expires any
	if t.expiresAt != nil {
		expires = t.expiresAt.UTC().Format("2006-01-02")
	}
	ips := slices.Clone(t.lastUsedIPs)
	if ips == nil {
		ips = []string{}
	}
	return jsonResponse(http.StatusOK, obj{
		{"id", t.id},
		{"name", t.name},
		{"revoked", t.revoked},
		{"created_at", jsonTimeValue(t.createdAt)},
		{"description", nil},
		{"scopes", slices.Clone(t.scopes)},
		{"user_id", t.userID},
		{"last_used_at", jsonTime(t.lastUsedAt)},
		{"active", !t.revoked && (t.expiresAt == nil || t.expiresAt.After(c.s.now()))},
		{"expires_at", expires},
		{"last_used_ips", ips},
	})
}

// GET /version and GET /metadata (the Version API mirrors the Metadata API since GitLab 15.5):
// api, read_api and read_user may call them. The fake runs no agent server (KAS).
func (c *call) metadata() *response {
	return jsonResponse(http.StatusOK, obj{
		{"version", c.s.version},
		{"revision", "0123456789a"},
		{"kas", obj{{"enabled", false}, {"externalUrl", nil}, {"externalK8sProxyUrl", nil}, {"version", nil}}},
		{"enterprise", strings.HasSuffix(c.s.version, "-ee")},
	})
}
