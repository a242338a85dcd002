{{/* The chart's name and the release's full name (at most 63 characters). */}}
{{- define "switchyard.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "switchyard.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "switchyard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "switchyard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "switchyard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "switchyard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "switchyard.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* The config file, as the ConfigMaps hold it. */}}
{{- define "switchyard.config" -}}
{{- toYaml .Values.config -}}
{{- end -}}

{{/* The environment of the gateway and of the migration job: secrets by reference only. */}}
{{- define "switchyard.env" -}}
- name: SWITCHYARD_CONFIG
  value: /etc/switchyard/switchyard.yaml
- name: SWITCHYARD_MASTER_KEY
  valueFrom:
    secretKeyRef:
      name: {{ required "masterKey.existingSecret: name the Secret holding the master key" .Values.masterKey.existingSecret }}
      key: {{ .Values.masterKey.key }}
- name: DATABASE_URL
  value: {{ .Values.database.url | quote }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ required "database.passwordSecret.name: name the Secret holding the PostgreSQL password" .Values.database.passwordSecret.name }}
      key: {{ .Values.database.passwordSecret.key }}
- name: REDIS_URL
  value: {{ .Values.redis.url | quote }}
{{- range .Values.providerKeys }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .key }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Refuse a grace period that would cut the drain short. */}}
{{- define "switchyard.checkGrace" -}}
{{- $drain := .Values.config.server.drain_seconds | default 30 | float64 -}}
{{- $needed := addf $drain .Values.preStopSleepSeconds -}}
{{- if le (float64 .Values.terminationGracePeriodSeconds) $needed -}}
{{- fail (printf "terminationGracePeriodSeconds (%v) must exceed preStopSleepSeconds + config.server.drain_seconds (%v)" .Values.terminationGracePeriodSeconds $needed) -}}
{{- end -}}
{{- end -}}
