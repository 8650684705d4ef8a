{{/*
Fixture model of gitlab-runner chart generation 0.74+ (see testdata/charts/README.md).
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

{{/* metadata.namespace of every object (0.79+, always quoted). */}}
{{- define "gitlab-runner.namespace" -}}
{{- default .Release.Namespace .Values.namespace | quote -}}
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

{{/* Container environment (0.74+: REGISTER_LOCKED / RUNNER_TAG_LIST always emitted, the script unsets them). */}}
{{- define "gitlab-runner.runner-env-vars" -}}
- name: CI_SERVER_URL
  value: {{ include "gitlab-runner.gitlabUrl" . }}
- name: RUNNER_EXECUTOR
  value: {{ default "kubernetes" .Values.runners.executor | quote }}
- name: REGISTER_LOCKED
  value: {{ if or (not (hasKey .Values.runners "locked")) .Values.runners.locked }}"true"{{ else }}"false"{{ end }}
- name: RUNNER_TAG_LIST
  value: {{ default "" .Values.runners.tags | quote }}
{{- if not (contains "namespace =" (default "" .Values.runners.config)) }}
- name: KUBERNETES_NAMESPACE
  value: {{ include "gitlab-runner.namespace" . }}
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
