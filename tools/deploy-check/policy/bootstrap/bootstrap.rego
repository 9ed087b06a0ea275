# The deployer's Role (deploy/k8s/bootstrap): what the pipeline's identity may do in the
# cluster. No Secrets, no exec or port-forward into pods, no RBAC, no wildcards, and
# nothing but reads on pods.
package bootstrap

import rego.v1

name := sprintf("%s/%s", [input.kind, input.metadata.name])

forbidden_resources := {"secrets", "pods/exec", "pods/attach", "pods/portforward", "roles", "rolebindings", "clusterroles", "clusterrolebindings", "serviceaccounts/token"}

write_verbs := {"create", "update", "patch", "delete", "deletecollection"}

deny contains sprintf("%s: may not grant %s", [name, r]) if {
	input.kind in {"Role", "ClusterRole"}
	some rule in input.rules
	some r in rule.resources
	r in forbidden_resources
}

deny contains sprintf("%s: wildcards are not least privilege (%v)", [name, rule]) if {
	input.kind in {"Role", "ClusterRole"}
	some rule in input.rules
	"*" in array.concat(array.concat(rule.apiGroups, rule.resources), rule.verbs)
}

deny contains sprintf("%s: may not %s", [name, verb]) if {
	input.kind in {"Role", "ClusterRole"}
	some rule in input.rules
	some verb in rule.verbs
	verb in {"escalate", "bind", "impersonate"}
}

deny contains sprintf("%s: pods are read-only to the deployer", [name]) if {
	input.kind in {"Role", "ClusterRole"}
	some rule in input.rules
	"pods" in rule.resources
	some verb in rule.verbs
	verb in write_verbs
}

deny contains sprintf("%s: the deployer's rights end at its namespace", [name]) if {
	input.kind == "ClusterRole"
}
