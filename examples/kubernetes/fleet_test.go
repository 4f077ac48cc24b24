package kubernetes

import (
	"bytes"
	"encoding/csv"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// The fleet overlay: one directory per account, listed in fleet/.
const fleetDir = "fleet"

// fleetAccounts lists the accounts of the fleet: the resources of
// fleet/kustomization.yaml, each a directory whose kustomization renames
// the base's objects with -ACCOUNT.
func fleetAccounts(t *testing.T, tr *tree) []string {
	t.Helper()
	k, ok := tr.kusts[path.Join(fleetDir, "kustomization.yaml")]
	if !ok {
		t.Fatalf("no %s/kustomization.yaml", fleetDir)
	}
	if len(k.Resources) < 2 {
		t.Fatalf("the fleet lists %d accounts; a fleet is at least two", len(k.Resources))
	}
	for _, a := range k.Resources {
		ak, ok := tr.kusts[path.Join(fleetDir, a, "kustomization.yaml")]
		if !ok {
			t.Fatalf("fleet account %s has no kustomization.yaml", a)
		}
		if ak.NameSuffix != "-"+a {
			t.Errorf("fleet account %s: nameSuffix %q, want %q, so that its objects do not collide with another account's", a, ak.NameSuffix, "-"+a)
		}
		if len(ak.Resources) != 1 || path.Clean(path.Join(fleetDir, a, ak.Resources[0])) != "base" {
			t.Errorf("fleet account %s: resources %q, want the base alone", a, ak.Resources)
		}
	}
	return k.Resources
}

// TestFleetMappings: each account's own mapping is a mapping of the
// documented fields, and the CLI validates an export in its columns.
func TestFleetMappings(t *testing.T) {
	tr := loadTree(t)
	for _, a := range fleetAccounts(t, tr) {
		t.Run(a, func(t *testing.T) {
			k := tr.kusts[path.Join(fleetDir, a, "kustomization.yaml")]
			var file string
			for _, g := range k.ConfigMapGenerator {
				if g.Name == "convirza-sync-mapping" && g.Behavior == "replace" && len(g.Files) == 1 {
					file = path.Join(fleetDir, a, g.Files[0])
				}
			}
			if file == "" {
				t.Fatal("no configMapGenerator replaces convirza-sync-mapping with the account's own mapping.yaml")
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			m := decodeMapping(t, file, data)
			dir := t.TempDir()
			groups := writeSampleExport(t, filepath.Join(dir, "groups.csv"), m.Groups.Columns, groupFields)
			users := writeSampleExport(t, filepath.Join(dir, "users.csv"), m.Users.Columns, userFields)
			r := runCLI(t, "validate", "--groups", groups, "--users", users, "--mapping", file)
			if r.code != 0 {
				t.Errorf("convirza-sync validate with %s on a one-row export in its columns: exit %d\n%s%s", file, r.code, r.stdout, r.stderr)
			}
		})
	}
}

// sampleValues is one valid row, by canonical field.
var sampleValues = map[string]string{
	"org_unit_ext_id": "F-1", "org_unit_name": "Fleet Sample", "parent_ext_id": "", "parent_name": "",
	"address": "1 Main St", "city": "Boston", "state": "MA", "zip": "02110", "phone_number": "+1 617 555 0100",
	"industry": "Automotive", "industry_id": "",
	"email": "sample@example.com", "first_name": "Sam", "last_name": "Ple", "role": "standard",
	"group_ext_id": "F-1", "user_ext_id": "U-1",
}

// writeSampleExport writes a one-row CSV whose header is the mapped
// columns, and returns its path.
func writeSampleExport(t *testing.T, file string, columns map[string]string, fields []string) string {
	t.Helper()
	var header, row []string
	seen := map[string]bool{}
	for _, f := range fields {
		col, ok := columns[f]
		if !ok || seen[col] {
			continue
		}
		seen[col] = true
		header = append(header, col)
		row = append(row, sampleValues[f])
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(header)
	_ = w.Write(row)
	w.Flush()
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestFleetBuild renders the fleet as `kubectl kustomize` does: every
// CronJob passes the checks of the base, there is one nightly sync per
// account, and each reads its own Secret, mapping and export, at its own
// time.
func TestFleetBuild(t *testing.T) {
	tr := loadTree(t)
	accounts := fleetAccounts(t, tr)
	bundle, err := decodeDocs("kustomize "+fleetDir, kustomizeBuild(t, fleetDir))
	if err != nil {
		t.Fatal(err)
	}
	// Each account's Secret is created with kubectl, in the example's shape.
	example := tr.objects[secretExample][0].obj.(*corev1.Secret)
	for _, a := range accounts {
		s := example.DeepCopy()
		s.Name = "convirza-sync-credentials-" + a
		bundle = append(bundle, object{file: secretExample, kind: "Secret", obj: s})
	}
	checkBundle(t, bundle)

	nightly := map[string]*batchv1.CronJob{} // account -> its sync
	for _, cj := range cronJobs(bundle) {
		a := cj.Labels["convirza-sync/account"]
		if a == "" || !strings.HasSuffix(cj.Name, "-"+a) {
			t.Errorf("CronJob %s: account label %q does not match its name", cj.Name, a)
			continue
		}
		spec := cj.Spec.JobTemplate.Spec.Template.Spec
		c := spec.Containers[0]
		flags := argFlags(c.Args)
		for _, v := range []struct {
			what, got string
		}{
			{"Secret", secretOf(spec)},
			{"mapping ConfigMap", configMapName(volumeAt(spec, c, flags["mapping"]))},
			{"export PVC", claimName(volumeAt(spec, c, flags["groups"]))},
		} {
			if !strings.HasSuffix(v.got, "-"+a) {
				t.Errorf("CronJob %s: its %s is %q, not account %s's own", cj.Name, v.what, v.got, a)
			}
		}
		if flags["dry-run"] != "true" {
			if other, dup := nightly[a]; dup {
				t.Errorf("account %s has two nightly syncs: %s and %s", a, other.Name, cj.Name)
			}
			nightly[a] = cj
		}
	}
	got := make([]string, 0, len(nightly))
	for a := range nightly {
		got = append(got, a)
	}
	sort.Strings(got)
	want := append([]string(nil), accounts...)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("nightly syncs for accounts %q, want one for each of %q", got, want)
	}
	at := map[string]string{} // schedule -> account
	for a, cj := range nightly {
		if other, dup := at[cj.Spec.Schedule]; dup {
			t.Errorf("accounts %s and %s both start at %q: stagger them", other, a, cj.Spec.Schedule)
		}
		at[cj.Spec.Schedule] = a
	}
}

func secretOf(spec corev1.PodSpec) string {
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			return v.Secret.SecretName
		}
	}
	return ""
}

func configMapName(v *corev1.Volume) string {
	if v == nil || v.ConfigMap == nil {
		return ""
	}
	return v.ConfigMap.Name
}

func claimName(v *corev1.Volume) string {
	if v == nil || v.PersistentVolumeClaim == nil {
		return ""
	}
	return v.PersistentVolumeClaim.ClaimName
}
