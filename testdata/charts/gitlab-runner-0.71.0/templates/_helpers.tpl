{{/*
Fixture model of gitlab-runner chart generation 0.59-0.73 (see testdata/charts/README.md).
*/}}

{{- define "gitlab-runner.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* fullnameOverride, else the release name if it contains the chart name, else <release>-<chart>. */}}
{{- define "gitlab-runner.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "gitlab-runner.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gitlab-runner.labels" -}}
app: {{ include "gitlab-runner.fullname" . }}
chart: {{ include "gitlab-runner.chart" . }}
release: {{ .Release.Name | quote }}
heritage: {{ .Release.Service | quote }}
{{- end -}}

{{/* metadata.namespace of every object (0.53-0.77). */}}
{{- define "gitlab-runner.namespace" -}}
{{- .Release.Namespace -}}
{{- end -}}

{{/*
"true" when the values hold a runner authentication token (0.59-0.73, template time only):
if the key runnerRegistrationToken exists, an empty or glrt- value counts; otherwise a glrt- runnerToken.
A token that only lives in runners.secret is never detected.
*/}}
{{- define "gitlab-runner.isAuthToken" -}}
{{- if hasKey .Values "runnerRegistrationToken" -}}
{{- $token := .Values.runnerRegistrationToken -}}
{{- or (empty $token) (hasPrefix "glrt-" $token) -}}
{{- else -}}
{{- and (not (empty .Values.runnerToken)) (hasPrefix "glrt-" .Values.runnerToken) -}}
{{- end -}}
{{- end -}}

{{/* Name of the token Secret: runners.secret through tpl (quoted), else fullname (0.62+). */}}
{{- define "gitlab-runner.secret" -}}
{{- if .Values.runners.secret -}}
{{- tpl .Values.runners.secret $ | quote -}}
{{- else -}}
{{- include "gitlab-runner.fullname" . -}}
{{- end -}}
{{- end -}}

{{- define "gitlab-runner.gitlabUrl" -}}
{{- .Values.gitlabUrl | quote -}}
{{- end -}}

{{- define "gitlab-runner.image" -}}
{{- printf "%s/%s:%s" .Values.image.registry .Values.image.image (tpl .Values.image.tag .) -}}
{{- end -}}

{{- define "gitlab-runner.serviceAccountName" -}}
{{- if .Values.rbac.create -}}
{{- include "gitlab-runner.fullname" . -}}
{{- else -}}
{{- default "default" .Values.rbac.serviceAccountName -}}
{{- end -}}
{{- end -}}

{{/* Quoted name of the S3 cache credentials Secret, or empty. */}}
{{- define "gitlab-runner.cache.secret" -}}
{{- with .Values.runners.cache -}}
{{- with .secretName -}}
{{- . | quote -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Container environment (0.53.0-0.73: REGISTER_LOCKED / RUNNER_TAG_LIST only without an auth token). */}}
{{- define "gitlab-runner.runner-env-vars" -}}
- name: CI_SERVER_URL
  value: {{ include "gitlab-runner.gitlabUrl" . }}
- name: RUNNER_EXECUTOR
  value: {{ default "kubernetes" .Values.runners.executor | quote }}
{{- if eq (include "gitlab-runner.isAuthToken" .) "false" }}
- name: REGISTER_LOCKED
  value: {{ if or (not (hasKey .Values.runners "locked")) .Values.runners.locked }}"true"{{ else }}"false"{{ end }}
- name: RUNNER_TAG_LIST
  value: {{ default "" .Values.runners.tags | quote }}
{{- end }}
{{- if not (contains "namespace =" (default "" .Values.runners.config)) }}
- name: KUBERNETES_NAMESPACE
  value: {{ include "gitlab-runner.namespace" . | quote }}
{{- end }}
{{- range .Values.envVars }}
- name: {{ .name }}
  value: {{ .value | quote }}
{{- end }}
{{- range $key, $value := .Values.extraEnv }}
- name: {{ $key }}
  value: {{ $value | quote }}
{{- end }}
{{- range $key, $value := .Values.extraEnvFrom }}
- name: {{ $key }}
  valueFrom:
    {{- toYaml $value | nindent 4 }}
{{- end }}
{{- end -}}
