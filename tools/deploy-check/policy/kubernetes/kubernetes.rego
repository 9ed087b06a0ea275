# Taskit's policies for one rendered Kubernetes object, run by conftest over every overlay
# (tools/deploy-check/check.mjs). What an overlay may differ in comes from --data
# (data.taskit: writableRoot, secretsByReference). Rules that join several objects (an
# autoscaler and a PodDisruptionBudget per Deployment, references that resolve, network
# peers that select pods) are in lib/k8s.mjs.
package kubernetes

import rego.v1

workload_kinds := {"Deployment", "StatefulSet"}

name := sprintf("%s/%s", [input.kind, input.metadata.name])

pod := input.spec.template.spec if input.kind in workload_kinds

pod_sc := object.get(pod, "securityContext", {})

# Every container with where it runs: initContainers need no probes and write nothing.
containers contains {"c": c, "init": false} if some c in pod.containers

containers contains {"c": c, "init": true} if some c in object.get(pod, "initContainers", [])

# Where each image writes at run time: under a read-only root every one needs a volume.
writable_paths := {
	"rabbitmq": ["/var/lib/rabbitmq", "/var/log/rabbitmq", "/tmp"],
	"mongo": ["/data/db", "/data/configdb", "/tmp"],
	"redis": ["/data"],
	"influxdb": ["/var/lib/influxdb2", "/etc/influxdb2"],
	"grafana/grafana": ["/var/lib/grafana", "/tmp"],
	"telegraf": ["/tmp"],
}

# The images Skaffold replaces with the built ones (by name, unpinned in git).
built_images := {"gateway", "analytics"}

deny contains sprintf("%s: pod seccompProfile must be RuntimeDefault", [name]) if {
	pod
	object.get(pod_sc, ["seccompProfile", "type"], "") != "RuntimeDefault"
}

deny contains sprintf("%s: must not share host namespaces", [name]) if {
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	object.get(pod, field, false) == true
}

deny contains sprintf("%s container %s: runAsNonRoot must be true", [name, x.c.name]) if {
	some x in containers
	object.get(x.c, ["securityContext", "runAsNonRoot"], object.get(pod_sc, "runAsNonRoot", false)) != true
}

deny contains sprintf("%s container %s: runs as uid 0", [name, x.c.name]) if {
	some x in containers
	object.get(x.c, ["securityContext", "runAsUser"], object.get(pod_sc, "runAsUser", -1)) == 0
}

deny contains sprintf("%s container %s: allowPrivilegeEscalation must be false", [name, x.c.name]) if {
	some x in containers
	object.get(x.c, ["securityContext", "allowPrivilegeEscalation"], true) != false
}

deny contains sprintf("%s container %s: must not be privileged", [name, x.c.name]) if {
	some x in containers
	object.get(x.c, ["securityContext", "privileged"], false) == true
}

deny contains sprintf("%s container %s: must drop ALL capabilities", [name, x.c.name]) if {
	some x in containers
	not "ALL" in object.get(x.c, ["securityContext", "capabilities", "drop"], [])
}

deny contains sprintf("%s container %s: must not add capabilities", [name, x.c.name]) if {
	some x in containers
	count(object.get(x.c, ["securityContext", "capabilities", "add"], [])) > 0
}

writable_root if {
	input.kind == "Deployment"
	input.metadata.name in data.taskit.writableRoot
}

deny contains sprintf("%s container %s: readOnlyRootFilesystem must be true", [name, x.c.name]) if {
	some x in containers
	object.get(x.c, ["securityContext", "readOnlyRootFilesystem"], false) != true
	not writable_root
}

deny contains msg if {
	some x in containers
	not x.init
	object.get(x.c, ["securityContext", "readOnlyRootFilesystem"], false) == true
	repository := regex.split("[:@]", x.c.image)[0]
	mounted := {m.mountPath | some m in object.get(x.c, "volumeMounts", []); not object.get(m, "readOnly", false)}
	some path in object.get(writable_paths, repository, [])
	not path in mounted
	msg := sprintf("%s container %s: read-only root filesystem but %s (written by %s) has no volume", [name, x.c.name, path, repository])
}

deny contains sprintf("%s container %s: needs a %s %s", [name, x.c.name, resource, singular]) if {
	some x in containers
	some kind, singular in {"requests": "request", "limits": "limit"}
	some resource in ["cpu", "memory"]
	not object.get(x.c, ["resources", kind, resource], false)
}

deny contains sprintf("%s container %s: needs a %s", [name, x.c.name, probe]) if {
	some x in containers
	not x.init
	some probe in ["startupProbe", "readinessProbe", "livenessProbe"]
	not x.c[probe]
}

deny contains sprintf("%s container %s: image %s must be pinned to a version", [name, x.c.name, x.c.image]) if {
	some x in containers
	not x.c.image in built_images
	regex.match(`:latest$|^[^:@]+$`, x.c.image)
}

# Deployments: no fixed replicas (the autoscaler owns them), spread over zones, drained.
deny contains sprintf("%s: sets spec.replicas, which fights its autoscaler on every apply", [name]) if {
	input.kind == "Deployment"
	object.get(input.spec, "replicas", null) != null
}

deny contains sprintf("%s: needs a topologySpreadConstraint across topology.kubernetes.io/zone selecting its pods", [name]) if {
	input.kind == "Deployment"
	labels := input.spec.template.metadata.labels
	not zone_spread(labels)
}

zone_spread(labels) if {
	some c in object.get(pod, "topologySpreadConstraints", [])
	c.topologyKey == "topology.kubernetes.io/zone"
	selector := object.get(c, ["labelSelector", "matchLabels"], {})
	count(selector) > 0
	every k, v in selector {
		labels[k] == v
	}
}

deny contains sprintf("%s container %s: needs a preStop sleep", [name, c.name]) if {
	input.kind == "Deployment"
	some c in pod.containers
	not object.get(c, ["lifecycle", "preStop", "sleep", "seconds"], false)
}

deny contains sprintf("%s: terminationGracePeriodSeconds must be set", [name]) if {
	input.kind == "Deployment"
	not pod.terminationGracePeriodSeconds
}

deny contains sprintf("%s: terminationGracePeriodSeconds must exceed the preStop pause", [name]) if {
	input.kind == "Deployment"
	some c in pod.containers
	pause := c.lifecycle.preStop.sleep.seconds
	object.get(pod, "terminationGracePeriodSeconds", 30) <= pause
}

# Network policies: a rule without peers admits every address.
deny contains sprintf("%s: an %s rule without %s admits every address", [name, dir, field]) if {
	input.kind == "NetworkPolicy"
	some dir, field in {"ingress": "from", "egress": "to"}
	some rule in object.get(input.spec, dir, [])
	count(object.get(rule, field, [])) == 0
}

deny contains sprintf("%s: must enforce the restricted Pod Security Standard", [name]) if {
	input.kind == "Namespace"
	object.get(input.metadata, ["labels", "pod-security.kubernetes.io/enforce"], "") != "restricted"
}

deny contains sprintf("%s: this overlay must reference secrets, not carry them", [name]) if {
	input.kind == "Secret"
	data.taskit.secretsByReference == true
}

deny contains sprintf("%s: needs spec.domains", [name]) if {
	input.kind == "ManagedCertificate"
	count(object.get(input.spec, "domains", [])) == 0
}

# No egress to any address: a managed service is named by its CIDRs or its host name.
deny contains sprintf("%s: egress to 0.0.0.0/0", [name]) if {
	input.kind == "NetworkPolicy"
	some rule in object.get(input.spec, "egress", [])
	some peer in object.get(rule, "to", [])
	peer.ipBlock.cidr == "0.0.0.0/0"
}

# Service account tokens only where a pod calls the Kubernetes API (none of Taskit's do).
deny contains sprintf("%s: automountServiceAccountToken must be false", [name]) if {
	pod
	object.get(pod, "automountServiceAccountToken", true) != false
}
