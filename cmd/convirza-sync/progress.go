package main

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/convirza-sync/convirza-sync/sync/plan"
)

// progress shows how an apply goes: a bar on a TTY, else a structured log
// line every 10 s with done, total, rate and ETA.
type progress struct {
	e     *env
	total int
	count atomic.Int64
	bar   *progressbar.ProgressBar
	stop  chan struct{}
	wg    sync.WaitGroup
	start time.Time
}

const progressEvery = 10 * time.Second

func newProgress(e *env, total int) *progress {
	p := &progress{e: e, total: total, stop: make(chan struct{}), start: time.Now()}
	if total == 0 {
		return p
	}
	if e.stderrTTY {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(e.stderr), progressbar.OptionSetDescription("applying"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("changes"),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.log()
			}
		}
	}()
	return p
}

// add counts one finished change; apply calls it as each change ends.
func (p *progress) add(plan.Result) {
	p.count.Add(1)
	if p.bar != nil {
		_ = p.bar.Add(1)
	}
}

func (p *progress) log() {
	done := p.count.Load()
	el := time.Since(p.start)
	rate := float64(done) / el.Seconds()
	ev := p.e.log.Info().Int64("done", done).Int("total", p.total).Float64("per_second", rate)
	if rate > 0 {
		ev = ev.Str("eta", time.Duration(float64(int64(p.total)-done)/rate*float64(time.Second)).Round(time.Second).String())
	}
	ev.Msg("applying")
}

// done stops the ticker and finishes the bar.
func (p *progress) done() {
	close(p.stop)
	p.wg.Wait()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
