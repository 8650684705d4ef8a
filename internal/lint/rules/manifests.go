package rules

import (
	"fmt"
	"strings"

	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// Manifests checks a rendered manifest stream with the post-renderer's own detection: runners that
// register with a registration token, runners whose token Secret is not in the stream, and runners
// that register with an authentication token but pass settings GitLab refuses with it.
func Manifests(file string, data []byte, target GitLabVersion) ([]Finding, error) {
	found, _, err := DeployedManifests(file, data, target, nil)
	return found, err
}

// LiveSecret reads the token keys of a Secret in the cluster (namespace "" is the release's); found
// is false when it does not exist.
type LiveSecret func(namespace, name string) (registration, runner token.Token, found bool, err error)

// DeployedManifests checks the manifest of a deployed release as Manifests does, and where a runner
// reads its token from a Secret the manifest does not hold (runners.secret, the GitLab chart's
// shared Secret, the Secret runner-migrate migrate keeps), reads that Secret from the cluster with
// live (when given): a registration token there is a legacy registration (RM007), a missing Secret
// keeps the pod from starting, an authentication token is no finding. known reports that what every
// runner of the manifest registers with is known (from the manifest or the cluster), so nothing is
// left to findings that can only say "if the Secret holds a registration token".
func DeployedManifests(file string, data []byte, target GitLabVersion, live LiveSecret) (out []Finding, known bool, err error) {
	s, err := rewrite.Read(data)
	if err != nil {
		return nil, false, err
	}
	_ = (rewrite.Detect{}).Filter(s) // its errors concern migration (a setting from valueFrom), not lint
	known = len(s.Sites) > 0
	add := func(rule *Rule, sev Severity, line, col int, path, msg string) {
		if sev != SeverityNone {
			out = append(out, Finding{Rule: rule, Severity: sev, File: file, Line: line, Column: col, Path: path, Message: msg, Fix: rule.Fix})
		}
	}
	for _, site := range s.Sites {
		w := site.Workload
		state := site.State
		if site.Carrier == rewrite.CarrierExternalSecret && live != nil {
			ns := w.Namespace
			reg, run, ok, err := live(ns, site.SecretName)
			line, col := site.TokenSourcePosition()
			switch {
			case err != nil:
				state = rewrite.TokenUnknown
			case !ok:
				add(UnprovenSecret, legacySeverity(target), line, col, w.Ref.String()+" Secret "+site.SecretName,
					fmt.Sprintf("%s reads its token from Secret %q, which does not exist in the cluster: the pod cannot start (both token keys are projected)",
						w.Ref, site.SecretName))
				continue
			case run.IsAuthentication() || reg.IsAuthentication() && (run.IsZero() || run.Equal(reg)):
				state = rewrite.TokenAuthentication
			case run.IsZero() && !reg.IsZero():
				add(LegacySecret, legacySeverity(target), line, col, w.Ref.String()+" Secret "+site.SecretName,
					fmt.Sprintf("%s reads its token from Secret %q, which holds a registration token (runner-registration-token) and an empty runner-token. %s",
						w.Ref, site.SecretName, legacyWhy(target)))
				continue
			default:
				state = rewrite.TokenUnknown
			}
		}
		if state == rewrite.TokenUnknown {
			known = false
		}
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
		case state == rewrite.TokenUnknown:
			line, col := site.TokenSourcePosition()
			add(UnprovenSecret, unprovenSeverity(target), line, col, w.Ref.String()+" Secret "+site.SecretName,
				fmt.Sprintf("%s reads its token from Secret %q, which is not in these manifests. If it holds a registration token: %s",
					w.Ref, site.SecretName, legacyWhy(target)))
		case state == rewrite.TokenAuthentication && len(site.RefusedAtRegistration()) > 0:
			line, col := site.ContainerPosition()
			add(RegistrationSettings, SeverityError, line, col, w.Ref.String()+" container "+site.ContainerName(),
				fmt.Sprintf("%s registers with an authentication token but still passes %s, so gitlab-runner stops with FATAL "+
					"(\"Runner configuration other than name and executor configuration is reserved\")", w.Ref, strings.Join(site.RefusedAtRegistration(), ", ")))
		}
	}
	return out, known, nil
}
