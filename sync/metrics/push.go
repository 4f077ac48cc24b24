package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/push"
)

// pushTimeout bounds a push; ctx may end it sooner.
const pushTimeout = 30 * time.Second

// Push sends r's metrics to the Pushgateway at gatewayURL (e.g.
// http://pushgateway:9091, or host:port), under the grouping key job=job
// and, when r.Command is set, command=r.Command.
//
// A successful run replaces the group's metrics (PUT). A failed run
// replaces every metric of the group but the last-success timestamp (a POST
// without it), so the gateway keeps the time of the last success.
//
// Credentials in the URL (https://user:password@host) are sent as basic
// auth and never appear in an error.
func Push(ctx context.Context, gatewayURL, job string, r Run) error {
	base, user, err := pushTarget(gatewayURL)
	if err != nil {
		return fmt.Errorf("push metrics: %w", err)
	}
	if job == "" {
		return fmt.Errorf("push metrics to %s: the job name is empty", base)
	}
	reg, err := build(r, options{})
	if err != nil {
		return fmt.Errorf("push metrics to %s: %w", base, err)
	}
	p := push.New(base, job).Gatherer(reg).Client(&http.Client{Timeout: pushTimeout})
	if r.Command != "" {
		p = p.Grouping(commandLabel, r.Command)
	}
	if user != nil {
		password, _ := user.Password()
		p = p.BasicAuth(user.Username(), password)
	}
	if r.Success {
		err = p.PushContext(ctx)
	} else {
		err = p.AddContext(ctx)
	}
	if err != nil {
		return fmt.Errorf("push metrics to %s as job %q: %w", base, job, err)
	}
	return nil
}

// CheckPushURL refuses a Pushgateway URL that Push would refuse, before
// any run; its error never shows the URL's credentials.
func CheckPushURL(raw string) error {
	_, _, err := pushTarget(raw)
	return err
}

// pushTarget splits a Pushgateway URL into the URL without credentials,
// which may be shown, and the credentials.
func pushTarget(raw string) (string, *url.Userinfo, error) {
	if raw == "" {
		return "", nil, errors.New("the pushgateway URL is empty")
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's errors quote the URL, credentials included.
		return "", nil, errors.New("the pushgateway URL does not parse (it is not shown: it may hold credentials)")
	}
	user := u.User
	u.User = nil
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", nil, fmt.Errorf("the pushgateway URL %s is not http or https", u.Redacted())
	case u.Host == "":
		return "", nil, fmt.Errorf("the pushgateway URL %s has no host", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
		return "", nil, fmt.Errorf("the pushgateway URL %s must not carry a query or a fragment", u.Redacted())
	}
	return u.String(), user, nil
}
