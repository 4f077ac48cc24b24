package normalize

import "testing"

func TestExtIDKey(t *testing.T) {
	// A known pair: the 18-character form adds a checksum of the case.
	if got := salesforceChecksum("001Hs00000CoRp1"); string(got[:]) != "IAF" {
		t.Errorf("suffix = %q, want IAF", got[:])
	}
	tests := []struct{ in, want string }{
		{"001Dn001wjBTde6IAD", "001Dn001wjBTde6"}, // 18-char, checksum right
		{"001Dn001wjBTde6", "001Dn001wjBTde6"},    // its 15-char form
		{"001Dn001wjBTde6XXX", "001Dn001wjBTde6XXX"},
		{"001dn001wjbtde6IAD", "001dn001wjbtde6IAD"}, // checksum wrong for this case: not Salesforce
		{"{8A7B1C2D-3E4F-5A6B-7C8D-9E0F1A2B3C4D}", "8a7b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"},
		{"8a7b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d", "8a7b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"},
		{" 8A7B1C2D-3E4F-5A6B-7C8D-9E0F1A2B3C4D ", "8a7b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"},
		{"8a7b1c2d3e4f5a6b7c8d9e0f1a2b3c4d", "8a7b1c2d3e4f5a6b7c8d9e0f1a2b3c4d"}, // no dashes: not taken for a GUID
		{"ACME-East", "ACME-East"},
		{"acme-east", "acme-east"},
	}
	for _, tt := range tests {
		if got := ExtIDKey(tt.in); got != tt.want {
			t.Errorf("ExtIDKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExtIDKeyAllocatesNothingForSalesforceIDs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = ExtIDKey("001Dn001wjBTde6IAD") }); n != 0 {
		t.Errorf("ExtIDKey allocates %v times per call", n)
	}
}
