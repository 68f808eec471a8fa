"""Writes the strict JSON schemas of the custom resource kinds Arcade's manifests use.

The upstream CRDs accept unknown fields silently in the validators CI also runs, so these
schemas list each kind's fields as the upstream CRD defines them (Argo CD 3.x, Argo Rollouts
1.8, Prometheus Operator 0.8x, External Secrets 0.1x v1, Gateway API 1.2, cert-manager 1.17)
with `additionalProperties: false`, so a misspelt key fails. CloudNativePG's kinds are not
here: their upstream CRDs are (deploy/ci/crds), made strict by validate_strict.py. Free-form parts (pod templates,
which kubernetes-validate checks, Helm values, labels) stay open.

Run it after changing the field lists: python3 deploy/ci/schemas/make_schemas.py
"""

import json
from pathlib import Path

ANY = {}
STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
INTSTR = {"type": ["integer", "string"]}
STRMAP = {"type": "object", "additionalProperties": {"type": "string"}}
STRLIST = {"type": "array", "items": STR}
OBJ = {"type": "object"}


def o(required=(), **props):
    s = {"type": "object", "additionalProperties": False, "properties": props}
    if required:
        s["required"] = list(required)
    return s


def arr(items, min_items=0):
    s = {"type": "array", "items": items}
    if min_items:
        s["minItems"] = min_items
    return s


META = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": STR, "namespace": STR, "labels": STRMAP, "annotations": STRMAP,
                   "finalizers": STRLIST},
}


def kind(api_version, name, spec, required_spec=True):
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": f"{api_version} {name} (strict)",
        "type": "object",
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata"] + (["spec"] if required_spec else []),
        "properties": {"apiVersion": {"const": api_version}, "kind": {"const": name},
                       "metadata": META, "spec": spec},
    }


LABEL_SELECTOR = o(matchLabels=STRMAP, matchExpressions=arr(o(("key", "operator"), key=STR, operator=STR, values=STRLIST)))

# Argo CD
HELM_SOURCE = o(valueFiles=STRLIST, values=STR, valuesObject=OBJ, releaseName=STR, version=STR,
                parameters=arr(o(name=STR, value=STR, forceString=BOOL)),
                fileParameters=arr(o(name=STR, path=STR)), passCredentials=BOOL,
                ignoreMissingValueFiles=BOOL, skipCrds=BOOL, skipSchemaValidation=BOOL,
                skipTests=BOOL, namespace=STR, kubeVersion=STR, apiVersions=STRLIST)
SOURCE = o(("repoURL",), repoURL=STR, path=STR, targetRevision=STR, chart=STR, ref=STR, name=STR,
           helm=HELM_SOURCE, kustomize=OBJ, plugin=OBJ,
           directory=o(recurse=BOOL, include=STR, exclude=STR, jsonnet=OBJ))
SYNC_POLICY = o(
    automated=o(prune=BOOL, selfHeal=BOOL, allowEmpty=BOOL, enabled=BOOL),
    syncOptions=STRLIST,
    retry=o(limit=INT, refresh=BOOL, backoff=o(duration=STR, factor=INT, maxDuration=STR)),
    managedNamespaceMetadata=o(labels=STRMAP, annotations=STRMAP),
)
APPLICATION = kind("argoproj.io/v1alpha1", "Application", o(
    ("destination", "project"),
    project=STR, source=SOURCE, sources=arr(SOURCE),
    destination=o(server=STR, namespace=STR, name=STR),
    syncPolicy=SYNC_POLICY, revisionHistoryLimit=INT,
    ignoreDifferences=arr(o(group=STR, kind=STR, name=STR, namespace=STR, jsonPointers=STRLIST,
                            jqPathExpressions=STRLIST, managedFieldsManagers=STRLIST)),
    info=arr(o(name=STR, value=STR)),
))
GROUP_KIND = o(("group", "kind"), group=STR, kind=STR)
APPPROJECT = kind("argoproj.io/v1alpha1", "AppProject", o(
    description=STR, sourceRepos=STRLIST, sourceNamespaces=STRLIST,
    destinations=arr(o(server=STR, namespace=STR, name=STR)),
    clusterResourceWhitelist=arr(GROUP_KIND), clusterResourceBlacklist=arr(GROUP_KIND),
    namespaceResourceWhitelist=arr(GROUP_KIND), namespaceResourceBlacklist=arr(GROUP_KIND),
    orphanedResources=o(warn=BOOL, ignore=arr(OBJ)), roles=arr(OBJ), syncWindows=arr(OBJ),
    signatureKeys=arr(o(keyID=STR)), permitOnlyProjectScopedClusters=BOOL,
    destinationServiceAccounts=arr(OBJ),
))

# Argo Rollouts
ARG = o(("name",), name=STR, value=STR,
        valueFrom=o(podTemplateHashValue={"enum": ["Stable", "Latest"]},
                    fieldRef=o(("fieldPath",), fieldPath=STR)))
TEMPLATE_REF = o(templateName=STR, clusterScope=BOOL)
ANALYSIS = o(templates=arr(TEMPLATE_REF, 1), args=arr(ARG), dryRun=arr(o(metricName=STR)),
             measurementRetention=arr(o(metricName=STR, limit=INT)),
             analysisRunMetadata=o(labels=STRMAP, annotations=STRMAP))
STEP = {**o(setWeight=INT, pause=o(duration=INTSTR), analysis=ANALYSIS, experiment=OBJ,
            setCanaryScale=o(weight=INT, replicas=INT, matchTrafficWeight=BOOL),
            setHeaderRoute=OBJ, setMirrorRoute=OBJ, plugin=OBJ),
        "minProperties": 1, "maxProperties": 1}
ROLLOUT = kind("argoproj.io/v1alpha1", "Rollout", o(
    ("strategy",),
    replicas=INT, selector=LABEL_SELECTOR, template=OBJ, workloadRef=OBJ, minReadySeconds=INT,
    revisionHistoryLimit=INT, paused=BOOL, progressDeadlineSeconds=INT,
    progressDeadlineAbort=BOOL, restartAt=STR, rollbackWindow=o(revisions=INT),
    analysis=o(successfulRunHistoryLimit=INT, unsuccessfulRunHistoryLimit=INT),
    strategy=o(blueGreen=OBJ, canary=o(
        canaryService=STR, stableService=STR, steps=arr(STEP),
        trafficRouting=o(nginx=o(stableIngress=STR, stableIngresses=STRLIST,
                                 annotationPrefix=STR, additionalIngressAnnotations=STRMAP,
                                 canaryIngressAnnotations=STRMAP),
                         alb=OBJ, istio=OBJ, smi=OBJ, ambassador=OBJ, appMesh=OBJ, traefik=OBJ,
                         apisix=OBJ, plugins=OBJ, managedRoutes=arr(o(name=STR)),
                         maxTrafficWeight=INT),
        maxUnavailable=INTSTR, maxSurge=INTSTR,
        analysis={**ANALYSIS, "properties": {**ANALYSIS["properties"], "startingStep": INT}},
        antiAffinity=OBJ, canaryMetadata=OBJ, stableMetadata=OBJ, scaleDownDelaySeconds=INT,
        scaleDownDelayRevisionLimit=INT, abortScaleDownDelaySeconds=INT,
        dynamicStableScale=BOOL, pingPong=OBJ, minPodsPerReplicaSet=INT,
        replicaProgressThreshold=OBJ)),
))
PROMETHEUS_PROVIDER = o(("address", "query"), address=STR, query=STR, timeout=INT, insecure=BOOL,
                        headers=arr(o(key=STR, value=STR)), authentication=OBJ, rangeQuery=OBJ)
METRIC = o(("name", "provider"), name=STR, interval=STR, initialDelay=STR, count=INTSTR,
           successCondition=STR, failureCondition=STR, failureLimit=INTSTR,
           inconclusiveLimit=INTSTR, consecutiveErrorLimit=INTSTR,
           consecutiveSuccessLimit=INTSTR,
           provider=o(prometheus=PROMETHEUS_PROVIDER, web=OBJ, job=OBJ, datadog=OBJ,
                      newRelic=OBJ, wavefront=OBJ, kayenta=OBJ, cloudWatch=OBJ, graphite=OBJ,
                      influxdb=OBJ, skywalking=OBJ, plugin=OBJ))
ANALYSIS_TEMPLATE = kind("argoproj.io/v1alpha1", "AnalysisTemplate", o(
    ("metrics",), metrics=arr(METRIC, 1), args=arr(ARG), dryRun=arr(o(metricName=STR)),
    measurementRetention=arr(o(metricName=STR, limit=INT)),
))

# Prometheus Operator
ENDPOINT = o(port=STR, targetPort=INTSTR, path=STR, scheme=STR, interval=STR, scrapeTimeout=STR,
             honorLabels=BOOL, honorTimestamps=BOOL, trackTimestampsStaleness=BOOL,
             relabelings=arr(OBJ), metricRelabelings=arr(OBJ), params=OBJ, tlsConfig=OBJ,
             bearerTokenSecret=OBJ, authorization=OBJ, basicAuth=OBJ, oauth2=OBJ,
             followRedirects=BOOL, enableHttp2=BOOL, proxyUrl=STR, filterRunning=BOOL)
SERVICE_MONITOR = kind("monitoring.coreos.com/v1", "ServiceMonitor", o(
    ("endpoints", "selector"), endpoints=arr(ENDPOINT, 1), selector=LABEL_SELECTOR,
    namespaceSelector=o(any=BOOL, matchNames=STRLIST), jobLabel=STR, targetLabels=STRLIST,
    podTargetLabels=STRLIST, sampleLimit=INT, targetLimit=INT, labelLimit=INT,
    labelNameLengthLimit=INT, labelValueLengthLimit=INT, keepDroppedTargets=INT,
    attachMetadata=OBJ, scrapeProtocols=STRLIST, scrapeClass=STR,
))
POD_MONITOR = kind("monitoring.coreos.com/v1", "PodMonitor", o(
    ("selector",), selector=LABEL_SELECTOR,
    podMetricsEndpoints=arr({**ENDPOINT, "properties": {**ENDPOINT["properties"], "portNumber": INT}}, 1),
    namespaceSelector=o(any=BOOL, matchNames=STRLIST), jobLabel=STR, podTargetLabels=STRLIST,
    sampleLimit=INT, targetLimit=INT, labelLimit=INT, labelNameLengthLimit=INT,
    labelValueLengthLimit=INT, keepDroppedTargets=INT, attachMetadata=OBJ,
    scrapeProtocols=STRLIST, scrapeClass=STR,
))
RULE = {"oneOf": [
    o(("record", "expr"), record=STR, expr=INTSTR, labels=STRMAP),
    o(("alert", "expr"), alert=STR, expr=INTSTR, **{"for": STR, "keep_firing_for": STR},
      labels=STRMAP, annotations=STRMAP),
]}
PROMETHEUS_RULE = kind("monitoring.coreos.com/v1", "PrometheusRule", o(
    ("groups",), groups=arr(o(("name", "rules"), name=STR, interval=STR, query_offset=STR,
                              limit=INT, partial_response_strategy=STR, labels=STRMAP,
                              rules=arr(RULE, 1)), 1),
))

# External Secrets Operator
EXTERNAL_SECRET = kind("external-secrets.io/v1", "ExternalSecret", o(
    refreshInterval=STR, refreshPolicy=STR,
    secretStoreRef=o(("name",), name=STR, kind={"enum": ["SecretStore", "ClusterSecretStore"]}),
    target=o(name=STR, creationPolicy={"enum": ["Owner", "Orphan", "Merge", "None"]},
             deletionPolicy={"enum": ["Delete", "Merge", "Retain"]}, template=OBJ,
             immutable=BOOL),
    data=arr(o(("secretKey", "remoteRef"), secretKey=STR, sourceRef=OBJ,
               remoteRef=o(("key",), key=STR, property=STR, version=STR,
                           conversionStrategy=STR, decodingStrategy=STR,
                           metadataPolicy=STR))),
    dataFrom=arr(OBJ),
))

SECRET_KEY_SELECTOR = o(("name",), name=STR, key=STR, namespace=STR)
CLUSTER_SECRET_STORE = kind("external-secrets.io/v1", "ClusterSecretStore", o(
    ("provider",),
    controller=STR, refreshInterval=INT, retrySettings=o(maxRetries=INT, retryInterval=STR),
    conditions=arr(o(namespaces=STRLIST, namespaceSelector=LABEL_SELECTOR,
                     namespaceRegexes=STRLIST)),
    provider=o(
        aws=o(("service",), service={"enum": ["SecretsManager", "ParameterStore"]},
              region=STR, role=STR, additionalRoles=STRLIST, externalID=STR,
              sessionTags=arr(o(("key", "value"), key=STR, value=STR)),
              transitiveTagKeys=STRLIST, prefix=STR, secretsManager=OBJ,
              auth=o(jwt=o(serviceAccountRef=o(("name",), name=STR, namespace=STR,
                                                audiences=STRLIST)),
                     secretRef=o(accessKeyIDSecretRef=SECRET_KEY_SELECTOR,
                                 secretAccessKeySecretRef=SECRET_KEY_SELECTOR,
                                 sessionTokenSecretRef=SECRET_KEY_SELECTOR))),
        azurekv=OBJ, gcpsm=OBJ, vault=OBJ, kubernetes=OBJ, doppler=OBJ, onepassword=OBJ,
        fake=OBJ, webhook=OBJ),
))

# Gateway API
PARENT_REF = o(("name",), group=STR, kind=STR, namespace=STR, name=STR, sectionName=STR, port=INT)
HTTP_ROUTE = kind("gateway.networking.k8s.io/v1", "HTTPRoute", o(
    parentRefs=arr(PARENT_REF), hostnames=STRLIST,
    rules=arr(o(name=STR,
                matches=arr(o(path=o(type={"enum": ["Exact", "PathPrefix", "RegularExpression"]},
                                     value=STR),
                              headers=arr(OBJ), queryParams=arr(OBJ), method=STR)),
                filters=arr(OBJ),
                backendRefs=arr(o(("name",), group=STR, kind=STR, name=STR, namespace=STR,
                                  port=INT, weight=INT, filters=arr(OBJ))),
                timeouts=o(request=STR, backendRequest=STR), retry=OBJ,
                sessionPersistence=OBJ)),
))

# cert-manager
CLUSTER_ISSUER = kind("cert-manager.io/v1", "ClusterIssuer", o(
    acme=o(("server", "privateKeySecretRef"), server=STR, email=STR, skipTLSVerify=BOOL,
           privateKeySecretRef=o(("name",), name=STR, key=STR), preferredChain=STR,
           caBundle=STR, disableAccountKeyGeneration=BOOL, enableDurationFeature=BOOL,
           profile=STR, externalAccountBinding=OBJ,
           solvers=arr(o(selector=o(dnsZones=STRLIST, dnsNames=STRLIST, matchLabels=STRMAP),
                         dns01=o(cnameStrategy={"enum": ["None", "Follow"]},
                                 route53=o(region=STR, hostedZoneID=STR, role=STR,
                                           accessKeyID=STR, accessKeyIDSecretRef=OBJ,
                                           secretAccessKeySecretRef=OBJ, auth=OBJ),
                                 cloudflare=OBJ, cloudDNS=OBJ, azureDNS=OBJ, acmeDNS=OBJ,
                                 akamai=OBJ, digitalocean=OBJ, rfc2136=OBJ, webhook=OBJ),
                         http01=o(ingress=o(ingressClassName=STR, **{"class": STR}, name=STR,
                                            serviceType=STR, podTemplate=OBJ,
                                            ingressTemplate=OBJ),
                                  gatewayHTTPRoute=OBJ)))),
    ca=OBJ, selfSigned=OBJ, vault=OBJ, venafi=OBJ,
))

SCHEMAS = {
    "argoproj.io_v1alpha1_Application": APPLICATION,
    "argoproj.io_v1alpha1_AppProject": APPPROJECT,
    "argoproj.io_v1alpha1_Rollout": ROLLOUT,
    "argoproj.io_v1alpha1_AnalysisTemplate": ANALYSIS_TEMPLATE,
    "monitoring.coreos.com_v1_ServiceMonitor": SERVICE_MONITOR,
    "monitoring.coreos.com_v1_PrometheusRule": PROMETHEUS_RULE,
    "monitoring.coreos.com_v1_PodMonitor": POD_MONITOR,
    "external-secrets.io_v1_ClusterSecretStore": CLUSTER_SECRET_STORE,
    "external-secrets.io_v1_ExternalSecret": EXTERNAL_SECRET,
    "gateway.networking.k8s.io_v1_HTTPRoute": HTTP_ROUTE,
    "cert-manager.io_v1_ClusterIssuer": CLUSTER_ISSUER,
}

if __name__ == "__main__":
    here = Path(__file__).parent
    for name, schema in SCHEMAS.items():
        (here / f"{name}.json").write_text(json.dumps(schema, indent=1) + "\n")
        print(f"wrote {name}.json")
