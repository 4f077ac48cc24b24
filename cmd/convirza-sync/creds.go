package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// maxSecretFile is the most a _FILE may hold: a secret is small, and a path
// to /dev/zero or a log file must fail fast, not fill the memory.
const maxSecretFile = 64 << 10

// credentials come from the environment only, never from flags (flags show
// up in ps). String never shows a secret.
type credentials struct {
	token, email, password string
}

func (c credentials) String() string {
	switch {
	case c.token != "":
		return "static token"
	case c.email != "":
		return "login as " + c.email
	}
	return "none"
}

// vars names the variables these credentials come from.
func (c credentials) vars() string {
	if c.token != "" {
		return "CONVIRZA_TOKEN or CONVIRZA_TOKEN_FILE"
	}
	return "CONVIRZA_EMAIL and CONVIRZA_PASSWORD (or their _FILE twins)"
}

// errNoCredentials names the variables to set; it exits 1.
var errNoCredentials = errors.New("no Convirza credentials: set CONVIRZA_TOKEN (or CONVIRZA_TOKEN_FILE), or CONVIRZA_EMAIL and CONVIRZA_PASSWORD (or their _FILE twins)")

// loadCredentials reads CONVIRZA_TOKEN, CONVIRZA_EMAIL and CONVIRZA_PASSWORD,
// each from the variable or from the file its _FILE twin names (trimmed:
// a mounted Secret ends in a newline). Setting both a variable and its
// _FILE is a usage error. A token wins over email and password.
func loadCredentials(getenv func(string) string) (credentials, error) {
	var c credentials
	for _, v := range []struct {
		name string
		dst  *string
	}{{"CONVIRZA_TOKEN", &c.token}, {"CONVIRZA_EMAIL", &c.email}, {"CONVIRZA_PASSWORD", &c.password}} {
		val, err := secretVar(getenv, v.name)
		if err != nil {
			return credentials{}, err
		}
		*v.dst = val
	}
	switch {
	case c.token != "":
		return credentials{token: c.token}, nil
	case c.email != "" && c.password != "":
		return c, nil
	case c.email != "":
		return credentials{}, errors.New("CONVIRZA_EMAIL is set but CONVIRZA_PASSWORD (or CONVIRZA_PASSWORD_FILE) is not")
	case c.password != "":
		return credentials{}, errors.New("CONVIRZA_PASSWORD is set but CONVIRZA_EMAIL (or CONVIRZA_EMAIL_FILE) is not")
	}
	return credentials{}, errNoCredentials
}

func secretVar(getenv func(string) string, name string) (string, error) {
	val, file := getenv(name), getenv(name+"_FILE")
	if val != "" && file != "" {
		return "", usagef("both %s and %s_FILE are set; set one", name, name)
	}
	if file == "" {
		return strings.TrimSpace(val), nil
	}
	b, err := readSecretFile(file)
	if err != nil {
		// The path is not a secret; the content would be, and is not shown.
		return "", fmt.Errorf("read %s_FILE: %w", name, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s_FILE %s is empty", name, file)
	}
	return s, nil
}

// readSecretFile reads at most maxSecretFile bytes of path, and fails when
// there are more.
func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSecretFile {
		return nil, fmt.Errorf("%s holds more than %d KiB: not a secret file", path, maxSecretFile>>10)
	}
	return b, nil
}

// planKeyVar is the variable (or, with _FILE, the file) that holds the
// key plans are signed and checked with.
const planKeyVar = "CONVIRZA_SYNC_PLAN_KEY"

// loadPlanKey reads the plan key from CONVIRZA_SYNC_PLAN_KEY or the file
// CONVIRZA_SYNC_PLAN_KEY_FILE names, like the credentials: trimmed, at most
// 64 KiB, a warning when others may read the file. None set is a nil key.
// No error or warning shows the key.
func loadPlanKey(getenv func(string) string, warn func(string)) ([]byte, error) {
	v, err := secretVar(getenv, planKeyVar)
	if err != nil {
		return nil, err
	}
	if w := secretFileWarning(getenv, planKeyVar); w != "" {
		warn(w)
	}
	if v == "" {
		return nil, nil
	}
	key := []byte(v)
	if err := plan.CheckKey(key); err != nil {
		return nil, fmt.Errorf("%s: %w", planKeyVar, err)
	}
	return key, nil
}

// secretFileWarnings warns, as ssh does for a private key, about each
// CONVIRZA_TOKEN_FILE or CONVIRZA_PASSWORD_FILE that others may read: one
// readable by all, or by its group when this process reads it as its owner
// (a group bit it does not need). A file owned by another user and read
// through its group, as Kubernetes mounts a Secret with fsGroup, is fine.
// No warning shows the content.
func secretFileWarnings(getenv func(string) string) []string {
	if !fileModesMean {
		return nil
	}
	var out []string
	for _, name := range []string{"CONVIRZA_TOKEN", "CONVIRZA_PASSWORD"} {
		if w := secretFileWarning(getenv, name); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// secretFileWarning is the warning of secretFileWarnings for one
// variable's _FILE, or "".
func secretFileWarning(getenv func(string) string, name string) string {
	file := getenv(name + "_FILE")
	if !fileModesMean || file == "" {
		return ""
	}
	st, err := os.Stat(file)
	if err != nil || !st.Mode().IsRegular() {
		return "" // reading it says what is wrong
	}
	if w := permissionWarning(st.Mode().Perm(), ownedByMe(st)); w != "" {
		return fmt.Sprintf("%s_FILE %s is %s (mode %04o): make it 0600 or 0400", name, file, w, st.Mode().Perm())
	}
	return ""
}

// permissionWarning says who may read a secret file that should not, or ""
// when nobody but its reader may.
func permissionWarning(perm fs.FileMode, mine bool) string {
	switch {
	case perm&0o004 != 0:
		return "readable by every user"
	case perm&0o040 != 0 && mine:
		return "readable by its group"
	}
	return ""
}
