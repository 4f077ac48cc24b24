// Package kubernetes checks the example manifests against the real
// Kubernetes types and the CLI, and never ships code of its own. It is a
// module of its own so that its
// test can use k8s.io/api without the main module depending on it. The test
// (manifests_test.go) holds the example manifests to this invariant: every
// manifest decodes strictly into the real Kubernetes types, the CronJobs
// run non-root on a read-only root filesystem, and every argument and
// CONVIRZA_SYNC_* variable they pass is accepted by the convirza-sync CLI
// built from the parent module.
package kubernetes
