{{/*
Labels of every object's metadata: the kustomize base's part-of, plus Helm's
own (e2e/chart_test.go ignores exactly helm.sh/chart,
app.kubernetes.io/managed-by and app.kubernetes.io/instance). Never on the pod
template or selectors: a chart upgrade must not roll the database.
*/}}
{{- define "aku.labels" -}}
app.kubernetes.io/part-of: aku
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "aku.leaseName" -}}
{{ printf "%s-aku-start" .Values.names.statefulSet }}
{{- end }}

{{- define "aku.secretName" -}}
{{ .Values.sysPassword.existingSecret | default .Values.sysPassword.secretName }}
{{- end }}

{{/* repository:tag, or repository@digest. */}}
{{- define "aku.image" -}}
{{- if .digest -}}
{{ printf "%s@%s" .repository .digest }}
{{- else -}}
{{ printf "%s:%s" .repository (toString .tag) }}
{{- end -}}
{{- end }}

{{/* An aku.conf value: whole numbers without exponent (values.yaml numbers are float64). */}}
{{- define "aku.value" -}}
{{- if or (kindIs "float64" .) (kindIs "int64" .) (kindIs "int" .) -}}
{{ printf "%d" (int64 .) }}
{{- else -}}
{{ toString . }}
{{- end -}}
{{- end }}

{{- define "aku.property" -}}
{{- $v := index .root.Values.akuConf.properties .name -}}
{{- if kindIs "invalid" $v -}}{{ .default }}{{- else -}}{{ include "aku.value" $v }}{{- end -}}
{{- end }}

{{- define "aku.port" -}}
{{ include "aku.property" (dict "root" . "name" "AKU_PORT_NO" "default" "20300") }}
{{- end }}

{{- define "aku.replicationPort" -}}
{{ include "aku.property" (dict "root" . "name" "AKU_REPLICATION_PORT_NO" "default" "20301") }}
{{- end }}

{{- define "aku.markerFile" -}}
{{ include "aku.property" (dict "root" . "name" "AKU_MARKER_FILE" "default" "/tmp/aku_start_completed") }}
{{- end }}

{{/*
aku.conf (README, "Configuration: aku.conf"): names first, the properties in
name order, then REPLICATIONS. No password, ever.
*/}}
{{- define "aku.conf" -}}
# aku.conf: the original's syntax (see README, "Configuration").
# AKU_SYS_PASSWORD is not here: it comes from the Secret (AKU_SYS_PASSWORD_FILE).
# AKU_REPLICATION_RESET_AT_END is set by the StatefulSet's environment ({{ .Values.replicationResetAtEnd }}),
# which wins over this file.
{{ printf "%-29s = %s" "AKU_STS_NAME" .Values.names.statefulSet }}
{{ printf "%-29s = %s" "AKU_SVC_NAME" .Values.names.service }}
{{- range $name, $v := .Values.akuConf.properties }}
{{- if not (kindIs "invalid" $v) }}
{{ printf "%-29s = %s" $name (include "aku.value" $v) }}
{{- end }}
{{- end }}
REPLICATIONS = {{ range $i, $g := .Values.akuConf.replications }}{{ if $i }},
{{ end }}(
    REPLICATION_NAME_PREFIX = {{ $g.namePrefix }}
{{- if not (kindIs "invalid" $g.syncParallelCount) }}
    SYNC_PARALLEL_COUNT     = {{ include "aku.value" $g.syncParallelCount }}
{{- end }}
    (
{{- $last := sub (len $g.tables) 1 }}
{{- range $j, $t := $g.tables }}
        {{ $t }}{{ if lt $j $last }},{{ end }}
{{- end }}
    )
){{ end }}
{{ end }}
