package report

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/go-cmp/cmp"
)

// The browser test drives Debian's chromium through chromedp. On a
// developer's machine without chromium it is skipped, loudly; in CI (CI
// set to true) or with CONVIRZA_SYNC_BROWSER_TEST=required it fails.

// chromiumPath finds a Chromium, or fails or skips the test.
func chromiumPath(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "NO CHROMIUM: the HTML report's browser test did not run. Install it: apt-get install -y chromium"
	if os.Getenv("CI") == "true" || os.Getenv("CONVIRZA_SYNC_BROWSER_TEST") == "required" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

// browser starts a headless Chromium with a fresh profile and nothing
// that calls home; the returned context drives one tab.
func browser(tb testing.TB) context.Context {
	tb.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.ExecPath(chromiumPath(tb)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1280, 1700),
	}
	// No timeout on the browser's own context: it would stop the browser
	// (each step has its own, see step).
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	tb.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	tb.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// writePage writes a rendered page to a temporary file and returns its
// file:// URL.
func writePage(tb testing.TB, name string, render func(*bytes.Buffer) error) string {
	tb.Helper()
	var b bytes.Buffer
	if err := render(&b); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return (&url.URL{Scheme: "file", Path: path}).String()
}

// watch records, for one tab, every request other than the page itself
// and every dialog (alert, confirm) the page opens.
type watch struct {
	mu       sync.Mutex
	requests []string
	dialogs  []string
}

func (w *watch) listen(ctx context.Context, pageURL string) {
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			if ev.Request.URL != pageURL {
				w.mu.Lock()
				w.requests = append(w.requests, ev.Request.URL)
				w.mu.Unlock()
			}
		}
	}()
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			w.mu.Lock()
			w.dialogs = append(w.dialogs, ev.Message)
			w.mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
}

// probe runs before the page's own script: it records any policy
// violation and any call of alert, so that the test can tell whether the
// XSS fixture ran.
const probe = `window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) { window.__violations.push(e.violatedDirective + ' ' + e.blockedURI); });
window.__xss = 0;
window.alert = function () { window.__xss++; };`

// visibleNames lists the names of the changes a person can see.
const visibleNames = `Array.from(document.querySelectorAll('li.c')).filter(function (e) { return e.checkVisibility(); }).map(function (e) { return e.querySelector('.n').textContent; })`

const visibleGroups = `Array.from(document.querySelectorAll('details.g > summary > .n')).filter(function (e) { return e.checkVisibility(); }).map(function (e) { return e.textContent; })`

// run runs one action within a minute, or fails the test.
func run[T any](tb testing.TB, ctx context.Context, what string, a chromedp.Action[T]) T {
	tb.Helper()
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	return v
}

// do runs actions that return nothing, within a minute, or fails the test.
func do(tb testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	run(tb, ctx, what, chromedp.Steps(steps...))
}

// open starts watching a tab, installs the probe and opens the page.
func open(t *testing.T, ctx context.Context, pageURL string) *watch {
	t.Helper()
	w := &watch{}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("enable network events: %v", err)
	}
	w.listen(ctx, pageURL)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: probe}); err != nil {
		t.Fatalf("install the probe: %v", err)
	}
	// #flt is shown by the page's own script: waiting for it proves the
	// policy let the script run.
	do(t, ctx, "open the report", chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.CSS(`#flt`)))
	return w
}

// check asserts that the page made no request, opened no dialog, broke
// no policy and ran no injected script, and shows the XSS names as text.
func (w *watch) check(t *testing.T, ctx context.Context) {
	t.Helper()
	if n := run(t, ctx, "count alerts", chromedp.Evaluate[int](`window.__xss`)); n != 0 {
		t.Errorf("the XSS fixture ran: %d alerts", n)
	}
	if n := run(t, ctx, "count images", chromedp.Evaluate[int](`document.querySelectorAll('img').length`)); n != 0 {
		t.Errorf("the XSS fixture made %d <img> elements", n)
	}
	if v := run(t, ctx, "read violations", chromedp.Evaluate[[]string](`window.__violations`)); len(v) > 0 {
		t.Errorf("Content-Security-Policy violations: %q", v)
	}
	text := run(t, ctx, "read the text", chromedp.Evaluate[string](`document.body.textContent`))
	for _, name := range []string{xssName, "<script>alert(1)</script>"} {
		if !strings.Contains(text, name) {
			t.Errorf("the page does not show the name %q as text", name)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.requests) > 0 || len(w.dialogs) > 0 {
		t.Errorf("the page made requests %q and opened dialogs %q", w.requests, w.dialogs)
	}
}

func TestHTMLInBrowser(t *testing.T) {
	ctx := browser(t)
	p := htmlPlan()
	pageURL := writePage(t, "plan.html", func(b *bytes.Buffer) error { return HTML(b, p, htmlOptions()) })
	w := open(t, ctx, pageURL)
	shot := run(t, ctx, "screenshot", chromedp.CaptureScreenshot())

	names := func() []string {
		t.Helper()
		return run(t, ctx, "list the visible changes", chromedp.Evaluate[[]string](visibleNames))
	}
	groups := func() []string {
		t.Helper()
		return run(t, ctx, "list the visible groups", chromedp.Evaluate[[]string](visibleGroups))
	}
	click := func(sel chromedp.CSS) {
		t.Helper()
		do(t, ctx, "click "+string(sel), chromedp.Click(sel, chromedp.NodeVisible))
	}
	has := func(list []string, s string) bool { return slices.Contains(list, s) }

	all := names()
	if want := len(p.Changes) + len(p.Refused); len(all) != want {
		t.Errorf("%d changes visible on load, want all %d: %q", len(all), want, all)
	}

	// Collapse the East Region branch, then expand it again.
	east := chromedp.Search(`//details[summary/b[text()="East Region"]]/summary`)
	do(t, ctx, "collapse East Region", chromedp.Click(east, chromedp.NodeVisible))
	if got := names(); has(got, "jane@example.com") || has(got, "Back Bay") || has(got, "East Region") || !has(got, "Old Store") {
		t.Errorf("after collapsing East Region, visible: %q", got)
	}
	do(t, ctx, "expand East Region", chromedp.Click(east, chromedp.NodeVisible))
	if got := names(); !has(got, "jane@example.com") || !has(got, "Back Bay") {
		t.Errorf("after expanding East Region, visible: %q", got)
	}

	// Deletes only: untick every other action.
	acts := run(t, ctx, "list the actions", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('input[name=a]')).map(function (e) { return e.value; })`))
	for _, a := range acts {
		if a != "delete" {
			click(chromedp.CSS(`input[name=a][value="` + a + `"]`))
		}
	}
	if diff := cmp.Diff([]string{"Old Store"}, names()); diff != "" {
		t.Errorf("deletes only, visible changes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Acme Holdings", "West Region"}, groups()); diff != "" {
		t.Errorf("deletes only, visible groups (-want +got):\n%s", diff)
	}
	for _, a := range acts {
		if a != "delete" {
			click(chromedp.CSS(`input[name=a][value="` + a + `"]`))
		}
	}
	if got := names(); len(got) != len(all) {
		t.Errorf("every action ticked again: %d changes visible, want %d", len(got), len(all))
	}

	// Search for one ext id.
	do(t, ctx, "search", chromedp.SendKeys(chromedp.CSS(`#q`), "bos-2"), chromedp.Sleep(400*time.Millisecond))
	if diff := cmp.Diff([]string{"Back Bay"}, names()); diff != "" {
		t.Errorf("search bos-2, visible changes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Acme Holdings", "East Region", "Back Bay"}, groups()); diff != "" {
		t.Errorf("search bos-2, visible groups (-want +got):\n%s", diff)
	}
	shown := run(t, ctx, "read the counter", chromedp.Evaluate[string](`document.getElementById('shown').textContent`))
	if want := fmt.Sprintf("Showing 1 of %d changes.", len(all)); shown != want {
		t.Errorf("counter %q, want %q", shown, want)
	}

	// Collapse all hides every change of the tree; expand all shows them.
	do(t, ctx, "clear the search", chromedp.Focus(chromedp.CSS(`#q`)),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('q').select()`),
		chromedp.KeyEvent(kb.Backspace), chromedp.Sleep(400*time.Millisecond))
	if got := names(); len(got) != len(all) {
		t.Errorf("search cleared: %d changes visible, want %d", len(got), len(all))
	}
	click(chromedp.CSS(`#collapse`))
	if got := names(); len(got) != len(p.Refused) {
		t.Errorf("after collapse all, visible: %q (want only the refused list)", got)
	}
	click(chromedp.CSS(`#expand`))
	if got := names(); len(got) != len(all) {
		t.Errorf("after expand all: %d visible, want %d", len(got), len(all))
	}

	w.check(t, ctx)
	compareScreenshot(t, "report.png", shot)
}

// TestHTMLResultsInBrowser opens the results page: failures first, with
// their request ids, a link to each change in the tree, and nothing loaded.
func TestHTMLResultsInBrowser(t *testing.T) {
	ctx := browser(t)
	pageURL := writePage(t, "results.html", func(b *bytes.Buffer) error {
		return ResultsHTML(b, htmlPlan(), richResults(), htmlOptions())
	})
	w := open(t, ctx, pageURL)
	rows := run(t, ctx, "read the outcomes", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('table.res tbody tr')).map(function (r) { return (r.cells[1].textContent + ' ' + r.cells[8].textContent).trim(); })`))
	want := []string{"failed req-7f3a", "failed -req-1", "blocked", "skipped", "deactivated", "updated req-0006", "updated"}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("result rows (-want +got):\n%s", diff)
	}
	do(t, ctx, "follow the link of change 7", chromedp.Click(chromedp.CSS(`table.res a[href="#c7"]`), chromedp.NodeVisible))
	if o := run(t, ctx, "read change 7", chromedp.Evaluate[string](`document.getElementById('c7').querySelector('.o').textContent`)); o != "failed" {
		t.Errorf("change 7 in the tree shows %q, want failed", o)
	}
	w.check(t, ctx)
}

// compareScreenshot compares a screenshot with its reviewed golden image
// in testdata/, leniently: the same size, and at most 5% of 16×16 blocks
// whose mean brightness differs by more than 12%. -update rewrites it.
func compareScreenshot(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Cleanup(func() {
		if t.Failed() {
			out := filepath.Join(os.TempDir(), "convirza-sync-"+name)
			_ = os.WriteFile(out, got, 0o644)
			t.Logf("this run's screenshot: %s", out)
		}
	})
	wantB, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden image %s (run go test ./sync/report -update, then review it): %v", path, err)
	}
	want, err := png.Decode(bytes.NewReader(wantB))
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	img, err := png.Decode(bytes.NewReader(got))
	if err != nil {
		t.Fatalf("decode the screenshot: %v", err)
	}
	if want.Bounds().Size() != img.Bounds().Size() {
		t.Fatalf("screenshot is %v, the golden image %v", img.Bounds().Size(), want.Bounds().Size())
	}
	const block = 16
	size := img.Bounds().Size()
	blocks, differ := 0, 0
	for y := 0; y < size.Y; y += block {
		for x := 0; x < size.X; x += block {
			r := image.Rect(x, y, min(x+block, size.X), min(y+block, size.Y))
			a, b := meanLuma(want, r.Add(want.Bounds().Min)), meanLuma(img, r.Add(img.Bounds().Min))
			blocks++
			if d := a - b; d > 0.12 || d < -0.12 {
				differ++
			}
		}
	}
	if differ*100 > blocks*5 {
		t.Errorf("the screenshot differs from %s in %d of %d blocks (more than 5%%); review it, then go test ./sync/report -update", path, differ, blocks)
	}
}

func meanLuma(img image.Image, r image.Rectangle) float64 {
	var sum float64
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			sum += (0.299*float64(cr) + 0.587*float64(cg) + 0.114*float64(cb)) / 0xffff
			n++
		}
	}
	return sum / float64(n)
}

// BenchmarkHTMLChromiumLoad opens the HTML report of 10,000 and 100,000
// changes in headless Chromium and reports the file's size and the time
// from navigation start to the end of the load event, as Chromium's
// Navigation Timing measures it. "100,000-uncapped" draws every change,
// to show what the fold saves.
func BenchmarkHTMLChromiumLoad(b *testing.B) {
	ctx := browser(b)
	for _, tt := range []struct {
		name   string
		n, max int
	}{{"10,000", 10000, 0}, {"100,000", 100000, 0}, {"100,000-uncapped", 100000, -1}} {
		b.Run(tt.name, func(b *testing.B) {
			var size int
			pageURL := writePage(b, "big.html", func(buf *bytes.Buffer) error {
				err := HTML(buf, bigPlan(tt.n), HTMLOptions{MaxTreeChanges: tt.max})
				size = buf.Len()
				return err
			})
			var total float64
			for b.Loop() {
				do(b, ctx, "open", chromedp.Navigate(pageURL))
				total += run(b, ctx, "read the load time", chromedp.Poll[float64](`performance.getEntriesByType('navigation')[0].loadEventEnd`))
				do(b, ctx, "leave", chromedp.Navigate("about:blank"))
			}
			b.ReportMetric(total/float64(b.N), "load-ms")
			b.ReportMetric(float64(size)/(1<<20), "MiB")
		})
	}
}
