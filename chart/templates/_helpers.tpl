{{/* Names: the release name, cut to what Kubernetes accepts. */}}
{{- define "agent-sandbox.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "agent-sandbox.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "agent-sandbox.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "agent-sandbox.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "agent-sandbox.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "agent-sandbox.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "agent-sandbox.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The Secret holding the admin API key itself (the operator keeps only its hash). */}}
{{- define "agent-sandbox.adminKeySecret" -}}
{{- printf "%s-admin-key" (include "agent-sandbox.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The admin API key: the one in the cluster when there is one (upgrades keep it), else a fresh
`e2b_<40 hex>` (the form the E2B SDKs accept). `helm template` and dry runs, which cannot look,
render a throwaway key.
*/}}
{{- define "agent-sandbox.adminKey" -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "agent-sandbox.adminKeySecret" .) -}}
{{- if and $existing $existing.data (hasKey $existing.data "key") -}}
{{- index $existing.data "key" | b64dec -}}
{{- else -}}
{{- printf "e2b_%s" (randAlphaNum 64 | sha256sum | trunc 40) -}}
{{- end -}}
{{- end -}}

{{/* The envd access-token key (32+ random bytes), kept like the admin key. */}}
{{/* The node agents' grant key (see the envd package's NodeAgentGrant), kept across upgrades like the token key. */}}
{{- define "agent-sandbox.grantKey" -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace "agent-sandbox-node-agent-grant-key" -}}
{{- if and $existing $existing.data (hasKey $existing.data "key") -}}
{{- index $existing.data "key" -}}
{{- else -}}
{{- randAlphaNum 64 | b64enc -}}
{{- end -}}
{{- end -}}

{{- define "agent-sandbox.tokenKey" -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace "agent-sandbox-e2b-token-key" -}}
{{- if and $existing $existing.data (hasKey $existing.data "key") -}}
{{- index $existing.data "key" -}}
{{- else -}}
{{- randAlphaNum 64 | b64enc -}}
{{- end -}}
{{- end -}}

{{/* The terminal-token key (shared by the API, which signs, and wsproxy, which checks), kept like the others. */}}
{{- define "agent-sandbox.terminalKey" -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace "agent-sandbox-terminal-token-key" -}}
{{- if and $existing $existing.data (hasKey $existing.data "key") -}}
{{- index $existing.data "key" -}}
{{- else -}}
{{- randAlphaNum 64 | b64enc -}}
{{- end -}}
{{- end -}}

{{- define "agent-sandbox.syncToken" -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace "agent-sandbox-sync-token" -}}
{{- if and $existing $existing.data (hasKey $existing.data "key") -}}
{{- index $existing.data "key" -}}
{{- else -}}
{{- randAlphaNum 64 | b64enc -}}
{{- end -}}
{{- end -}}

{{- define "agent-sandbox.wsproxyName" -}}
{{- printf "%s-wsproxy" (include "agent-sandbox.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Not the operator's selector labels: its Deployment, Services and PDB must not select wsproxy. */}}
{{- define "agent-sandbox.wsproxySelectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}-wsproxy
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
