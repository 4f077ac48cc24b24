package kubernetes

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// secretExample is the one manifest that no kustomization lists: it only
// shows the shape of the Secret that users create with kubectl.
const secretExample = "secret.example.yaml"

// object is one decoded YAML document.
type object struct {
	file string // the file it came from, relative to this directory
	doc  int    // its index among the file's documents
	kind string
	obj  any // *batchv1.CronJob, *corev1.ConfigMap, *corev1.Secret or *corev1.PersistentVolumeClaim
}

func (o object) String() string { return fmt.Sprintf("%s#%d (%s)", o.file, o.doc, o.kind) }

func (o object) name() string {
	switch v := o.obj.(type) {
	case *batchv1.CronJob:
		return v.Name
	case *corev1.ConfigMap:
		return v.Name
	case *corev1.Secret:
		return v.Name
	case *corev1.PersistentVolumeClaim:
		return v.Name
	}
	return ""
}

// newObject is the real Kubernetes type of a document.
func newObject(apiVersion, kind string) (any, error) {
	switch apiVersion + " " + kind {
	case "batch/v1 CronJob":
		return &batchv1.CronJob{}, nil
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1 Secret":
		return &corev1.Secret{}, nil
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, nil
	}
	return nil, fmt.Errorf("no type for apiVersion %q kind %q: add it to newObject", apiVersion, kind)
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decodeDocs decodes every document of a YAML stream strictly into its
// real type: an unknown or misspelt field, or a duplicate key, is an error.
func decodeDocs(file string, data []byte) ([]object, error) {
	var out []object
	for i, doc := range docSeparator.Split(string(data), -1) {
		j, err := yaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("%s#%d: %w", file, i, err)
		}
		if string(bytes.TrimSpace(j)) == "null" {
			continue // only comments
		}
		var tm struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := json.Unmarshal(j, &tm); err != nil {
			return nil, fmt.Errorf("%s#%d: read apiVersion and kind: %w", file, i, err)
		}
		obj, err := newObject(tm.APIVersion, tm.Kind)
		if err != nil {
			return nil, fmt.Errorf("%s#%d: %w", file, i, err)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			return nil, fmt.Errorf("%s#%d: decode strictly as %s: %w", file, i, tm.Kind, err)
		}
		if diffs := lost(j, obj); len(diffs) > 0 {
			return nil, fmt.Errorf("%s#%d: decoding as %s loses or changes %s", file, i, tm.Kind, strings.Join(diffs, ", "))
		}
		out = append(out, object{file: file, doc: i, kind: tm.Kind, obj: obj})
	}
	return out, nil
}

// lost lists what of the original JSON does not come back when the decoded
// object is encoded again: a key that encoding/json matched without regard
// to case, say, as the API server would not.
func lost(orig []byte, obj any) []string {
	again, err := json.Marshal(obj)
	if err != nil {
		return []string{err.Error()}
	}
	var a, b any
	if err := json.Unmarshal(orig, &a); err != nil {
		return []string{err.Error()}
	}
	if err := json.Unmarshal(again, &b); err != nil {
		return []string{err.Error()}
	}
	return subset(a, b, "")
}

// subset reports where want is not contained in got. Scalars compare as
// text, since "1" and 1 are the same quantity.
func subset(want, got any, at string) []string {
	switch w := want.(type) {
	case map[string]any:
		g, _ := got.(map[string]any)
		var out []string
		for k, v := range w {
			gv, ok := g[k]
			if !ok && v != nil {
				out = append(out, at+"."+k)
				continue
			}
			out = append(out, subset(v, gv, at+"."+k)...)
		}
		return out
	case []any:
		g, _ := got.([]any)
		if len(g) != len(w) {
			return []string{at}
		}
		var out []string
		for i := range w {
			out = append(out, subset(w[i], g[i], fmt.Sprintf("%s[%d]", at, i))...)
		}
		return out
	case nil:
		if got != nil {
			return []string{at}
		}
		return nil
	}
	if fmt.Sprint(want) != fmt.Sprint(got) {
		return []string{at}
	}
	return nil
}

// kustomization is the part of kustomize's Kustomization that these
// examples use, decoded strictly so that a misspelt field fails.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources,omitempty"`
	NameSuffix string   `json:"nameSuffix,omitempty"`
	Labels     []struct {
		Pairs map[string]string `json:"pairs"`
	} `json:"labels,omitempty"`
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
	} `json:"images,omitempty"`
	ConfigMapGenerator []struct {
		Name     string   `json:"name"`
		Behavior string   `json:"behavior,omitempty"`
		Files    []string `json:"files,omitempty"`
		Options  *struct {
			Labels map[string]string `json:"labels,omitempty"`
		} `json:"options,omitempty"`
	} `json:"configMapGenerator,omitempty"`
	Patches []struct {
		Path   string `json:"path,omitempty"`
		Patch  string `json:"patch,omitempty"`
		Target *struct {
			Kind string `json:"kind,omitempty"`
			Name string `json:"name,omitempty"`
		} `json:"target,omitempty"`
	} `json:"patches,omitempty"`
}

// tree is every manifest of this directory, decoded.
type tree struct {
	objects  map[string][]object // by file
	kusts    map[string]*kustomization
	resource map[string]bool // files a kustomization lists as resources
	patch    map[string]bool // files a kustomization lists as patches
}

func loadTree(t *testing.T) *tree {
	t.Helper()
	tr := &tree{objects: map[string][]object{}, kusts: map[string]*kustomization{}, resource: map[string]bool{}, patch: map[string]bool{}}
	// First the kustomizations, then every other YAML file but the files
	// a configMapGenerator turns into data (a mapping.yaml is no manifest).
	generated := map[string]bool{}
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Base(filepath.ToSlash(p)) != "kustomization.yaml" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		p = filepath.ToSlash(p)
		k := &kustomization{}
		if err := yaml.UnmarshalStrict(data, k); err != nil {
			return fmt.Errorf("%s: decode strictly as a Kustomization: %w", p, err)
		}
		tr.kusts[p] = k
		for _, g := range k.ConfigMapGenerator {
			for _, f := range g.Files {
				if _, file, ok := strings.Cut(f, "="); ok {
					f = file
				}
				generated[path.Join(path.Dir(p), f)] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(p) != ".yaml" && filepath.Ext(p) != ".yml") {
			return err
		}
		p = filepath.ToSlash(p)
		if path.Base(p) == "kustomization.yaml" || generated[p] {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		objs, err := decodeDocs(p, data)
		if err != nil {
			return err
		}
		if len(objs) == 0 {
			return fmt.Errorf("%s holds no manifest", p)
		}
		tr.objects[p] = objs
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestManifestsDecodeStrictly: every YAML file decodes strictly into the
// real types, every kustomization names files that exist, and no manifest
// escapes the kustomizations (and so the checks below) but the Secret's
// example.
func TestManifestsDecodeStrictly(t *testing.T) {
	tr := loadTree(t)
	if len(tr.kusts) == 0 || len(tr.objects) == 0 {
		t.Fatalf("found %d kustomizations and %d manifest files", len(tr.kusts), len(tr.objects))
	}
	for kp, k := range tr.kusts {
		dir := path.Dir(kp)
		if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
			t.Errorf("%s: apiVersion %q kind %q", kp, k.APIVersion, k.Kind)
		}
		for _, r := range k.Resources {
			p := path.Join(dir, r)
			fi, err := os.Stat(p)
			switch {
			case err != nil:
				t.Errorf("%s: resource %s: %v", kp, r, err)
			case fi.IsDir():
				if _, ok := tr.kusts[path.Join(p, "kustomization.yaml")]; !ok {
					t.Errorf("%s: resource %s is a directory without a kustomization.yaml", kp, r)
				}
			default:
				if _, ok := tr.objects[p]; !ok {
					t.Errorf("%s: resource %s is not a manifest this test decodes", kp, r)
				}
				tr.resource[p] = true
			}
		}
		for _, g := range k.ConfigMapGenerator {
			for _, f := range g.Files {
				if _, err := os.Stat(path.Join(dir, f)); err != nil {
					t.Errorf("%s: configMapGenerator %s: %v", kp, g.Name, err)
				}
			}
		}
		for i, pt := range k.Patches {
			switch {
			case pt.Path != "" && pt.Patch == "":
				p := path.Join(dir, pt.Path)
				if _, ok := tr.objects[p]; !ok {
					t.Errorf("%s: patch %s is not a manifest this test decodes", kp, pt.Path)
				}
				tr.patch[p] = true
			case pt.Patch != "" && pt.Path == "":
				// An inline patch: decode it without its $patch directive.
				var m map[string]any
				if err := yaml.Unmarshal([]byte(pt.Patch), &m); err != nil {
					t.Errorf("%s: inline patch %d: %v", kp, i, err)
					continue
				}
				delete(m, "$patch")
				data, _ := json.Marshal(m)
				if _, err := decodeDocs(fmt.Sprintf("%s patch %d", kp, i), data); err != nil {
					t.Error(err)
				}
			default:
				t.Errorf("%s: patch %d needs exactly one of path and patch", kp, i)
			}
		}
	}
	for f, objs := range tr.objects {
		switch {
		case f == secretExample:
			if len(objs) != 1 || objs[0].kind != "Secret" {
				t.Errorf("%s holds %v, want one Secret", f, objs)
			}
			if tr.resource[f] || tr.patch[f] {
				t.Errorf("%s is listed in a kustomization: applying it would overwrite the real Secret with placeholders", f)
			}
		case tr.resource[f] && tr.patch[f]:
			t.Errorf("%s is both a resource and a patch", f)
		case !tr.resource[f] && !tr.patch[f]:
			t.Errorf("%s is in no kustomization, so nothing applies it and it escapes these checks", f)
		}
	}
}

// TestSecretExampleIsFake: the example Secret's values are placeholders
// that no one could mistake for real credentials, in clear text.
func TestSecretExampleIsFake(t *testing.T) {
	data, err := os.ReadFile(secretExample)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeDocs(secretExample, data)
	if err != nil {
		t.Fatal(err)
	}
	s := objs[0].obj.(*corev1.Secret)
	if len(s.Data) != 0 {
		t.Errorf("%s has base64 data; use stringData, so the placeholders show", secretExample)
	}
	if len(s.StringData) == 0 {
		t.Errorf("%s has no stringData", secretExample)
	}
	for k, v := range s.StringData {
		if !strings.HasPrefix(v, "REPLACE-ME") || !strings.Contains(v, "fake") {
			t.Errorf("%s: the value of %s should start with REPLACE-ME and say fake", secretExample, k)
		}
	}
}

// bundleOf is what a kustomization's resources decode to (one level: the
// base lists files), plus the Secret's example, which kubectl creates.
func bundleOf(t *testing.T, tr *tree, kust string) []object {
	t.Helper()
	k, ok := tr.kusts[kust]
	if !ok {
		t.Fatalf("no %s", kust)
	}
	var out []object
	for _, r := range k.Resources {
		objs, ok := tr.objects[path.Join(path.Dir(kust), r)]
		if !ok {
			t.Fatalf("%s: resource %s is not a decoded manifest", kust, r)
		}
		out = append(out, objs...)
	}
	return append(out, tr.objects[secretExample]...)
}

func TestBase(t *testing.T) {
	tr := loadTree(t)
	bundle := bundleOf(t, tr, "base/kustomization.yaml")
	checkBundle(t, bundle)
	checkExportFrom(t, bundle, "persistentVolumeClaim")
}

// TestKustomizeBuild renders both variants as `kubectl kustomize` does and
// checks what it renders, as it would be applied.
func TestKustomizeBuild(t *testing.T) {
	secret := loadTree(t).objects[secretExample]
	for dir, exportFrom := range map[string]string{".": "persistentVolumeClaim", "small-export": "configMap"} {
		t.Run(dir, func(t *testing.T) {
			objs, err := decodeDocs("kustomize "+dir, kustomizeBuild(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			bundle := append(objs, secret...)
			checkBundle(t, bundle)
			checkExportFrom(t, bundle, exportFrom)
		})
	}
}

// checkExportFrom checks that every CronJob reads the export from the
// given kind of volume, and that the bundle holds no unused export PVC.
func checkExportFrom(t *testing.T, bundle []object, source string) {
	t.Helper()
	exportPVCs := 0
	for _, o := range bundle {
		if pvc, ok := o.obj.(*corev1.PersistentVolumeClaim); ok && strings.Contains(pvc.Name, "export") {
			exportPVCs++
		}
	}
	for _, cj := range cronJobs(bundle) {
		spec := cj.Spec.JobTemplate.Spec.Template.Spec
		for _, c := range spec.Containers {
			flags := argFlags(c.Args)
			v := volumeAt(spec, c, flags["groups"])
			switch {
			case v == nil:
				t.Errorf("CronJob %s: no volume holds --groups %s", cj.Name, flags["groups"])
			case source == "persistentVolumeClaim" && v.PersistentVolumeClaim == nil,
				source == "configMap" && (v.ConfigMap == nil || v.PersistentVolumeClaim != nil):
				t.Errorf("CronJob %s: the export volume %s is not (only) a %s", cj.Name, v.Name, source)
			}
		}
	}
	if source == "configMap" && exportPVCs != 0 {
		t.Errorf("the export comes from a ConfigMap, but an export PVC is still created")
	}
	if source == "persistentVolumeClaim" && exportPVCs != 1 {
		t.Errorf("%d export PVCs, want 1", exportPVCs)
	}
}

func cronJobs(bundle []object) []*batchv1.CronJob {
	var out []*batchv1.CronJob
	for _, o := range bundle {
		if cj, ok := o.obj.(*batchv1.CronJob); ok {
			out = append(out, cj)
		}
	}
	return out
}

func find[T any](bundle []object, name string) *T {
	for _, o := range bundle {
		if v, ok := o.obj.(*T); ok && o.name() == name {
			return v
		}
	}
	return nil
}

// argFlags reads "--name value" and "--name=value" pairs loosely, for
// lookups; checkArgs is the strict reading.
func argFlags(args []string) map[string]string {
	out := map[string]string{}
	for i := 1; i < len(args); i++ {
		name, ok := strings.CutPrefix(args[i], "--")
		if !ok {
			continue
		}
		if n, v, ok := strings.Cut(name, "="); ok {
			out[n] = v
		} else if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			out[name] = args[i+1]
			i++
		} else {
			out[name] = "true"
		}
	}
	return out
}

// mountAt is the container's mount that holds file, the deepest one.
func mountAt(c corev1.Container, file string) *corev1.VolumeMount {
	var best *corev1.VolumeMount
	for i, m := range c.VolumeMounts {
		dir := strings.TrimSuffix(m.MountPath, "/") + "/"
		if strings.HasPrefix(file, dir) && (best == nil || len(m.MountPath) > len(best.MountPath)) {
			best = &c.VolumeMounts[i]
		}
	}
	return best
}

func volumeAt(spec corev1.PodSpec, c corev1.Container, file string) *corev1.Volume {
	m := mountAt(c, file)
	if m == nil {
		return nil
	}
	for i, v := range spec.Volumes {
		if v.Name == m.Name {
			return &spec.Volumes[i]
		}
	}
	return nil
}

// The flags that name files the job reads, and those it writes.
var (
	inputFlags  = []string{"groups", "users", "mapping"}
	outputFlags = []string{"report", "results", "undo", "metrics-file", "out", "out-dir"}
	// planFlags decide the plan: a dry run must use the same values as the
	// run it previews, or it reviews another plan.
	planFlags = []string{"groups", "users", "mapping", "input-format", "root", "policy",
		"max-deletes", "max-changes", "max-invalid", "force", "api-url"}
)

// credentialVars are the variables that may carry credentials: paths to
// files of a mounted Secret, never the values.
var credentialVars = map[string]string{
	"CONVIRZA_TOKEN_FILE": "token", "CONVIRZA_EMAIL_FILE": "email", "CONVIRZA_PASSWORD_FILE": "password",
}

// checkBundle checks every CronJob of a bundle: settings, security, and
// that the CLI accepts what it is given.
func checkBundle(t *testing.T, bundle []object) {
	t.Helper()
	cjs := cronJobs(bundle)
	if len(cjs) == 0 {
		t.Fatal("no CronJob")
	}
	settings := map[string]map[string]string{} // CronJob -> plan settings
	dryRuns := 0
	for _, cj := range cjs {
		t.Run(cj.Name, func(t *testing.T) {
			checkCronJob(t, cj)
			spec := cj.Spec.JobTemplate.Spec.Template.Spec
			if len(spec.Containers) != 1 {
				t.Fatalf("%d containers, want 1", len(spec.Containers))
			}
			c := spec.Containers[0]
			flags := checkArgs(t, c.Args)
			env := checkEnv(t, c, flags, bundle, spec)
			checkGrace(t, cj, c.Args[0], flags, env)
			checkPaths(t, spec, c, flags, bundle)

			s := map[string]string{}
			for _, f := range planFlags {
				if v, ok := flags[f]; ok {
					s[f] = v
				} else if v, ok := env[f]; ok {
					s[f] = v
				}
			}
			settings[cj.Name] = s
			if flags["dry-run"] == "true" {
				dryRuns++
				// Markdown for the pull request, HTML to look at, side by side.
				var exts []string
				for _, p := range strings.Split(flags["report"], ",") {
					exts = append(exts, path.Ext(p))
				}
				if diff := cmp.Diff([]string{".md", ".html"}, exts); diff != "" {
					t.Errorf("the dry run writes --report %q, want plan.md,plan.html (-want +got):\n%s", flags["report"], diff)
				}
			} else if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
				t.Errorf("the sync CronJob is suspended")
			}
		})
	}
	if dryRuns == 0 {
		t.Error("no dry-run CronJob (sync --dry-run)")
	}
	for _, dry := range cjs {
		for _, run := range cjs {
			da, ra := dry.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args, run.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args
			if argFlags(da)["dry-run"] != "true" || argFlags(ra)["dry-run"] == "true" {
				continue
			}
			if diff := cmp.Diff(settings[run.Name], settings[dry.Name]); diff != "" {
				t.Errorf("the dry run %s plans with other settings than %s (-%s +%s):\n%s", dry.Name, run.Name, run.Name, dry.Name, diff)
			}
		}
	}
}

func checkCronJob(t *testing.T, cj *batchv1.CronJob) {
	t.Helper()
	s := cj.Spec
	if got := len(strings.Fields(s.Schedule)); got != 5 {
		t.Errorf("schedule %q has %d fields, want 5", s.Schedule, got)
	}
	if s.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("concurrencyPolicy %q, want Forbid: two syncs must never overlap", s.ConcurrencyPolicy)
	}
	if s.StartingDeadlineSeconds == nil || *s.StartingDeadlineSeconds <= 0 {
		t.Error("no startingDeadlineSeconds")
	}
	js := s.JobTemplate.Spec
	if js.BackoffLimit == nil {
		t.Error("no backoffLimit")
	}
	if js.ActiveDeadlineSeconds == nil || *js.ActiveDeadlineSeconds <= 0 {
		t.Error("no activeDeadlineSeconds")
	}
	ps := js.Template.Spec
	if ps.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q, want Never (podFailurePolicy needs it)", ps.RestartPolicy)
	}
	if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken should be false: the job never calls the Kubernetes API")
	}
	if fp := js.PodFailurePolicy; fp != nil {
		for _, r := range fp.Rules {
			if r.OnExitCodes != nil && r.OnExitCodes.ContainerName != nil && !hasContainer(ps, *r.OnExitCodes.ContainerName) {
				t.Errorf("podFailurePolicy names container %q, which the pod does not have", *r.OnExitCodes.ContainerName)
			}
		}
	}
	psc := ps.SecurityContext
	for _, c := range ps.Containers {
		sc := c.SecurityContext
		if sc == nil {
			t.Errorf("container %s: no securityContext", c.Name)
			continue
		}
		nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (sc.RunAsNonRoot == nil && psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot)
		if !nonRoot {
			t.Errorf("container %s: runAsNonRoot is not true", c.Name)
		}
		uid := sc.RunAsUser
		if uid == nil && psc != nil {
			uid = psc.RunAsUser
		}
		if uid != nil && *uid == 0 {
			t.Errorf("container %s: runs as uid 0", c.Name)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("container %s: readOnlyRootFilesystem is not true", c.Name)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("container %s: allowPrivilegeEscalation is not false", c.Name)
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Errorf("container %s: privileged", c.Name)
		}
		if sc.Capabilities == nil || len(sc.Capabilities.Add) != 0 || !containsCap(sc.Capabilities.Drop, "ALL") {
			t.Errorf("container %s: capabilities should drop ALL and add none", c.Name)
		}
		seccomp := sc.SeccompProfile
		if seccomp == nil && psc != nil {
			seccomp = psc.SeccompProfile
		}
		if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("container %s: seccompProfile is not RuntimeDefault", c.Name)
		}
		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, okReq := c.Resources.Requests[res]
			lim, okLim := c.Resources.Limits[res]
			if !okReq || !okLim || req.IsZero() || lim.Cmp(req) < 0 {
				t.Errorf("container %s: %s needs a request and a limit no lower than it", c.Name, res)
			}
		}
		if c.Image == "" {
			t.Errorf("container %s: no image", c.Name)
		}
		if len(c.Command) != 0 {
			t.Errorf("container %s: command %q replaces the image's entrypoint; pass args only", c.Name, c.Command)
		}
	}
}

func hasContainer(ps corev1.PodSpec, name string) bool {
	for _, c := range ps.Containers {
		if c.Name == name {
			return true
		}
	}
	return false
}

func containsCap(caps []corev1.Capability, want corev1.Capability) bool {
	for _, c := range caps {
		if c == want {
			return true
		}
	}
	return false
}

// checkArgs runs the CLI with the args and --help appended: it exits 0
// only when every flag before --help parses. Then it reads the args
// strictly, with the CLI's own idea of which flags are booleans, so that
// no stray word passes as a positional argument. It returns the flags.
func checkArgs(t *testing.T, args []string) map[string]string {
	t.Helper()
	if len(args) == 0 {
		t.Fatal("no args: the image's default command would run")
	}
	command := args[0]
	known := helpFlags(t, command)
	if last, ok := strings.CutPrefix(args[len(args)-1], "--"); ok && !strings.Contains(last, "=") && !isBool(t, command, last) {
		// "--help" would become its value, and the command would run.
		t.Fatalf("the last arg --%s has no value", last)
	}
	if r := runCLI(t, append(append([]string{}, args...), "--help")...); r.code != 0 {
		t.Fatalf("convirza-sync %s --help: exit %d, want 0: the CLI refuses these args:\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	flags := map[string]string{}
	for i := 1; i < len(args); i++ {
		a := args[i]
		name, ok := strings.CutPrefix(a, "--")
		if !ok {
			t.Errorf("arg %q is not a flag: %s takes no positional argument here", a, command)
			continue
		}
		var value string
		if n, v, ok := strings.Cut(name, "="); ok {
			name, value = n, v
		} else if isBool(t, command, name) {
			value = "true"
		} else if i+1 < len(args) {
			i++
			value = args[i]
			if strings.HasPrefix(value, "--") {
				t.Errorf("--%s takes %q as its value", name, value)
			}
		}
		if _, ok := known[name]; !ok {
			t.Errorf("--%s is not a flag of %s", name, command)
		}
		if _, dup := flags[name]; dup {
			t.Errorf("--%s is given twice", name)
		}
		flags[name] = value
	}
	return flags
}

// checkEnv checks every variable: CONVIRZA_SYNC_* name real flags with
// values that parse, and credentials are files of a mounted Secret. It
// returns the flags set through the environment.
func checkEnv(t *testing.T, c corev1.Container, flags map[string]string, bundle []object, spec corev1.PodSpec) map[string]string {
	t.Helper()
	command := c.Args[0]
	byEnv := map[string]string{}
	for name, f := range helpFlags(t, command) {
		byEnv[f.env] = name
	}
	set := map[string]string{}
	creds := map[string]bool{}
	for _, e := range c.EnvFrom {
		t.Errorf("envFrom %+v: list variables one by one, so that this test can check them", e)
	}
	for _, e := range c.Env {
		switch {
		case strings.HasPrefix(e.Name, "CONVIRZA_SYNC_"):
			flag, ok := byEnv[e.Name]
			if !ok {
				t.Errorf("%s names no flag of %s (its --help lists each flag's variable)", e.Name, command)
				continue
			}
			if e.ValueFrom != nil {
				t.Errorf("%s: a setting takes a plain value", e.Name)
				continue
			}
			if r := runCLI(t, command, "--"+flag+"="+e.Value, "--help"); r.code != 0 {
				t.Errorf("%s=%q: the CLI refuses it as --%s (exit %d):\n%s", e.Name, e.Value, flag, r.code, r.stderr)
			}
			if _, both := flags[flag]; both {
				t.Errorf("--%s is set both as a flag and as %s; the flag wins, which misleads", flag, e.Name)
			}
			set[flag] = e.Value
		case credentialVars[e.Name] != "":
			creds[e.Name] = true
			checkSecretFile(t, e, spec, c, bundle)
		case e.Name == "CONVIRZA_API_URL" || e.Name == "CONVIRZA_AUTH_URL":
			if !strings.HasPrefix(e.Value, "https://") {
				t.Errorf("%s=%q is not https", e.Name, e.Value)
			}
		case strings.HasPrefix(e.Name, "CONVIRZA_"):
			t.Errorf("%s: credentials come as *_FILE paths to a mounted Secret, and settings as CONVIRZA_SYNC_*; this is neither", e.Name)
		}
	}
	if !creds["CONVIRZA_TOKEN_FILE"] && !(creds["CONVIRZA_EMAIL_FILE"] && creds["CONVIRZA_PASSWORD_FILE"]) {
		t.Error("no credentials: set CONVIRZA_TOKEN_FILE, or CONVIRZA_EMAIL_FILE and CONVIRZA_PASSWORD_FILE")
	}
	return set
}

// checkSecretFile checks that a *_FILE variable points at a key of the
// example Secret, mounted read-only.
func checkSecretFile(t *testing.T, e corev1.EnvVar, spec corev1.PodSpec, c corev1.Container, bundle []object) {
	t.Helper()
	if e.ValueFrom != nil || e.Value == "" {
		t.Errorf("%s should be a plain path to a file", e.Name)
		return
	}
	m := mountAt(c, e.Value)
	v := volumeAt(spec, c, e.Value)
	if m == nil || v == nil || v.Secret == nil {
		t.Errorf("%s=%s is not in a mounted Secret", e.Name, e.Value)
		return
	}
	if !m.ReadOnly {
		t.Errorf("the Secret volume %s is not mounted read-only", v.Name)
	}
	if len(v.Secret.Items) != 0 {
		t.Errorf("the Secret volume %s picks items; mount every key as its file", v.Name)
	}
	if v.Secret.DefaultMode != nil && *v.Secret.DefaultMode&0o007 != 0 {
		t.Errorf("the Secret volume %s: mode %#o lets others read the credentials", v.Name, *v.Secret.DefaultMode)
	}
	s := find[corev1.Secret](bundle, v.Secret.SecretName)
	if s == nil {
		t.Errorf("the Secret %s has no example in %s", v.Secret.SecretName, secretExample)
		return
	}
	key := strings.TrimPrefix(e.Value, strings.TrimSuffix(m.MountPath, "/")+"/")
	if _, ok := s.StringData[key]; !ok {
		t.Errorf("%s=%s: the Secret %s has no key %q", e.Name, e.Value, s.Name, key)
	}
}

// checkGrace: the pod's grace period outlasts --grace, so that after
// SIGTERM the job can finish its in-flight calls and write its results.
func checkGrace(t *testing.T, cj *batchv1.CronJob, command string, flags, env map[string]string) {
	t.Helper()
	v, ok := flags["grace"]
	if !ok {
		v, ok = env["grace"]
	}
	if !ok {
		f, known := helpFlags(t, command)["grace"]
		if !known {
			t.Errorf("%s has no --grace flag", command)
			return
		}
		v = f.def
	}
	grace, err := time.ParseDuration(v)
	if err != nil {
		t.Errorf("--grace %q: %v", v, err)
		return
	}
	tg := cj.Spec.JobTemplate.Spec.Template.Spec.TerminationGracePeriodSeconds
	if tg == nil || time.Duration(*tg)*time.Second <= grace {
		t.Errorf("terminationGracePeriodSeconds %v is not above --grace %s", deref(tg), grace)
	}
}

func deref(p *int64) any {
	if p == nil {
		return "unset"
	}
	return *p
}

// checkPaths: files read are on mounts that hold them; files written are
// on writable mounts, since the root filesystem is read-only.
func checkPaths(t *testing.T, spec corev1.PodSpec, c corev1.Container, flags map[string]string, bundle []object) {
	t.Helper()
	for _, f := range inputFlags {
		p, ok := flags[f]
		if !ok {
			continue
		}
		v := volumeAt(spec, c, p)
		switch {
		case v == nil:
			t.Errorf("--%s %s is on no volume", f, p)
		case v.ConfigMap != nil:
			cm := find[corev1.ConfigMap](bundle, v.ConfigMap.Name)
			if cm == nil {
				t.Errorf("--%s %s: the ConfigMap %s is not in the bundle", f, p, v.ConfigMap.Name)
			} else if _, ok := cm.Data[path.Base(p)]; !ok {
				t.Errorf("--%s %s: the ConfigMap %s has no key %s", f, p, cm.Name, path.Base(p))
			}
		case v.PersistentVolumeClaim != nil:
			if find[corev1.PersistentVolumeClaim](bundle, v.PersistentVolumeClaim.ClaimName) == nil {
				t.Errorf("--%s %s: the PVC %s is not in the bundle", f, p, v.PersistentVolumeClaim.ClaimName)
			}
		}
		if m := mountAt(c, p); m != nil && !m.ReadOnly {
			t.Errorf("--%s %s: the input volume %s is not mounted read-only", f, p, m.Name)
		}
	}
	outputs := 0
	for _, f := range outputFlags {
		value, ok := flags[f]
		if !ok {
			continue
		}
		paths := []string{value}
		if f == "report" { // --report takes several paths: plan.md,plan.html
			paths = strings.Split(value, ",")
		}
		for _, p := range paths {
			outputs++
			m, v := mountAt(c, p), volumeAt(spec, c, p)
			switch {
			case m == nil || v == nil:
				t.Errorf("--%s %s is on the read-only root filesystem", f, p)
			case m.ReadOnly || v.ConfigMap != nil || v.Secret != nil || (v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ReadOnly):
				t.Errorf("--%s %s is on the read-only volume %s", f, p, v.Name)
			case v.EmptyDir == nil && v.PersistentVolumeClaim == nil:
				t.Errorf("--%s %s: volume %s is neither an emptyDir nor a PVC", f, p, v.Name)
			}
			if v != nil && v.PersistentVolumeClaim != nil && find[corev1.PersistentVolumeClaim](bundle, v.PersistentVolumeClaim.ClaimName) == nil {
				t.Errorf("--%s %s: the PVC %s is not in the bundle", f, p, v.PersistentVolumeClaim.ClaimName)
			}
		}
	}
	if outputs == 0 {
		t.Error("the job writes no report or results")
	}
}

// TestMappingMatchesSampleExport: the mapping in the ConfigMap uses the
// documented fields, and the small-export sample carries every column it
// maps. When the CLI's validate command is built, it checks the pair too.
func TestMappingMatchesSampleExport(t *testing.T) {
	tr := loadTree(t)
	cm := find[corev1.ConfigMap](bundleOf(t, tr, "base/kustomization.yaml"), "convirza-sync-mapping")
	if cm == nil {
		t.Fatal("no ConfigMap convirza-sync-mapping")
	}
	m := decodeMapping(t, "base mapping.yaml", []byte(cm.Data["mapping.yaml"]))
	for _, tc := range []struct {
		file    string
		columns map[string]string
		fields  []string
	}{
		{"small-export/groups.csv", m.Groups.Columns, groupFields},
		{"small-export/users.csv", m.Users.Columns, userFields},
	} {
		header := csvHeader(t, tc.file)
		var missing, unknown []string
		for field, col := range tc.columns {
			if !contains(tc.fields, field) {
				unknown = append(unknown, field)
			}
			if !contains(header, col) {
				missing = append(missing, col)
			}
		}
		sort.Strings(missing)
		sort.Strings(unknown)
		if len(missing)+len(unknown) > 0 {
			t.Errorf("%s: mapped columns missing from the header: %q; unknown fields: %q", tc.file, missing, unknown)
		}
	}

	mapping := filepath.Join(t.TempDir(), "mapping.yaml")
	if err := os.WriteFile(mapping, []byte(cm.Data["mapping.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "validate", "--groups", "small-export/groups.csv", "--users", "small-export/users.csv", "--mapping", mapping)
	if r.code != 0 {
		t.Errorf("convirza-sync validate on the sample export and the mapping: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// mappingFile is the part of the mapping file these examples use, decoded
// strictly so that a misspelt key fails.
type mappingFile struct {
	Groups *struct {
		Columns    map[string]string `json:"columns"`
		Industries map[string]string `json:"industries,omitempty"`
		Empty      map[string]string `json:"empty,omitempty"`
	} `json:"groups"`
	Users *struct {
		Match    string            `json:"match,omitempty"`
		Defaults map[string]string `json:"defaults,omitempty"`
		Columns  map[string]string `json:"columns"`
	} `json:"users"`
}

// The canonical fields of DESIGN.md.
var (
	groupFields = []string{"org_unit_ext_id", "org_unit_name", "parent_ext_id", "parent_name", "address", "city", "state", "zip", "phone_number", "industry", "industry_id"}
	userFields  = []string{"email", "first_name", "last_name", "role", "group_ext_id", "user_ext_id"}
)

// decodeMapping decodes a mapping file strictly; it must map groups and
// users.
func decodeMapping(t *testing.T, name string, data []byte) mappingFile {
	t.Helper()
	var m mappingFile
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if m.Groups == nil || m.Users == nil {
		t.Fatalf("%s maps no groups or no users", name)
	}
	return m
}

func csvHeader(t *testing.T, file string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := csv.NewReader(f).Read()
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return h
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestCLIRefusesUnknownFlags keeps the args check honest: the CLI run the
// way checkArgs runs it does refuse what it does not know.
func TestCLIRefusesUnknownFlags(t *testing.T) {
	for _, args := range [][]string{
		{"sync", "--no-such-flag", "/x", "--help"},
		{"sync", "--groups", "/data/groups.csv", "--rate=fast", "--help"},
		{"no-such-command", "--help"},
	} {
		if r := runCLI(t, args...); r.code != 64 {
			t.Errorf("convirza-sync %s: exit %d, want 64", strings.Join(args, " "), r.code)
		}
	}
	if !isBool(t, "sync", "dry-run") || isBool(t, "sync", "report") || isBool(t, "sync", "rate") {
		t.Error("isBool misreads the flags of sync")
	}
}

// The CLI, built once from the parent module.
var (
	cliOnce sync.Once
	cliDir  string
	cliPath string
	cliErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if cliDir != "" {
		os.RemoveAll(cliDir)
	}
	os.Exit(code)
}

func convirzaSync(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		if cliDir, cliErr = os.MkdirTemp("", "convirza-sync-cli-"); cliErr != nil {
			return
		}
		cliPath = filepath.Join(cliDir, "convirza-sync")
		cmd := exec.Command("go", "build", "-o", cliPath, "./cmd/convirza-sync")
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			cliErr = fmt.Errorf("go build ./cmd/convirza-sync in ../..: %w\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliPath
}

type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs the CLI without any CONVIRZA_* variable of the caller's.
func runCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, convirzaSync(t), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONVIRZA_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return cliResult{0, stdout.String(), stderr.String()}
	case errors.As(err, &ee):
		return cliResult{ee.ExitCode(), stdout.String(), stderr.String()}
	}
	t.Fatalf("run convirza-sync %s: %v", strings.Join(args, " "), err)
	return cliResult{}
}

// flagInfo is a flag as `convirza-sync COMMAND --help` lists it:
// "  --name   usage (default "x") [CONVIRZA_SYNC_NAME]".
type flagInfo struct{ env, def string }

var (
	helpMu    sync.Mutex
	helpCache = map[string]map[string]flagInfo{}
	boolCache = map[[2]string]bool{}
	helpLine  = regexp.MustCompile(`^\s+--([a-z0-9-]+)\s.*\[(CONVIRZA_SYNC_[A-Z0-9_]+)\]\s*$`)
	helpDef   = regexp.MustCompile(`\(default ("(?:[^"\\]|\\.)*")\)\s*\[`)
)

func helpFlags(t *testing.T, command string) map[string]flagInfo {
	t.Helper()
	helpMu.Lock()
	defer helpMu.Unlock()
	if f, ok := helpCache[command]; ok {
		return f
	}
	r := runCLI(t, command, "--help")
	if r.code != 0 {
		t.Fatalf("convirza-sync %s --help: exit %d\n%s", command, r.code, r.stderr)
	}
	flags := map[string]flagInfo{}
	for _, line := range strings.Split(r.stdout, "\n") {
		m := helpLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		fi := flagInfo{env: m[2]}
		if d := helpDef.FindStringSubmatch(line); d != nil {
			if v, err := strconv.Unquote(d[1]); err == nil {
				fi.def = v
			}
		}
		flags[m[1]] = fi
	}
	if len(flags) == 0 {
		t.Fatalf("convirza-sync %s --help lists no flag:\n%s", command, r.stdout)
	}
	helpCache[command] = flags
	return flags
}

// isBool asks the CLI whether a flag is a boolean: a boolean takes "true"
// and refuses "notabool"; a string takes both; numbers and durations
// refuse both. "--flag=value --help" never runs the command.
func isBool(t *testing.T, command, flag string) bool {
	t.Helper()
	key := [2]string{command, flag}
	helpMu.Lock()
	b, ok := boolCache[key]
	helpMu.Unlock()
	if ok {
		return b
	}
	b = runCLI(t, command, "--"+flag+"=true", "--help").code == 0 &&
		runCLI(t, command, "--"+flag+"=notabool", "--help").code == 64
	helpMu.Lock()
	boolCache[key] = b
	helpMu.Unlock()
	return b
}
