// Validates custom resources (Argo CD, Argo Rollouts, Prometheus Operator, External Secrets,
// Gateway API) with the @kubernetes-models packages, whose validators are generated from the
// projects' own CRD schemas: types, enums, required fields. Unknown fields are caught by the
// strict JSON schemas in deploy/ci/schemas (check-jsonschema), run separately.
//
// Usage: NODE_PATH=<npm prefix>/node_modules node validate-crds.mjs FILE...
// Exits 1 when a resource is invalid or a custom kind has no validator here.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const modulesDir = process.env.NODE_PATH ?? "node_modules";
const require = createRequire(path.join(modulesDir, "noop.js"));
const yaml = require("js-yaml");
// The packages export ES modules only: import the model's file directly.
const load = async (spec) => import(pathToFileURL(path.join(modulesDir, `${spec}.js`)).href);

const models = {
  "argoproj.io/v1alpha1/Application": ["@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application", "Application"],
  "argoproj.io/v1alpha1/AppProject": ["@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject", "AppProject"],
  "argoproj.io/v1alpha1/Rollout": ["@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout", "Rollout"],
  "argoproj.io/v1alpha1/AnalysisTemplate": ["@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate", "AnalysisTemplate"],
  "kyverno.io/v1/ClusterPolicy": ["@kubernetes-models/kyverno/kyverno.io/v1/ClusterPolicy", "ClusterPolicy"],
  "karpenter.sh/v1/NodePool": ["@kubernetes-models/karpenter/karpenter.sh/v1/NodePool", "NodePool"],
  "karpenter.k8s.aws/v1/EC2NodeClass": ["@kubernetes-models/karpenter/karpenter.k8s.aws/v1/EC2NodeClass", "EC2NodeClass"],
  "monitoring.coreos.com/v1/ServiceMonitor": ["@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor", "ServiceMonitor"],
  "monitoring.coreos.com/v1/PrometheusRule": ["@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule", "PrometheusRule"],
  "monitoring.coreos.com/v1/PodMonitor": ["@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor", "PodMonitor"],
  "external-secrets.io/v1/ExternalSecret": ["@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret", "ExternalSecret"],
  "external-secrets.io/v1/ClusterSecretStore": ["@kubernetes-models/external-secrets/external-secrets.io/v1/ClusterSecretStore", "ClusterSecretStore"],
  "gateway.networking.k8s.io/v1/HTTPRoute": ["@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute", "HTTPRoute"],
  "cert-manager.io/v1/ClusterIssuer": ["@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer", "ClusterIssuer"],
};
// Kinds with no validator package: validate_strict.py checks them against the upstream CRD
// committed under deploy/ci/crds.
const upstreamCrd = /^postgresql\.cnpg\.io\//;
// Kinds of the Kubernetes API itself: kubernetes-validate checks those.
const builtin = /^(v1|apps\/v1|batch\/v1|policy\/v1|autoscaling\/v2|networking\.k8s\.io\/v1|rbac\.authorization\.k8s\.io\/v1)$/;

let failed = 0;
let checked = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(readFileSync(file, "utf8"))) {
    if (!doc) continue;
    const key = `${doc.apiVersion}/${doc.kind}`;
    const where = `${path.basename(file)}: ${doc.kind} ${doc.metadata?.name}`;
    if (builtin.test(doc.apiVersion) || upstreamCrd.test(doc.apiVersion)) continue;
    const model = models[key];
    if (!model) {
      console.log(`FAIL ${where}: no validator for ${key}`);
      failed++;
      continue;
    }
    const mod = await load(model[0]);
    try {
      new mod[model[1]](doc).validate();
      checked++;
    } catch (e) {
      failed++;
      console.log(`FAIL ${where}: ${e.message}`);
      for (const d of e.details ?? []) console.log(`       ${d.instancePath} ${d.message}`);
    }
  }
}
// The Prometheus and Alertmanager that kube-prometheus-stack makes from our values: its
// prometheusSpec and alertmanagerSpec become their specs (storageSpec is the chart's name
// for the CRD's storage), so the operator's model checks what we give the chart.
const specOf = (values, rename) =>
  Object.fromEntries(Object.entries(values ?? {}).map(([k, v]) => [rename[k] ?? k, v]));
for (const file of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(readFileSync(file, "utf8"))) {
    if (doc?.kind !== "Application" || doc.spec?.source?.chart !== "kube-prometheus-stack") continue;
    const values = doc.spec.source.helm?.valuesObject ?? {};
    for (const [kind, spec] of [
      ["Prometheus", specOf(values.prometheus?.prometheusSpec, { storageSpec: "storage" })],
      ["Alertmanager", { ...values.alertmanager?.alertmanagerSpec }],
    ]) {
      const mod = await load(`@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`);
      const where = `${path.basename(file)}: kube-prometheus-stack ${kind} spec from the values`;
      // The models' generator gives the embedded claim template a type of its own, with an
      // apiVersion and kind the CRD does not ask for: stamp them on a copy.
      const claim = spec.storage?.volumeClaimTemplate;
      if (claim) {
        spec.storage = { ...spec.storage, volumeClaimTemplate: {
          apiVersion: "monitoring.coreos.com/v1", kind: "EmbeddedPersistentVolumeClaim", ...claim } };
      }
      try {
        new mod[kind]({ metadata: { name: "kube-prometheus-stack" }, spec }).validate();
        checked++;
      } catch (e) {
        failed++;
        console.log(`FAIL ${where}: ${e.message}`);
        for (const d of e.details ?? []) console.log(`       ${d.instancePath} ${d.message}`);
      }
    }
  }
}
console.log(`custom resources: ${checked} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
