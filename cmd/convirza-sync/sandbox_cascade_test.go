package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/convirza-sync/convirza-sync/sync/convirza"
	"github.com/convirza-sync/convirza-sync/sync/state"
)

// TestSandboxDeleteCascade: `sandbox --delete-cascade` plays the older
// backend's group delete (the group, its direct children and their users
// go, and nothing refuses it); without the flag the same delete is refused.
func TestSandboxDeleteCascade(t *testing.T) {
	const northeast = 1003 // five clinics below it, users in it and in them
	for _, tt := range []struct {
		name       string
		flag       []string
		wantStatus int
	}{
		{"refuse", nil, http.StatusBadRequest},
		{"cascade", []string{"--delete-cascade"}, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			served := filepath.Join(dir, "state.json")
			f, err := os.Create(served)
			if err != nil {
				t.Fatal(err)
			}
			before := exampleState(t)
			if err := before.Write(f); err != nil {
				t.Fatal(err)
			}
			f.Close()
			sb := startSandboxCommand(t, dir, append([]string{"--state", served}, tt.flag...)...)
			c, err := convirza.NewClient(convirza.Options{APIURL: sb.url + "/v3", AuthURL: sb.url, Token: sb.token})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Groups.Delete(context.Background(), northeast)
			var ae *convirza.APIError
			switch {
			case tt.wantStatus == http.StatusOK && err != nil:
				t.Fatalf("delete: %v", err)
			case tt.wantStatus != http.StatusOK && (!errors.As(err, &ae) || ae.StatusCode != tt.wantStatus):
				t.Fatalf("delete: %v, want HTTP %d", err, tt.wantStatus)
			}
			sb.stop(t)

			after := readStateFile(t, served)
			took := map[string]bool{} // group ids and emails now deleted
			for _, g := range after.Groups {
				if g.Status == state.StatusDeleted {
					took[idStr(g.ID)] = true
				}
			}
			for _, u := range after.Users {
				if u.Status == state.StatusDeleted {
					took[u.Email] = true
				}
			}
			want := map[string]bool{}
			if tt.wantStatus == http.StatusOK {
				for _, g := range before.Groups {
					if g.ID == northeast || g.ParentID == northeast {
						want[idStr(g.ID)] = true
					}
				}
				for _, u := range before.Users {
					if want[idStr(u.GroupID)] {
						want[u.Email] = true
					}
				}
				if len(want) < 8 {
					t.Fatalf("the example state puts only %d objects in reach of the delete: the test tests little", len(want))
				}
			}
			if diff := cmp.Diff(want, took); diff != "" {
				t.Errorf("deleted by the group delete (-want +got):\n%s", diff)
			}
		})
	}
}
