{{/* The server's pod template, shared by the Deployment and the Argo Rollout. */}}
{{- define "arcade.serverPodTemplate" -}}
{{- $labels := dict "root" . "component" "server" }}
{{- $c := .Values.config }}
metadata:
  labels:
    {{- include "arcade.componentSelectorLabels" $labels | nindent 4 }}
    {{- with .Values.server.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
    {{- with .Values.server.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "arcade.serviceAccountName" . }}
  automountServiceAccountToken: false
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- range . }}
    - name: {{ . }}
    {{- end }}
  {{- end }}
  securityContext:
    {{- include "arcade.podSecurityContext" . | nindent 4 }}
  # Budget: preStop sleep, then the binary's drain delay (readiness 503) and shutdown
  # timeout (in-flight requests), plus 5 s of margin before SIGKILL.
  terminationGracePeriodSeconds: {{ add .Values.server.preStopSleepSeconds $c.drainDelaySeconds $c.shutdownTimeoutSeconds 5 }}
  {{- if .Values.server.topologySpread.enabled }}
  topologySpreadConstraints:
    - maxSkew: {{ .Values.server.topologySpread.maxSkew }}
      topologyKey: topology.kubernetes.io/zone
      whenUnsatisfiable: {{ .Values.server.topologySpread.whenUnsatisfiable }}
      labelSelector:
        matchLabels:
          {{- include "arcade.componentSelectorLabels" $labels | nindent 10 }}
    - maxSkew: {{ .Values.server.topologySpread.maxSkew }}
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- include "arcade.componentSelectorLabels" $labels | nindent 10 }}
  {{- end }}
  {{- with .Values.server.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.server.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.server.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: server
      image: {{ include "arcade.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args: ["serve"]
      ports:
        - name: http
          containerPort: {{ .Values.server.port }}
          protocol: TCP
      envFrom:
        - configMapRef:
            name: {{ include "arcade.componentName" $labels }}
      env:
        {{- include "arcade.serverEnv" . | nindent 8 }}
      startupProbe:
        httpGet: {path: /health/live, port: http}
        periodSeconds: {{ .Values.server.startupProbe.periodSeconds }}
        failureThreshold: {{ .Values.server.startupProbe.failureThreshold }}
      readinessProbe:
        httpGet: {path: /health/ready, port: http}
        periodSeconds: {{ .Values.server.readinessProbe.periodSeconds }}
        failureThreshold: {{ .Values.server.readinessProbe.failureThreshold }}
        timeoutSeconds: 2
      livenessProbe:
        httpGet: {path: /health/live, port: http}
        periodSeconds: {{ .Values.server.livenessProbe.periodSeconds }}
        failureThreshold: {{ .Values.server.livenessProbe.failureThreshold }}
        timeoutSeconds: 2
      lifecycle:
        preStop:
          # The image has no shell: the kubelet's own sleep action (Kubernetes 1.30+).
          sleep:
            seconds: {{ .Values.server.preStopSleepSeconds }}
      resources:
        {{- toYaml .Values.server.resources | nindent 8 }}
      securityContext:
        {{- include "arcade.containerSecurityContext" . | nindent 8 }}
      volumeMounts:
        - {name: data, mountPath: /data}
        - {name: tmp, mountPath: /tmp}
  volumes:
    # The only writable paths: the data dir (unused with PostgreSQL) and /tmp.
    - name: data
      emptyDir: {sizeLimit: 64Mi}
    - name: tmp
      emptyDir: {sizeLimit: 64Mi}
{{- end }}
