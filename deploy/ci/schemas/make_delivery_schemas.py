"""Writes the strict JSON schemas of the custom kinds of the delivery and infrastructure files:
Kyverno's ClusterPolicy (deploy/argocd/policies) and Karpenter's NodePool and EC2NodeClass
(deploy/terraform/modules/cluster/templates), with each kind's fields as the upstream CRDs
define them (Kyverno 1.13 kyverno.io/v1, Karpenter 1.x karpenter.sh/v1 and
karpenter.k8s.aws/v1) and `additionalProperties: false`, so a misspelt key fails. Same helpers
and conventions as make_schemas.py.

Run it after changing the field lists: python3 deploy/ci/schemas/make_delivery_schemas.py
"""

import json
from pathlib import Path

from make_schemas import (ANY, BOOL, INT, INTSTR, LABEL_SELECTOR, OBJ, STR, STRLIST, STRMAP,
                          arr, kind, o)

# Kyverno
RESOURCES = o(kinds=STRLIST, name=STR, names=STRLIST, namespaces=STRLIST, annotations=STRMAP,
              selector=LABEL_SELECTOR, namespaceSelector=LABEL_SELECTOR,
              operations=arr({"enum": ["CREATE", "CONNECT", "UPDATE", "DELETE"]}))
FILTER = o(resources=RESOURCES, subjects=arr(OBJ), roles=STRLIST, clusterRoles=STRLIST)
MATCH = o(any=arr(FILTER), all=arr(FILTER), resources=RESOURCES, subjects=arr(OBJ),
          roles=STRLIST, clusterRoles=STRLIST)
REKOR = o(url=STR, pubkey=STR, ignoreTlog=BOOL)
KEYLESS = o(issuer=STR, issuerRegExp=STR, subject=STR, subjectRegExp=STR, roots=STR,
            rekor=REKOR, ctlog=OBJ, additionalExtensions=STRMAP)
ATTESTOR = o(keyless=KEYLESS, keys=OBJ, certificates=OBJ, attestor=OBJ, annotations=STRMAP,
             repository=STR, signatureAlgorithm=STR)
FAILURE_ACTION = {"enum": ["Audit", "Enforce"]}
VERIFY_IMAGES = o(
    imageReferences=STRLIST, skipImageReferences=STRLIST, type=STR, failureAction=FAILURE_ACTION,
    attestors=arr(o(count=INT, entries=arr(ATTESTOR, 1))), attestations=arr(OBJ),
    annotations=STRMAP, repository=STR, mutateDigest=BOOL, verifyDigest=BOOL, useCache=BOOL, imageRegistryCredentials=OBJ, validate=OBJ,
    # Deprecated single-attestor form, still accepted by the CRD.
    image=STR, key=STR, roots=STR, subject=STR, issuer=STR, additionalExtensions=STRMAP)
# `required` is also o()'s own parameter: added after.
VERIFY_IMAGES["properties"]["required"] = BOOL
RULE = o(("name",), name=STR, match=MATCH, exclude=MATCH, context=arr(OBJ), preconditions=ANY,
         celPreconditions=arr(OBJ), mutate=OBJ, validate=OBJ, generate=OBJ,
         verifyImages=arr(VERIFY_IMAGES), imageExtractors=OBJ, skipBackgroundRequests=BOOL,
         reportProperties=STRMAP)
CLUSTER_POLICY = kind("kyverno.io/v1", "ClusterPolicy", o(
    ("rules",), rules=arr(RULE, 1), admission=BOOL, background=BOOL, emitWarning=BOOL,
    applyRules={"enum": ["All", "One"]}, failurePolicy={"enum": ["Ignore", "Fail"]},
    validationFailureAction=FAILURE_ACTION, validationFailureActionOverrides=arr(OBJ),
    webhookTimeoutSeconds=INT, webhookConfiguration=OBJ, generateExisting=BOOL,
    generateExistingOnPolicyUpdate=BOOL, mutateExistingOnPolicyUpdate=BOOL,
    schemaValidation=BOOL, useServerSideApply=BOOL,
))

# Karpenter
REQUIREMENT = o(("key", "operator"), key=STR,
                operator={"enum": ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]},
                values=STRLIST, minValues=INT)
TAINT = o(("key", "effect"), key=STR, value=STR,
          effect={"enum": ["NoSchedule", "PreferNoSchedule", "NoExecute"]}, timeAdded=STR)
NODE_POOL = kind("karpenter.sh/v1", "NodePool", o(
    ("template",),
    template=o(("spec",),
               metadata=o(labels=STRMAP, annotations=STRMAP),
               spec=o(("nodeClassRef", "requirements"),
                      nodeClassRef=o(("group", "kind", "name"), group=STR, kind=STR, name=STR),
                      requirements=arr(REQUIREMENT), taints=arr(TAINT),
                      startupTaints=arr(TAINT), expireAfter=STR,
                      terminationGracePeriod=STR)),
    disruption=o(consolidationPolicy={"enum": ["WhenEmpty", "WhenEmptyOrUnderutilized"]},
                 consolidateAfter=STR,
                 budgets=arr(o(("nodes",), nodes=STR, schedule=STR, duration=STR,
                               reasons=arr({"enum": ["Underutilized", "Empty", "Drifted"]})))),
    limits={"type": "object", "additionalProperties": INTSTR}, weight=INT, replicas=INT,
))
EBS = o(volumeSize=INTSTR, volumeType={"enum": ["standard", "io1", "io2", "gp2", "sc1", "st1",
                                                 "gp3"]},
        encrypted=BOOL, kmsKeyID=STR, deleteOnTermination=BOOL, iops=INT, throughput=INT,
        snapshotID=STR, volumeInitializationRate=INT)
EC2_NODE_CLASS = kind("karpenter.k8s.aws/v1", "EC2NodeClass", o(
    ("amiSelectorTerms", "securityGroupSelectorTerms", "subnetSelectorTerms"),
    amiFamily={"enum": ["AL2", "AL2023", "Bottlerocket", "Custom", "Windows2019", "Windows2022",
                        "Windows2025"]},
    amiSelectorTerms=arr(o(alias=STR, id=STR, name=STR, owner=STR, tags=STRMAP,
                           ssmParameter=STR), 1),
    subnetSelectorTerms=arr(o(id=STR, tags=STRMAP), 1),
    securityGroupSelectorTerms=arr(o(id=STR, name=STR, tags=STRMAP), 1),
    capacityReservationSelectorTerms=arr(OBJ),
    role=STR, instanceProfile=STR, tags=STRMAP, userData=STR, context=STR,
    blockDeviceMappings=arr(o(deviceName=STR, ebs=EBS, rootVolume=BOOL)),
    metadataOptions=o(httpEndpoint={"enum": ["enabled", "disabled"]},
                      httpProtocolIPv6={"enum": ["enabled", "disabled"]},
                      httpPutResponseHopLimit=INT,
                      httpTokens={"enum": ["required", "optional"]}),
    detailedMonitoring=BOOL, associatePublicIPAddress=BOOL,
    instanceStorePolicy={"enum": ["RAID0"]}, kubelet=OBJ, ipPrefixCount=INT,
    networkInterfaces=arr(OBJ), placementGroupSelector=OBJ,
))

SCHEMAS = {
    "kyverno.io_v1_ClusterPolicy": CLUSTER_POLICY,
    "karpenter.sh_v1_NodePool": NODE_POOL,
    "karpenter.k8s.aws_v1_EC2NodeClass": EC2_NODE_CLASS,
}

if __name__ == "__main__":
    here = Path(__file__).parent
    for name, schema in SCHEMAS.items():
        (here / f"{name}.json").write_text(json.dumps(schema, indent=1) + "\n")
        print(f"wrote {name}.json")
