{{/*
Runner integration. Defines named gitlab-runner.* here replace the subchart's own defines of the
same name (Helm parses deeper template paths first, so the parent's definition wins).
*/}}

{{/* Unquoted name of the runner token Secret, shared by the runner, migrations and shared-secrets. */}}
{{- define "gitlab.gitlab-runner.registrationToken.secret" -}}
{{- default (printf "%s-gitlab-runner-secret" .Release.Name) (dig "runner" "registrationToken" "secret" "" .Values.global) -}}
{{- end -}}

{{/* Overrides the subchart: runners.secret is only a switch, its value never names the Secret. */}}
{{- define "gitlab-runner.secret" -}}
{{- include "gitlab.gitlab-runner.registrationToken.secret" . | quote -}}
{{- end -}}

{{/* Overrides the subchart: gitlab-runner.gitlabUrl, else the external GitLab URL. */}}
{{- define "gitlab-runner.gitlabUrl" -}}
{{- default (include "gitlab.gitlab.url" .) .Values.gitlabUrl | quote -}}
{{- end -}}

{{/* Overrides the subchart: runners.cache.secretName, else the MinIO Secret when MinIO is enabled. */}}
{{- define "gitlab-runner.cache.secret" -}}
{{- $name := dig "cache" "secretName" "" .Values.runners -}}
{{- if $name -}}
{{- $name | quote -}}
{{- else if dig "minio" "enabled" false .Values.global -}}
{{- printf "%s-minio-secret" .Release.Name | quote -}}
{{- end -}}
{{- end -}}

{{- define "gitlab-runner.cache-tpl.s3ServerAddress" -}}
{{- include "gitlab.minio.hostname" . | quote -}}
{{- end -}}
