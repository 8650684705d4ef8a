{{/* Fixture model of the GitLab umbrella chart (see testdata/charts/README.md). */}}

{{- define "gitlab.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" -}}
{{- end -}}

{{/* Labels for umbrella objects; call with (dict "app" NAME "ctx" $). */}}
{{- define "gitlab.labels" -}}
app: {{ .app }}
chart: {{ include "gitlab.chart" .ctx }}
release: {{ .ctx.Release.Name }}
heritage: {{ .ctx.Release.Service }}
{{- end -}}

{{/* Seven characters of a hash over chart version, app version and values: Jobs are immutable. */}}
{{- define "gitlab.jobNameSuffix" -}}
{{- printf "%s-%s-%s" .Chart.Version .Chart.AppVersion (toJson .Values) | sha256sum | trunc 7 -}}
{{- end -}}

{{- define "gitlab.gitlab.hostname" -}}
{{- default (printf "gitlab.%s" .Values.global.hosts.domain) (dig "gitlab" "name" "" .Values.global.hosts) -}}
{{- end -}}

{{/* External URL of GitLab (not the in-cluster webservice Service). */}}
{{- define "gitlab.gitlab.url" -}}
{{- printf "%s://%s" (ternary "https" "http" (dig "https" true .Values.global.hosts)) (include "gitlab.gitlab.hostname" .) -}}
{{- end -}}

{{- define "gitlab.minio.hostname" -}}
{{- printf "minio.%s" .Values.global.hosts.domain -}}
{{- end -}}

{{- define "gitlab.kubectl.image" -}}
{{- printf "registry.gitlab.com/gitlab-org/build/cng/kubectl:%s" .Chart.AppVersion -}}
{{- end -}}
