package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSecretFileLimit: a _FILE is read up to 64 KiB; more fails fast, with
// an error that names the variable and shows no content.
func TestSecretFileLimit(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, size int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Repeat("s3cret", size/6+1)[:size]), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		file    string
		wantErr string // "" for success
	}{
		{"64 KiB exactly", write("ok", maxSecretFile), ""},
		{"one byte more", write("big", maxSecretFile+1), "holds more than 64 KiB: not a secret file"},
		{"/dev/zero", "/dev/zero", "/dev/zero holds more than 64 KiB: not a secret file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := os.Stat(tt.file); err != nil {
				t.Skip(err)
			}
			env := map[string]string{"CONVIRZA_TOKEN_FILE": tt.file}
			_, err := loadCredentials(func(k string) string { return env[k] })
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "CONVIRZA_TOKEN_FILE") {
					t.Fatalf("err = %v, want it to name CONVIRZA_TOKEN_FILE and say %q", err, tt.wantErr)
				}
				if exitCode(err) != exitFailed || strings.Contains(err.Error(), "s3cret") {
					t.Errorf("exit %d, error %q: want exit 1 and no content", exitCode(err), err)
				}
			}
		})
	}
}

// TestSecretFileWarnings: a token or password file that others may read
// gets a warning, as ssh gives for a private key; the warning names the
// file, never its content.
func TestSecretFileWarnings(t *testing.T) {
	if !fileModesMean {
		t.Skip("file modes do not say who may read a file here")
	}
	dir := t.TempDir()
	tests := []struct {
		mode os.FileMode
		want []string
	}{
		{0o600, nil},
		{0o400, nil},
		{0o640, []string{"CONVIRZA_TOKEN_FILE %s is readable by its group (mode 0640): make it 0600 or 0400"}},
		{0o644, []string{"CONVIRZA_TOKEN_FILE %s is readable by every user (mode 0644): make it 0600 or 0400"}},
		{0o666, []string{"CONVIRZA_TOKEN_FILE %s is readable by every user (mode 0666): make it 0600 or 0400"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			p := filepath.Join(dir, "token-"+tt.mode.String())
			if err := os.WriteFile(p, []byte("s3cret-token\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, tt.mode); err != nil {
				t.Fatal(err)
			}
			got := secretFileWarnings(func(k string) string {
				return map[string]string{"CONVIRZA_TOKEN_FILE": p, "CONVIRZA_EMAIL": "a@b.c"}[k]
			})
			var want []string
			for _, w := range tt.want {
				want = append(want, strings.ReplaceAll(w, "%s", p))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			for _, w := range got {
				if strings.Contains(w, "s3cret") {
					t.Errorf("a warning shows the secret: %q", w)
				}
			}
		})
	}
	// A Secret mounted by Kubernetes with fsGroup: owned by root, mode 0440,
	// read through the group. That group bit is needed: no warning.
	if w := permissionWarning(0o440, false); w != "" {
		t.Errorf("a group-readable file owned by another user: warning %q", w)
	}
}
