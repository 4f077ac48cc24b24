package examples_test

import (
	"testing"

	"github.com/convirza-sync/convirza-sync/examples"
	"github.com/convirza-sync/convirza-sync/sync/convirza/convirzatest"
)

// The embedded state must be one the sandbox loads.
func TestSandboxStateLoads(t *testing.T) {
	f, err := examples.FS.Open(examples.SandboxState)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := convirzatest.ReadState(f)
	if err != nil {
		t.Fatalf("the embedded sandbox state does not load: %v", err)
	}
	if len(st.Groups) < 10 || len(st.Users) < 5 {
		t.Errorf("the demo state is too small to show anything: %d groups, %d users", len(st.Groups), len(st.Users))
	}
}
