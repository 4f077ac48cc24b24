package plan

import (
	"flag"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    Limit
		str     string
		wantErr string
	}{
		{in: "5", want: CountLimit(5), str: "5"},
		{in: " 0 ", want: CountLimit(0), str: "0"},
		{in: "10%", want: PercentLimit(10), str: "10%"},
		{in: "2.5 %", want: PercentLimit(2.5), str: "2.5%"},
		{in: "", want: NoLimit(), str: "off"},
		{in: "off", want: NoLimit(), str: "off"},
		{in: "OFF", want: NoLimit(), str: "off"},
		{in: "-1", wantErr: `parse limit "-1": want a count ("5"), a percentage ("10%") or "off"`},
		{in: "ten", wantErr: `parse limit "ten": want a count ("5"), a percentage ("10%") or "off"`},
		{in: "150%", wantErr: `parse limit "150%": want a percentage from 0% to 100%`},
		{in: "x%", wantErr: `parse limit "x%": want a percentage from 0% to 100%`},
	}
	for _, tt := range tests {
		got, err := ParseLimit(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseLimit(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseLimit(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(Limit{})); diff != "" {
			t.Errorf("ParseLimit(%q) (-want +got):\n%s", tt.in, diff)
		}
		if got.String() != tt.str {
			t.Errorf("ParseLimit(%q).String() = %q, want %q", tt.in, got.String(), tt.str)
		}
	}
}

func TestLimitAllowed(t *testing.T) {
	tests := []struct {
		lim     Limit
		base    int
		allowed int
		applies bool
	}{
		{CountLimit(3), 2, 3, true},
		{PercentLimit(10), 9, 0, false},
		{PercentLimit(10), 10, 1, true},
		{PercentLimit(10), 39, 3, true},
		{PercentLimit(33.3), 1000, 333, true},
		{NoLimit(), 1000, 0, false},
	}
	for _, tt := range tests {
		allowed, applies := tt.lim.allowed(tt.base, MinPercentBase)
		if allowed != tt.allowed || applies != tt.applies {
			t.Errorf("%s of %d = %d, %v; want %d, %v", tt.lim, tt.base, allowed, applies, tt.allowed, tt.applies)
		}
	}
	var zero Limit
	if !zero.IsZero() || zero.orDefault(DefaultMaxDeletes).String() != "10%" || zero.orDefault(DefaultMaxChanges).String() != "off" || zero.orDefault(DefaultMaxInvalid).String() != "0" {
		t.Errorf("the zero Limit does not stand for the defaults")
	}
	var v flag.Value = &zero
	if err := v.Set("7"); err != nil || v.String() != "7" {
		t.Errorf("Set(7) = %v, String() = %q", err, v.String())
	}
}
