package rules

import (
	"fmt"
	"strings"

	"github.com/runner-migrate/runner-migrate/rewrite"
)

// Manifests checks a rendered manifest stream with the post-renderer's own detection: runners that
// register with a registration token, runners whose token Secret is not in the stream, and runners
// that register with an authentication token but pass settings GitLab refuses with it.
func Manifests(file string, data []byte, target GitLabVersion) ([]Finding, error) {
	s, err := rewrite.Read(data)
	if err != nil {
		return nil, err
	}
	_ = (rewrite.Detect{}).Filter(s) // its errors concern migration (a setting from valueFrom), not lint
	var out []Finding
	add := func(rule *Rule, sev Severity, line, col int, path, msg string) {
		if sev != SeverityNone {
			out = append(out, Finding{Rule: rule, Severity: sev, File: file, Line: line, Column: col, Path: path, Message: msg, Fix: rule.Fix})
		}
	}
	for _, site := range s.Sites {
		w := site.Workload
		switch {
		case site.State == rewrite.TokenLegacy && site.Carrier == rewrite.CarrierSecret:
			line, col, ok := site.Secret.KeyPosition("data", rewrite.KeyRegistrationToken)
			if !ok {
				line, col, ok = site.Secret.KeyPosition("stringData", rewrite.KeyRegistrationToken)
			}
			if !ok {
				line, col = site.Secret.Position()
			}
			add(LegacySecret, legacySeverity(target), line, col, site.Secret.Ref.String()+" "+rewrite.KeyRegistrationToken,
				fmt.Sprintf("%s registers with the registration token in this Secret (runner-token is empty). %s", w.Ref, legacyWhy(target)))
		case site.State == rewrite.TokenLegacy:
			line, col := site.EnvPosition("REGISTRATION_TOKEN")
			add(LegacySecret, legacySeverity(target), line, col, w.Ref.String()+" env REGISTRATION_TOKEN",
				fmt.Sprintf("%s registers with a registration token given as an env var. %s", w.Ref, legacyWhy(target)))
		case site.State == rewrite.TokenUnknown:
			line, col := site.TokenSourcePosition()
			add(UnprovenSecret, unprovenSeverity(target), line, col, w.Ref.String()+" Secret "+site.SecretName,
				fmt.Sprintf("%s reads its token from Secret %q, which is not in these manifests. If it holds a registration token: %s",
					w.Ref, site.SecretName, legacyWhy(target)))
		case site.State == rewrite.TokenAuthentication && len(site.RefusedAtRegistration()) > 0:
			line, col := site.ContainerPosition()
			add(RegistrationSettings, SeverityError, line, col, w.Ref.String()+" container "+site.ContainerName(),
				fmt.Sprintf("%s registers with an authentication token but still passes %s, so gitlab-runner stops with FATAL "+
					"(\"Runner configuration other than name and executor configuration is reserved\")", w.Ref, strings.Join(site.RefusedAtRegistration(), ", ")))
		}
	}
	return out, nil
}
