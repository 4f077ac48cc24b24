package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

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
	b, err := os.ReadFile(file)
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
